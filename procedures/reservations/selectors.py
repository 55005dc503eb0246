"""Reads on reservations. Callers run inside the municipality's tenant scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Expression, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from govtech.models import Municipality
from procedures.models import Procedure
from procedures.reservations.models import (
    HOLDING_STATUSES,
    Booking,
    BookingStatus,
    CapacityUnit,
    Closure,
    OfferStatus,
    Resource,
    Slot,
    WaitlistOffer,
)
from procedures.reservations.schedule import (
    TOKYO,
    SlotTime,
    bookable_slots,
    day_slots,
    is_open_on,
)
from procedures.residents.models import Resident

CHAT_DAYS = 14  # how far ahead the chat offers days


@dataclass(frozen=True)
class SlotAvailability:
    starts_at: datetime
    ends_at: datetime
    capacity: int
    remaining: int
    blocked: bool = False


@dataclass(frozen=True)
class KnownResource:
    """A reservation resource of the municipality a document is checked for."""

    key: str
    name: str
    active: bool


def resource_by_key(*, key: str) -> Resource | None:
    return Resource.objects.filter(key=key, is_active=True).first()


def known_resources(*, municipality: Municipality) -> dict[str, KnownResource]:
    """The municipality's reservation resources by key, active or not, by name.

    What a document's reservation steps are checked against (procedures.format) and what
    the builder offers. Explicitly scoped to ``municipality``: another municipality's
    resource with the same key never counts, whatever scope the caller runs in.
    """
    rows = Resource.objects.with_scope(municipality=municipality).order_by("name", "key")
    return {
        key: KnownResource(key=key, name=name, active=active)
        for key, name, active in rows.values_list("key", "name", "is_active")
    }


def _closed_days(resource: Resource, first: date, days: int) -> set[date]:
    last = first + timedelta(days=days)
    rows = Closure.objects.filter(resource=resource, date__gte=first, date__lt=last)
    return set(rows.values_list("date", flat=True))


def held_places(*, resource: Resource) -> Expression:
    """What a slot's `taken` counter must equal, recounted from the rows, as an expression
    over a `Slot` queryset of `resource`: places of its bookings that hold one, plus
    those of its pending waitlist offers (held until decided). One statement, so one
    snapshot: a booking and the offer it replaced are never both counted, nor neither."""
    bookings = (
        Booking.objects.filter(slot=OuterRef("pk"), status__in=HOLDING_STATUSES)
        .order_by()
        .values("slot")
        .annotate(total=Sum("places"))
        .values("total")
    )
    per_offer = F("entry__party_size") if resource.capacity_unit == CapacityUnit.PEOPLE else 1
    offers = (
        WaitlistOffer.objects.filter(slot=OuterRef("pk"), status=OfferStatus.PENDING)
        .order_by()
        .values("slot")
        .annotate(total=Sum(per_offer))
        .values("total")
    )
    return Coalesce(Subquery(bookings), 0) + Coalesce(Subquery(offers), 0)


def slots_out_of_step(*, resource: Resource) -> list[tuple[int, int, int]]:
    """(slot id, counter, recount) of the resource's slots whose `taken` counter differs
    from the rows it counts; empty when every counter is right."""
    rows = Slot.objects.filter(resource=resource).annotate(recounted=held_places(resource=resource))
    return [
        (pk, taken, recounted)
        for pk, taken, recounted in rows.values_list("pk", "taken", "recounted")
        if taken != recounted
    ]


def slot_availability(
    *, resource: Resource, first: date, days: int, now: datetime
) -> list[SlotAvailability]:
    """Every bookable slot of the period with its capacity and remaining places."""
    rules = list(resource.opening_rules.all())
    times = bookable_slots(resource, rules, _closed_days(resource, first, days), first, days, now)
    if not times:
        return []
    rows = {
        slot.starts_at: slot
        for slot in Slot.objects.filter(
            resource=resource, starts_at__gte=times[0].starts_at, starts_at__lte=times[-1].starts_at
        )
    }
    found = []
    for time_ in times:
        row = rows.get(time_.starts_at)
        capacity = row.capacity if row else resource.capacity
        used = row.taken if row else 0
        blocked = bool(row and row.is_blocked)
        remaining = 0 if blocked else max(capacity - used, 0)
        found.append(SlotAvailability(time_.starts_at, time_.ends_at, capacity, remaining, blocked))
    return found


def scheduled_slot(*, resource: Resource, starts_at: datetime, now: datetime) -> SlotTime | None:
    """The slot starting at `starts_at` when it is one of the resource's slots and inside
    the booking window; None otherwise."""
    day = starts_at.astimezone(TOKYO).date()
    rules, closed = resource.opening_rules.all(), _closed_days(resource, day, 1)
    slots = bookable_slots(resource, rules, closed, day, 1, now)
    return next((s for s in slots if s.starts_at == starts_at), None)


def slot_is_scheduled(*, resource: Resource, starts_at: datetime, now: datetime) -> bool:
    """Whether `starts_at` is one of the resource's slots and inside the booking window."""
    return scheduled_slot(resource=resource, starts_at=starts_at, now=now) is not None


