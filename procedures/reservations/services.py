"""Writes on reservations: bookings (never overbooked), cancellations, changes, waitlists.

Capacity (STYLE.md rule 5): every path that takes places — a resident confirming in chat,
staff booking for a phone caller, a change, an accepted waitlist offer — goes through
`_take_places`, which locks the slot's capacity row once, just before counting, and
inserts the booking in the same transaction. Two transactions for one slot therefore
count one after the other; the PostgreSQL race test proves it (and that it fails with
`LOCK_SLOTS = False`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govtech.models import User
from govtech.publish import publish_task_on_commit
from govtech.services import ServiceError, audit_log
from procedures.reservations.models import (
    HOLDING_STATUSES,
    Booking,
    BookingSource,
    BookingStatus,
    OfferStatus,
    Resource,
    Slot,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from procedures.reservations.notices import booking_cancelled_notify, waitlist_offer_notify
from procedures.reservations.schedule import TOKYO
from procedures.reservations.selectors import (
    SlotAvailability,
    nearest_alternatives,
    resident_active_counts,
    slot_end,
    slot_is_scheduled,
    taken_places,
)
from procedures.residents.models import Resident

OFFER_FREED_PLACE_TASK = "procedures.reservations.offer_freed_place"

# Only the concurrency test turns this off, to show the race the lock prevents.
LOCK_SLOTS = True


class BookingRefused(ServiceError):
    """The booking cannot be made; the message is safe to show to the resident."""


class SlotFull(BookingRefused):
    """Not enough places left (or the slot is blocked); `alternatives` are the nearest free."""

    def __init__(self, message: str, alternatives: list[SlotAvailability]):
        super().__init__(message)
        self.alternatives = alternatives


@dataclass(frozen=True)
class BookingRequest:
    resource: Resource
    starts_at: datetime
    party_size: int = 1
    resident: Resident | None = None
    source: str = BookingSource.LINE
    contact_name: str = ""
    contact_phone: str = ""


def slot_row(*, resource: Resource, starts_at: datetime) -> Slot:
    """The capacity row of a scheduled slot, created on first use (safe under races)."""
    ends_at = slot_end(resource=resource, starts_at=starts_at)
    if ends_at is None:
        raise BookingRefused(_("This time is not one of the bookable slots."))
    slot, _created = Slot.objects.get_or_create(
        resource=resource,
        starts_at=starts_at,
        defaults={
            "municipality": resource.municipality,
            "ends_at": ends_at,
            "capacity": resource.capacity,
        },
    )
    return slot


def _check_rules(request: BookingRequest, now: datetime, *, replacing: Booking | None) -> None:
    resource = request.resource
    if not 1 <= request.party_size <= max(resource.max_party_size, 1):
        raise BookingRefused(_("This party size cannot be booked."))
    if not slot_is_scheduled(resource=resource, starts_at=request.starts_at, now=now):
        raise BookingRefused(
            _("This time cannot be booked (closed, or outside the booking period).")
        )
    if not request.resident:
        return
    day = request.starts_at.astimezone(TOKYO).date()
    active, on_day = resident_active_counts(
        resident=request.resident, resource=resource, day=day, now=now
    )
    if replacing is not None:
        active -= 1
        same_day = replacing.slot.starts_at.astimezone(TOKYO).date() == day
        on_day -= 1 if same_day else 0
    if active >= resource.max_active_per_resident:
        raise BookingRefused(_("You already have the maximum number of bookings."))
    if on_day >= resource.max_per_day_per_resident:
        raise BookingRefused(_("You already have a booking on this day."))


def _take_places(
    request: BookingRequest, now: datetime, *, held_offer: WaitlistOffer | None = None
) -> Booking:
    """Lock the slot row (once, late), count, insert. Call inside a transaction."""
    resource = request.resource
    slot = slot_row(resource=resource, starts_at=request.starts_at)
    rows = Slot.objects.select_for_update() if LOCK_SLOTS else Slot.objects.all()
    slot = rows.get(pk=slot.pk)
    places = resource.places_for(request.party_size)
    taken = taken_places(slot_ids=[slot.pk], now=now)[slot.pk]
    if held_offer is not None:
        taken -= held_offer.entry.party_size  # the place held for this resident
    if slot.is_blocked or taken + places > slot.capacity:
        alternatives = nearest_alternatives(
            resource=resource, starts_at=request.starts_at, now=now, places=places
        )
        raise SlotFull(_("Sorry, this slot has just been filled."), alternatives)
    return Booking.objects.create(
        municipality=resource.municipality,
        resource=resource,
        slot=slot,
        resident=request.resident,
        party_size=request.party_size,
        places=places,
        source=request.source,
        contact_name=request.contact_name,
        contact_phone=request.contact_phone,
    )


def booking_create(
    *, request: BookingRequest, now: datetime | None = None, actor: User | None = None
) -> Booking:
    """Book places in a slot, or raise BookingRefused / SlotFull (with alternatives).

    Atomic; the slot's capacity row is locked just before counting, so concurrent
    bookings can never exceed the capacity. Staff bookings (phone callers) are audited.
    """
    now = now or timezone.now()
    with transaction.atomic():
        _check_rules(request, now, replacing=None)
        booking = _take_places(request, now)
        if actor is not None:
            booking.created_by = actor
            booking.save(update_fields=["created_by"])
    if actor is not None:
        audit_log(actor, "procedures.booking.created", booking, {"source": request.source})
    return booking


def booking_attach_submission(*, booking: Booking, submission) -> None:
    booking.submission = submission
    booking.save(update_fields=["submission"])


def booking_cancel(
    *, booking: Booking, actor: User | None = None, now: datetime | None = None, message: str = ""
) -> Booking:
    """Cancel a booking and release its places; a waitlist offer follows after commit.

    Idempotent: cancelling a cancelled booking changes nothing. Staff cancellations are
    audited and the resident is told (with `message`) through the outbox, written in
    the same transaction and sent after commit.
    """
    now = now or timezone.now()
    with transaction.atomic():
        updated = Booking.objects.filter(pk=booking.pk, status=BookingStatus.CONFIRMED).update(
            status=BookingStatus.CANCELLED, cancelled_at=now
        )
        booking.refresh_from_db()
        if updated:
            publish_task_on_commit(
                OFFER_FREED_PLACE_TASK, booking.slot_id, municipality_id=booking.municipality_id
            )
            if actor is not None:
                booking_cancelled_notify(booking=booking, message=message)
    if updated and actor is not None:
        audit_log(actor, "procedures.booking.cancelled", booking, {"message": message})
    return booking


def booking_change(
    *, booking: Booking, starts_at: datetime, now: datetime | None = None
) -> Booking:
    """Move a booking to another slot: the new place is secured before the old is released.

    One transaction: when the new slot is full (SlotFull) the old booking is untouched.
    """
    now = now or timezone.now()
    request = BookingRequest(
        resource=booking.resource,
        starts_at=starts_at,
        party_size=booking.party_size,
        resident=booking.resident,
        source=booking.source,
        contact_name=booking.contact_name,
        contact_phone=booking.contact_phone,
    )
    with transaction.atomic():
        _check_rules(request, now, replacing=booking)
        new = _take_places(request, now)
        new.submission_id = booking.submission_id
        new.save(update_fields=["submission"])
        booking_cancel(booking=booking, now=now)
    return new


def booking_mark_attendance(*, booking: Booking, actor: User, attended: bool) -> Booking:
    """Record whether the resident came (staff). Audited.

    Only a booking that holds its places can be marked (a conditional update): a
    cancelled booking raises BookingRefused, since marking it would take places back
    without the slot lock.
    """
    status = BookingStatus.ATTENDED if attended else BookingStatus.NO_SHOW
    updated = Booking.objects.filter(pk=booking.pk, status__in=HOLDING_STATUSES).update(
        status=status
    )
    booking.refresh_from_db()
    if not updated:
        raise BookingRefused(_("A cancelled booking cannot be marked."))
    audit_log(actor, "procedures.booking.attendance", booking, {"attended": attended})
    return booking


def slot_block(*, resource: Resource, starts_at: datetime, actor: User, blocked: bool = True):
    """Close (or reopen) one slot for new bookings; existing bookings stay. Audited."""
    with transaction.atomic():
        slot = slot_row(resource=resource, starts_at=starts_at)
        Slot.objects.filter(pk=slot.pk).update(is_blocked=blocked)
        slot.refresh_from_db()
    audit_log(actor, "procedures.slot.blocked" if blocked else "procedures.slot.unblocked", slot)
    return slot


# --- waitlist ------------------------------------------------------------------------------


def waitlist_join(
    *,
    resource: Resource,
    starts_at: datetime,
    resident: Resident,
    party_size: int = 1,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Put a resident on a slot's waitlist (once: joining twice returns the same entry).

    Only slots still inside the booking window can be waited for (BookingRefused
    otherwise). Books nothing. If places were freed between the resident seeing the slot
    full and joining, the offer task runs after commit, so nobody waits for a free place.
    """
    now = now or timezone.now()
    if not slot_is_scheduled(resource=resource, starts_at=starts_at, now=now):
        raise BookingRefused(
            _("This time cannot be booked (closed, or outside the booking period).")
        )
    with transaction.atomic():
        slot = slot_row(resource=resource, starts_at=starts_at)
        entry, created = WaitlistEntry.objects.get_or_create(
            slot=slot,
            resident=resident,
            status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED],
            defaults={
                "municipality": resource.municipality,
                "party_size": party_size,
                "status": WaitlistStatus.WAITING,
                "created_at": now,
            },
        )
        if created:
            publish_task_on_commit(
                OFFER_FREED_PLACE_TASK, slot.pk, municipality_id=slot.municipality_id
            )
    return entry


