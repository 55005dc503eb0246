"""Residents racing for the last places of one slot, and for a full slot's waitlist
(PostgreSQL, one connection each).

The capacity check is one conditional UPDATE of the slot's counter; every resident's
booking is inserted, then all of them claim at once. Nobody is overbooked — and with the
UPDATE unguarded (read the counter, compare, then add) the same race overbooks: proof
that the test can fail and that the condition in the UPDATE is what prevents it.
"""

import threading
import time as clock
from collections.abc import Callable

import pytest
from django.db import connection
from django.db.models import F, Sum

from govtech.tenancy import tenant_scope
from procedures.reservations import services
from procedures.reservations.models import Booking, Slot, WaitlistEntry, WaitlistOffer
from procedures.reservations.selectors import slots_out_of_step
from procedures.reservations.services import (
    BookingRequest,
    SlotFull,
    booking_cancel,
    booking_create,
    waitlist_join,
)
from tests.factories import resident as resident_of
from tests.procedures.reservation_fixtures import NOW, TEN, make_resource

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RESIDENTS = 120
CAPACITY = 10
ALREADY_TAKEN = 7


def _at_once(city, work: list[Callable[[], None]]) -> list[Exception]:
    """Run every callable in a thread of its own, released together; unexpected errors."""
    start, errors = threading.Barrier(len(work)), []

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            with tenant_scope(city):
                job()
        except SlotFull:
            pass
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _booker(resource, resident) -> Callable[[], None]:
    request = BookingRequest(resource=resource, starts_at=TEN, resident=resident)
    return lambda: booking_create(request=request, now=NOW)


def _race(city, resource, monkeypatch) -> tuple[int, list[Exception]]:
    """Every resident tries at the same instant; returns (places booked, unexpected errors)."""
    inserted = services._insert

    def slow_insert(*args, **kwargs):
        # Widen the window between the insert and the claim, as a busy server would:
        # every resident's booking row exists before the first claim.
        booking = inserted(*args, **kwargs)
        clock.sleep(0.2)
        return booking

    monkeypatch.setattr(services, "_insert", slow_insert)
    people = [resident_of(resource, f"line:c:U{n}") for n in range(RESIDENTS)]
    errors = _at_once(city, [_booker(resource, person) for person in people])
    with tenant_scope(city):
        taken = Booking.objects.filter(slot__starts_at=TEN).aggregate(total=Sum("places"))
    return taken["total"], errors


def _prepare(city):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL row locks")
    resource = make_resource(city, capacity=CAPACITY, max_party_size=1)
    with tenant_scope(city):
        for n in range(ALREADY_TAKEN):
            request = BookingRequest(
                resource=resource, starts_at=TEN, resident=resident_of(resource, f"line:c:early{n}")
            )
            booking_create(request=request, now=NOW)
    return resource


def unguarded_claim(slot_id: int, places: int) -> bool:
    """The capacity check without its guard: read the counter, compare, then add."""
    slot = Slot.objects.get(pk=slot_id)
    if slot.is_blocked or slot.taken + places > slot.capacity:
        return False
    clock.sleep(0.02)  # the others read the same counter meanwhile
    Slot.objects.filter(pk=slot_id).update(taken=F("taken") + places)
    return True


def test_a_hundred_residents_racing_for_the_last_places_never_overbook(city, monkeypatch):
    resource = _prepare(city)
    taken, errors = _race(city, resource, monkeypatch)
    print(f"\nguarded UPDATE: {RESIDENTS} residents, {taken}/{CAPACITY} places booked")
    assert errors == []
    assert taken == CAPACITY
    with tenant_scope(city):
        assert Slot.objects.get().taken == CAPACITY
        assert slots_out_of_step(resource=resource) == []


def test_with_an_unguarded_update_the_same_race_overbooks(city, monkeypatch):
    resource = _prepare(city)
    monkeypatch.setattr(services, "_claim", unguarded_claim)
    taken, errors = _race(city, resource, monkeypatch)
    print(f"\nunguarded UPDATE: {RESIDENTS} residents, {taken}/{CAPACITY} places booked")
    assert errors == []
    assert taken > CAPACITY  # the race the guarded UPDATE prevents


# --- the waitlist under the same load ---------------------------------------------------


def _waiting_ids(city) -> list[int]:
    with tenant_scope(city):
        return list(WaitlistEntry.objects.order_by("id").values_list("id", flat=True))


def _offered_ids(city) -> list[int]:
    with tenant_scope(city):
        return sorted(WaitlistOffer.objects.values_list("entry_id", flat=True))


def _full_slot_with_waitlist(city):
    """A full slot (10 holders) and 40 residents who joined its waitlist at once."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL row locks")
    resource = make_resource(city, capacity=CAPACITY, max_party_size=1)
    holders = [resident_of(resource, f"line:c:holder{n}") for n in range(CAPACITY)]
    with tenant_scope(city):
        bookings = [_booker(resource, person)() for person in holders]
    assert _at_once(city, [_joiner(resource, f"line:c:W{n}") for n in range(40)]) == []
    return resource, bookings


def _joiner(resource, handle: str) -> Callable[[], None]:
    person = resident_of(resource, handle)
    return lambda: waitlist_join(resource=resource, starts_at=TEN, resident=person, now=NOW)


def _racing(city, resource, bookings, *, late_joiners: int) -> list[Exception]:
    """At once: 5 holders cancel, 40 others try to book, `late_joiners` more join."""
    racers = [_booker(resource, resident_of(resource, f"line:c:R{n}")) for n in range(40)]
    cancels = [lambda b=b: booking_cancel(booking=b, now=NOW) for b in bookings[:5]]
    late = [_joiner(resource, f"line:c:late{n}") for n in range(late_joiners)]
    return _at_once(city, [*cancels, *racers, *late])


def _racers_booked(city) -> int:
    with tenant_scope(city):
        return Booking.objects.filter(resident__handle__startswith="line:c:R").count()


def test_freed_places_go_to_the_waitlist_in_order_while_others_race_to_book(city):
    """The 5 freed places are offered to the first 5 who joined, once each; nobody racing
    books; the late joiners queue behind; the counter matches the rows."""
    resource, bookings = _full_slot_with_waitlist(city)
    early = _waiting_ids(city)
    assert len(early) == 40 and _offered_ids(city) == []
    assert _racing(city, resource, bookings, late_joiners=10) == []
    assert _offered_ids(city) == early[:5]
    assert _racers_booked(city) == 0
    assert _waiting_ids(city)[:40] == early
    with tenant_scope(city):
        assert Slot.objects.get().taken == CAPACITY
        assert slots_out_of_step(resource=resource) == []


def test_releasing_places_before_offering_them_lets_racers_jump_the_waitlist(city, monkeypatch):
    """When a cancellation only gives its places back (and the waitlist would hear of it
    after commit), the 40 racers take them — what `_release` prevents. The cancellations
    commit first here, so the racers always find the places (at once, with the real
    `_release`, they never do: the test above)."""

    def release_only(slot_id: int, places: int, now) -> list:
        Slot.objects.filter(pk=slot_id).update(taken=F("taken") - places)
        return []

    resource, bookings = _full_slot_with_waitlist(city)
    monkeypatch.setattr(services, "_release", release_only)
    with tenant_scope(city):
        for booking in bookings[:5]:
            booking_cancel(booking=booking, now=NOW)
    racers = [_booker(resource, resident_of(resource, f"line:c:R{n}")) for n in range(40)]
    assert _at_once(city, racers) == []
    assert _offered_ids(city) == []
    assert _racers_booked(city) == 5
