"""120 residents race for the last 3 places of one slot (PostgreSQL, one connection each).

With the slot lock nobody is overbooked; with `LOCK_SLOTS = False` the same race
overbooks — proof that the test can fail and that the lock is what prevents it.
"""

import threading
import time as clock

import pytest
from django.db import connection
from django.db.models import Sum

from govtech.tenancy import tenant_scope
from procedures.reservations import services
from procedures.reservations.models import Booking
from procedures.reservations.services import BookingRequest, SlotFull, booking_create
from tests.factories import resident as resident_of
from tests.procedures.reservation_fixtures import NOW, TEN, make_resource

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RESIDENTS = 120
CAPACITY = 10
ALREADY_TAKEN = 7


def _race(city, resource, monkeypatch) -> tuple[int, list[Exception]]:
    """Every resident tries at the same instant; returns (places taken, unexpected errors)."""
    counted = services.taken_places

    def slow_count(**kwargs):
        # Widen the window between counting and inserting, as a busy server would.
        result = counted(**kwargs)
        clock.sleep(0.02)
        return result

    monkeypatch.setattr(services, "taken_places", slow_count)
    start, errors = threading.Barrier(RESIDENTS), []
    people = [resident_of(resource, f"line:c:U{n}") for n in range(RESIDENTS)]

    def resident(n: int) -> None:
        try:
            start.wait()
            with tenant_scope(city):
                request = BookingRequest(resource=resource, starts_at=TEN, resident=people[n])
                booking_create(request=request, now=NOW)
        except SlotFull:
            pass
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=resident, args=(n,)) for n in range(RESIDENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
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


def test_a_hundred_residents_racing_for_the_last_places_never_overbook(city, monkeypatch):
    resource = _prepare(city)
    taken, errors = _race(city, resource, monkeypatch)
    print(f"\nwith the lock: {RESIDENTS} residents, {taken}/{CAPACITY} places taken")
    assert errors == []
    assert taken == CAPACITY


def test_without_the_lock_the_same_race_overbooks(city, monkeypatch):
    resource = _prepare(city)
    monkeypatch.setattr(services, "LOCK_SLOTS", False)
    taken, errors = _race(city, resource, monkeypatch)
    print(f"\nwithout the lock: {RESIDENTS} residents, {taken}/{CAPACITY} places taken")
    assert errors == []
    assert taken > CAPACITY  # the race the lock prevents