def waitlist_offer_next(*, slot_id: int, now: datetime | None = None) -> WaitlistOffer | None:
    """Offer a freed place to the first waiting resident it fits, held for a while.

    Locks the slot row like a booking does (the offer holds places), so a place is never
    both booked and offered. Returns None when nobody waits or nothing is free. The
    resident is told through the outbox (written here, sent after commit).
    """
    now = now or timezone.now()
    with transaction.atomic():
        slot = Slot.objects.select_for_update().select_related("resource").get(pk=slot_id)
        if slot.is_blocked or slot.starts_at <= now:
            return None
        free = slot.capacity - taken_places(slot_ids=[slot.pk], now=now)[slot.pk]
        waiting = WaitlistEntry.objects.filter(slot=slot, status=WaitlistStatus.WAITING)
        entry = next((e for e in waiting if slot.resource.places_for(e.party_size) <= free), None)
        if entry is None:
            return None
        entry.status = WaitlistStatus.OFFERED
        entry.save(update_fields=["status"])
        offer = WaitlistOffer.objects.create(
            municipality=slot.municipality,
            entry=entry,
            slot=slot,
            offered_at=now,
            expires_at=now + timedelta(minutes=slot.resource.offer_hold_minutes),
            notified=True,
        )
        waitlist_offer_notify(offer=offer)
    return offer


