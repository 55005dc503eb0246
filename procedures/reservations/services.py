"""Writes on reservations: bookings (never overbooked), cancellations, changes, waitlists.

Capacity (STYLE.md rule 5, decision 0020): a slot's `taken` counter is the check. Every
path that takes places — a resident confirming in chat, staff booking for a phone caller,
a change — writes its booking row first, then takes the places with one conditional
UPDATE (`_claim`: `taken = taken + n WHERE taken + n <= capacity`), its last statement
before COMMIT, so the slot's row lock lasts from that statement to the commit and no
longer. Every path that gives places back (a cancellation, a change, an offer declined or
expired) decrements the counter in the transaction that changes the rows it counts, and
offers the freed places to the waiting residents they fit before that lock is released:
nobody racing for a freed place can jump the waitlist. The PostgreSQL race test proves
that nothing is overbooked, and that the same race overbooks when the UPDATE is unguarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from govtech.models import User
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
from procedures.reservations.schedule import TOKYO, SlotTime
from procedures.reservations.selectors import (
    SlotAvailability,
    held_places,
    nearest_alternatives,
    resident_active_counts,
    scheduled_slot,
    slot_end,
    slot_is_scheduled,
)
from procedures.residents.models import Resident


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


def slot_row(*, resource: Resource, starts_at: datetime, ends_at: datetime | None = None) -> Slot:
    """The capacity row of a scheduled slot, created on first use (safe under races).

    `ends_at` when the caller already knows the slot's end (saves reading the rules)."""
    ends_at = ends_at or slot_end(resource=resource, starts_at=starts_at)
    if ends_at is None:
        # Translators: residents read this.
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


def _claim(slot_id: int, places: int) -> bool:
    """Take `places` of an open slot if they fit: one conditional UPDATE, True if taken.

    PostgreSQL re-checks the condition on the latest row after waiting for a concurrent
    writer, so two claims for the last place cannot both succeed; the row stays locked
    until the caller's transaction ends, which is why callers claim last.
    """
    fits = Slot.objects.filter(pk=slot_id, is_blocked=False, taken__lte=F("capacity") - places)
    return fits.update(taken=F("taken") + places) == 1


def _check_rules(request: BookingRequest, now: datetime, *, replacing: Booking | None) -> SlotTime:
    """The slot asked for, when the rules allow this booking; BookingRefused otherwise."""
    resource = request.resource
    if not 1 <= request.party_size <= max(resource.max_party_size, 1):
        # Translators: residents read this.
        raise BookingRefused(_("This party size cannot be booked."))
    scheduled = scheduled_slot(resource=resource, starts_at=request.starts_at, now=now)
    if scheduled is None:
        raise BookingRefused(
            # Translators: residents read this.
            _("This time cannot be booked (closed, or outside the booking period).")
        )
    if request.resident:
        _check_resident_limits(request, request.resident, now, replacing=replacing)
    return scheduled


def _check_resident_limits(
    request: BookingRequest, resident: Resident, now: datetime, *, replacing: Booking | None
) -> None:
    resource = request.resource
    day = request.starts_at.astimezone(TOKYO).date()
    active, on_day = resident_active_counts(resident=resident, resource=resource, day=day, now=now)
    if replacing is not None:
        active -= 1
        same_day = replacing.slot.starts_at.astimezone(TOKYO).date() == day
        on_day -= 1 if same_day else 0
    if active >= resource.max_active_per_resident:
        # Translators: residents read this.
        raise BookingRefused(_("You already have the maximum number of bookings."))
    if on_day >= resource.max_per_day_per_resident:
        # Translators: residents read this.
        raise BookingRefused(_("You already have a booking on this day."))


def _slot_full(request: BookingRequest, now: datetime, places: int) -> SlotFull:
    alternatives = nearest_alternatives(
        resource=request.resource, starts_at=request.starts_at, now=now, places=places
    )
    # Translators: residents read this.
    return SlotFull(_("Sorry, this slot has just been filled."), alternatives)


def _open_slot(request: BookingRequest, scheduled: SlotTime, now: datetime) -> tuple[Slot, int]:
    """The slot's row and the places the request takes; SlotFull at once when the row
    read shows too few (an unlocked read: only `_claim` decides, but a full slot costs
    the rush no insert)."""
    slot = slot_row(
        resource=request.resource, starts_at=scheduled.starts_at, ends_at=scheduled.ends_at
    )
    places = request.resource.places_for(request.party_size)
    if slot.is_blocked or slot.taken + places > slot.capacity:
        raise _slot_full(request, now, places)
    return slot, places


def _insert(request: BookingRequest, slot: Slot, places: int, **fields: Any) -> Booking:
    return Booking.objects.create(
        municipality=request.resource.municipality,
        resource=request.resource,
        slot=slot,
        resident=request.resident,
        party_size=request.party_size,
        places=places,
        source=request.source,
        contact_name=request.contact_name,
        contact_phone=request.contact_phone,
        **fields,
    )