def slot_end(*, resource: Resource, starts_at: datetime) -> datetime | None:
    day = starts_at.astimezone(TOKYO).date()
    for time_ in day_slots(resource, resource.opening_rules.all(), day):
        if time_.starts_at == starts_at:
            return time_.ends_at
    return None


def nearest_alternatives(
    *, resource: Resource, starts_at: datetime, now: datetime, places: int = 1, limit: int = 3
) -> list[SlotAvailability]:
    """Free slots closest in time to the one wanted (before or after), nearest first."""
    first = max(now.astimezone(TOKYO).date(), starts_at.astimezone(TOKYO).date() - timedelta(7))
    free = [
        s
        for s in slot_availability(resource=resource, first=first, days=15, now=now)
        if s.remaining >= places and s.starts_at != starts_at
    ]
    free.sort(key=lambda s: abs((s.starts_at - starts_at).total_seconds()))
    return free[:limit]


def engine_availability(*, keys: Iterable[str], now: datetime) -> dict[str, dict]:
    """What reservation steps show, per resource key: plain JSON for the pure engine."""
    found = {}
    for key in set(keys):
        resource = resource_by_key(key=key)
        if resource is None:
            continue
        today = now.astimezone(TOKYO).date()
        slots = slot_availability(resource=resource, first=today, days=CHAT_DAYS, now=now)
        found[key] = {
            "name": {"ja": resource.name, "en": resource.name_en or resource.name},
            "max_party": resource.max_party_size,
            "unit": resource.capacity_unit,
            "days": _by_day(slots),
        }
    return found


def _by_day(slots: list[SlotAvailability]) -> list[dict]:
    days: dict[str, list[dict]] = {}
    for slot in slots:
        start, end = slot.starts_at.astimezone(TOKYO), slot.ends_at.astimezone(TOKYO)
        days.setdefault(start.date().isoformat(), []).append(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "capacity": slot.capacity,
                "remaining": slot.remaining,
                "blocked": slot.blocked,  # full but not worth waiting for
            }
        )
    return [{"date": day, "slots": items} for day, items in days.items()]


def resident_upcoming_bookings(*, resident: Resident, now: datetime) -> list[Booking]:
    return list(
        Booking.objects.filter(
            resident=resident, status=BookingStatus.CONFIRMED, slot__starts_at__gt=now
        ).select_related("slot", "resource")
    )


def resident_booking(*, resident: Resident, pk: int) -> Booking | None:
    """The resident's own booking; None for another resident's (same as a missing one)."""
    return (
        Booking.objects.filter(resident=resident, pk=pk).select_related("slot", "resource").first()
    )


def resident_active_counts(
    *, resident: Resident, resource: Resource, day: date, now: datetime
) -> tuple[int, int]:
    """The resident's upcoming bookings of the resource, and those on `day`."""
    upcoming = Booking.objects.filter(
        resident=resident,
        resource=resource,
        status=BookingStatus.CONFIRMED,
        slot__starts_at__gt=now,
    )
    # A Tokyo calendar day: explicit bounds, not __date (which would use UTC).
    low = datetime.combine(day, time.min, TOKYO)
    on_day = Q(slot__starts_at__gte=low, slot__starts_at__lt=low + timedelta(days=1))
    counts = upcoming.aggregate(active=Count("pk"), on_day=Count("pk", filter=on_day))
    return counts["active"], counts["on_day"]