def _close_offer(offer: WaitlistOffer, status: str, now: datetime) -> bool:
    """Decide a pending offer once (conditional update); False when already decided."""
    done = WaitlistOffer.objects.filter(pk=offer.pk, status=OfferStatus.PENDING).update(
        status=status, decided_at=now
    )
    offer.refresh_from_db()
    return bool(done)


def waitlist_offer_accept(*, offer: WaitlistOffer, now: datetime | None = None) -> Booking:
    """Book the held place for the resident. Raises BookingRefused when the offer is over."""
    now = now or timezone.now()
    entry = offer.entry
    request = BookingRequest(
        resource=offer.slot.resource,
        starts_at=offer.slot.starts_at,
        party_size=entry.party_size,
        resident=entry.resident,
    )
    with transaction.atomic():
        if offer.status != OfferStatus.PENDING or offer.expires_at <= now:
            raise BookingRefused(_("This offer is no longer valid."))
        _check_rules(request, now, replacing=None)
        booking = _take_places(request, now, held_offer=offer)
        if not _close_offer(offer, OfferStatus.ACCEPTED, now):
            raise BookingRefused(_("This offer is no longer valid."))
        WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistStatus.BOOKED)
    return booking


def waitlist_offer_decline(*, offer: WaitlistOffer, now: datetime | None = None) -> None:
    """The resident declines: the offer is recorded and the place goes to the next."""
    _offer_release(offer, OfferStatus.DECLINED, now or timezone.now())


def waitlist_offers_expire(*, now: datetime | None = None) -> int:
    """Expire offers past their hold time and offer those places to the next residents."""
    now = now or timezone.now()
    expired = list(WaitlistOffer.objects.filter(status=OfferStatus.PENDING, expires_at__lte=now))
    for offer in expired:
        _offer_release(offer, OfferStatus.EXPIRED, now)
    return len(expired)


def _offer_release(offer: WaitlistOffer, status: str, now: datetime) -> None:
    with transaction.atomic():
        if not _close_offer(offer, status, now):
            return
        WaitlistEntry.objects.filter(pk=offer.entry_id).update(status=WaitlistStatus.LEFT)
    waitlist_offer_next(slot_id=offer.slot_id, now=now)