def booking_create(
    *, request: BookingRequest, now: datetime | None = None, actor: User | None = None
) -> Booking:
    """Book places in a slot, or raise BookingRefused / SlotFull (with alternatives).

    Atomic: the booking is inserted, then its places are claimed with one conditional
    UPDATE of the slot's counter (the transaction's last statement), so concurrent
    bookings can never exceed the capacity and each holds the slot's row lock only from
    that UPDATE to its commit. Staff bookings (phone callers) are audited.
    """
    now = now or timezone.now()
    with transaction.atomic():
        scheduled = _check_rules(request, now, replacing=None)
        slot, places = _open_slot(request, scheduled, now)
        booking = _insert(request, slot, places, created_by=actor)
        if not _claim(slot.pk, places):
            raise _slot_full(request, now, places)  # rolls the insert back
    if actor is not None:
        audit_log(actor, "procedures.booking.created", booking, {"source": request.source})
    return booking


def booking_attach_submission(*, booking: Booking, submission) -> None:
    booking.submission = submission
    booking.save(update_fields=["submission"])


def _release(slot_id: int, places: int, now: datetime) -> list[WaitlistOffer]:
    """Give `places` back to the slot, then offer them to the residents waiting for it
    (under the row lock the decrement took, so nobody booking meanwhile can take them
    first). Call inside the transaction that stops counting the rows that held them."""
    Slot.objects.filter(pk=slot_id).update(taken=F("taken") - places)
    return _offer_free_places(slot_id, now)


def _cancel_row(booking: Booking, now: datetime) -> bool:
    """Mark a confirmed booking cancelled (conditional update); False if it was not."""
    updated = Booking.objects.filter(pk=booking.pk, status=BookingStatus.CONFIRMED).update(
        status=BookingStatus.CANCELLED, cancelled_at=now
    )
    booking.refresh_from_db()
    return bool(updated)


def booking_cancel(
    *, booking: Booking, actor: User | None = None, now: datetime | None = None, message: str = ""
) -> Booking:
    """Cancel a booking and release its places to the slot's waitlist first.

    Idempotent: cancelling a cancelled booking changes nothing. The freed places are
    offered to the waiting residents they fit in the same transaction (their notices go
    through the outbox). Staff cancellations are audited and the resident is told (with
    `message`) through the outbox, written in the same transaction and sent after commit.
    """
    now = now or timezone.now()
    with transaction.atomic():
        cancelled = _cancel_row(booking, now)
        if cancelled:
            if actor is not None:
                booking_cancelled_notify(booking=booking, message=message)
            _release(booking.slot_id, booking.places, now)
    if cancelled and actor is not None:
        audit_log(actor, "procedures.booking.cancelled", booking, {"message": message})
    return booking