# --- staff console ------------------------------------------------------------------------


def resources_for_staff(*, staff) -> QuerySet[Resource]:
    """Resources a staff member manages: admins all; reviewers those of their departments
    (all of the municipality's when they have none). Designers and broadcasters none."""
    resources = Resource.objects.select_related("department")
    if staff.is_operator or staff.is_admin:
        return resources
    if "reviewer" not in staff.roles:
        return resources.none()
    if staff.reviewer_department_ids:
        return resources.filter(department__in=staff.reviewer_department_ids)
    return resources


def bookings_for_staff(*, staff) -> QuerySet[Booking]:
    """Bookings of the resources `resources_for_staff` returns."""
    return Booking.objects.filter(resource__in=resources_for_staff(staff=staff))


@dataclass(frozen=True)
class CalendarSlot:
    starts_at: datetime
    ends_at: datetime
    capacity: int
    taken: int
    blocked: bool
    bookings: list[Booking]

    @property
    def remaining(self) -> int:
        return 0 if self.blocked else max(self.capacity - self.taken, 0)


@dataclass(frozen=True)
class CalendarDay:
    day: date
    closed: bool
    slots: list[CalendarSlot]


def staff_calendar(
    *, resource: Resource, first: date, days: int, now: datetime
) -> list[CalendarDay]:
    """Every slot of `days` days from `first` with its bookings and remaining places.

    Unlike `slot_availability` this ignores the booking window (staff see the past and
    the far future) and lists closed days. A fixed number of queries, whatever the
    number of slots or bookings.
    """
    rules = list(resource.opening_rules.all())
    closed = _closed_days(resource, first, days)
    low = datetime.combine(first, time.min, TOKYO)
    rows = {
        row.starts_at: row
        for row in Slot.objects.filter(
            resource=resource, starts_at__gte=low, starts_at__lt=low + timedelta(days=days)
        )
    }
    bookings: dict[int, list[Booking]] = {}
    for booking in Booking.objects.filter(slot_id__in=[row.pk for row in rows.values()]):
        bookings.setdefault(booking.slot_id, []).append(booking)
    found = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        slots = []
        for time_ in day_slots(resource, rules, day):
            row = rows.get(time_.starts_at)
            slots.append(
                CalendarSlot(
                    starts_at=time_.starts_at,
                    ends_at=time_.ends_at,
                    capacity=row.capacity if row else resource.capacity,
                    taken=row.taken if row else 0,
                    blocked=bool(row and row.is_blocked),
                    bookings=bookings.get(row.pk, []) if row else [],
                )
            )
        found.append(CalendarDay(day, not is_open_on(resource, day, closed), slots))
    return found


def bookings_in_period(*, resource: Resource, first: date, last: date) -> QuerySet[Booking]:
    """Bookings of slots starting from `first` to `last` (Tokyo days, both included)."""
    low = datetime.combine(first, time.min, TOKYO)
    high = datetime.combine(last + timedelta(days=1), time.min, TOKYO)
    return (
        Booking.objects.filter(
            resource=resource, slot__starts_at__gte=low, slot__starts_at__lt=high
        )
        .select_related("slot", "resource")
        .order_by("slot__starts_at", "id")
    )


def live_procedures_booking(*, resource: Resource) -> list[str]:
    """Titles (Japanese first) of the municipality's live procedures with a reservation
    step booking ``resource``: what residents lose when it is made inactive."""
    procedures = Procedure.objects.with_scope(municipality=resource.municipality)
    live = procedures.filter(live_version__isnull=False).select_related("live_version")
    titles = []
    for procedure in live.order_by("key"):
        steps = procedure.live_version.document.get("steps", [])
        if any(s.get("type") == "reservation" and s.get("resource") == resource.key for s in steps):
            title = procedure.live_version.document.get("title", {})
            titles.append(title.get("ja") or next(iter(title.values()), procedure.key))
    return titles