def booking_change(
    *, booking: Booking, starts_at: datetime, now: datetime | None = None
) -> Booking:
    """Move a booking to another slot: the new place is secured before the old is released.

    One transaction: when the new slot is full (SlotFull) the old booking is untouched;
    when the old booking is no longer confirmed (a second tap), BookingRefused and no new
    booking. The two counters change in slot id order, so two changes crossing between
    the same two slots wait for each other instead of deadlocking.
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
        scheduled = _check_rules(request, now, replacing=booking)
        slot, places = _open_slot(request, scheduled, now)
        new = _insert(request, slot, places, submission_id=booking.submission_id)
        if not _cancel_row(booking, now):
            # Translators: residents read this.
            raise BookingRefused(_("This booking cannot be found or has already been cancelled."))
        if not _move_places(slot.pk, places, booking, now):
            raise _slot_full(request, now, places)
    return new


def _move_places(slot_id: int, places: int, old: Booking, now: datetime) -> bool:
    """Claim the new slot's places and release the old booking's, lower slot id first."""
    if slot_id == old.slot_id:  # the same places, unless the capacity unit changed since
        if places > old.places:
            return _claim(slot_id, places - old.places)
        if places < old.places:
            _release(slot_id, old.places - places, now)
        return True
    if slot_id < old.slot_id:
        if not _claim(slot_id, places):
            return False
        _release(old.slot_id, old.places, now)
        return True
    _release(old.slot_id, old.places, now)
    return _claim(slot_id, places)


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
    """Close (or reopen) one slot for new bookings; existing bookings stay. A reopened
    slot's free places go to its waiting residents first. Audited."""
    with transaction.atomic():
        slot = slot_row(resource=resource, starts_at=starts_at)
        Slot.objects.filter(pk=slot.pk).update(is_blocked=blocked)
        if not blocked:
            _offer_free_places(slot.pk, timezone.now())
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
    otherwise). Books nothing. The entry is written under the slot's row lock, so the
    waitlist's order (by id) is the order residents joined in; if places were freed
    between the resident seeing the slot full and joining, they are offered at once.
    """
    now = now or timezone.now()
    if not slot_is_scheduled(resource=resource, starts_at=starts_at, now=now):
        raise BookingRefused(
            _("This time cannot be booked (closed, or outside the booking period).")
        )
    with transaction.atomic():
        slot = _locked_slot(slot_row(resource=resource, starts_at=starts_at).pk)
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
            _offer_free_places(slot.pk, now)
            entry.refresh_from_db()
    return entry


def _locked_slot(slot_id: int) -> Slot:
    """The slot's row, locked until the transaction ends (FOR NO KEY UPDATE: the lock
    `_claim` takes, which never waits for bookings merely inserted in the slot)."""
    return (
        Slot.objects.select_for_update(no_key=True, of=("self",))
        .select_related("resource")
        .get(pk=slot_id)
    )


def _offer_free_places(slot_id: int, now: datetime) -> list[WaitlistOffer]:
    """Offer the slot's free places to the waiting residents they fit, in the order they
    joined, each held for a while; the offers' places are taken from the counter.

    Locks the slot row like a booking does, so a place is never both booked and offered.
    Nothing for a blocked or past slot. The residents are told through the outbox.
    """
    slot = _locked_slot(slot_id)
    if slot.is_blocked or slot.starts_at <= now or slot.taken >= slot.capacity:
        return []
    free, offers = slot.capacity - slot.taken, []
    waiting = WaitlistEntry.objects.filter(slot=slot, status=WaitlistStatus.WAITING)
    for entry in waiting.select_related("resident").order_by("id"):
        places = slot.resource.places_for(entry.party_size)
        if places <= free:
            offers.append(_offer(slot, entry, now))
            free -= places
    if offers:
        Slot.objects.filter(pk=slot.pk).update(taken=slot.capacity - free)
    return offers


def _offer(slot: Slot, entry: WaitlistEntry, now: datetime) -> WaitlistOffer:
    WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistStatus.OFFERED)
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


def waitlist_offer_next(*, slot_id: int, now: datetime | None = None) -> list[WaitlistOffer]:
    """Recount the slot's counter from its rows, then offer its free places to the
    waiting residents they fit, in order (see `_offer_free_places`); the offers made.

    For places freed outside this module (a resident's data erased with their bookings):
    the recount, under the slot's row lock, sets the counter to what the rows hold.
    """
    now = now or timezone.now()
    with transaction.atomic():
        slot = _locked_slot(slot_id)
        Slot.objects.filter(pk=slot.pk).update(taken=held_places(resource=slot.resource))
        return _offer_free_places(slot.pk, now)


def _close_offer(offer: WaitlistOffer, status: str, now: datetime) -> bool:
    """Decide a pending offer once (conditional update); False when already decided."""
    done = WaitlistOffer.objects.filter(pk=offer.pk, status=OfferStatus.PENDING).update(
        status=status, decided_at=now
    )
    offer.refresh_from_db()
    return bool(done)


def waitlist_offer_accept(*, offer: WaitlistOffer, now: datetime | None = None) -> Booking:
    """Book the held place for the resident. Raises BookingRefused when the offer is over,
    SlotFull (with alternatives) when staff blocked the slot meanwhile.

    The offer's places were taken when it was made: the booking takes them over, the
    counter does not change.
    """
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
            # Translators: residents read this.
            raise BookingRefused(_("This offer is no longer valid."))
        _check_rules(request, now, replacing=None)
        slot = Slot.objects.get(pk=offer.slot_id)
        places = request.resource.places_for(request.party_size)
        if slot.is_blocked:
            raise _slot_full(request, now, places)
        if not _close_offer(offer, OfferStatus.ACCEPTED, now):
            raise BookingRefused(_("This offer is no longer valid."))
        booking = _insert(request, slot, places)
        WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistStatus.BOOKED)
    return booking


def waitlist_offer_decline(*, offer: WaitlistOffer, now: datetime | None = None) -> None:
    """The resident declines: the offer is recorded and the place goes to the next."""
    _offer_release(offer, OfferStatus.DECLINED, now or timezone.now())


def waitlist_offers_expire(*, now: datetime | None = None) -> int:
    """Expire offers past their hold time and offer those places to the next residents.

    An offer past its time keeps its places until this runs (beat, every minute): they
    go to the next waiting resident, not to whoever books first.
    """
    now = now or timezone.now()
    expired = list(WaitlistOffer.objects.filter(status=OfferStatus.PENDING, expires_at__lte=now))
    for offer in expired:
        _offer_release(offer, OfferStatus.EXPIRED, now)
    return len(expired)


def _offer_release(offer: WaitlistOffer, status: str, now: datetime) -> None:
    """Close a pending offer (once) and give its places to the next waiting residents."""
    with transaction.atomic():
        if not _close_offer(offer, status, now):
            return
        WaitlistEntry.objects.filter(pk=offer.entry_id).update(status=WaitlistStatus.LEFT)
        places = offer.slot.resource.places_for(offer.entry.party_size)
        _release(offer.slot_id, places, now)
