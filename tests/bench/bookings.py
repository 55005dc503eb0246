"""Booking bench: N concurrent clients book places in ONE slot through `booking_create`.

``run_bookings_bench(clients=…, seconds=…)`` returns the figures (Django must be set up on
PostgreSQL). Each client is a thread with its own database connection that books, one
after the other, places for new residents in the same slot — every booking takes the
slot's row lock (STYLE.md rule 5), so this measures the capacity path under the worst
contention: bookings/second, and the latency of one booking (waiting for the lock
included) at p50/p99. The slot's capacity is large enough for every attempt; the bench
then checks that the places taken equal the bookings made (nothing lost, nothing extra).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from datetime import time as clock_time

CITY = "bench-bookings"
CAPACITY = 30000  # a PositiveSmallIntegerField: below 32767


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _prepare():
    """A fresh resource (new key each run) open every day 10:00-12:00; the slot to book."""
    from django.utils import timezone

    from govtech.models import Municipality
    from govtech.tenancy import tenant_scope
    from procedures.reservations.models import OpeningRule, Resource
    from procedures.reservations.schedule import TOKYO

    municipality, _created = Municipality.objects.get_or_create(
        slug=CITY, defaults={"name": "ベンチ予約市", "prefecture": "東京都"}
    )
    with tenant_scope(municipality):
        resource = Resource.objects.create(
            municipality=municipality,
            key=f"hall-{time.time_ns()}",
            name="ベンチ会場",
            capacity=CAPACITY,
            max_party_size=1,
            closed_on_holidays=False,
            closes_hours_before=0,
        )
        for weekday in range(7):
            OpeningRule.objects.create(
                municipality=municipality,
                resource=resource,
                weekday=weekday,
                opens=clock_time(10),
                closes=clock_time(12),
            )
    day = (timezone.now().astimezone(TOKYO) + timedelta(days=2)).date()
    return municipality, resource, datetime.combine(day, clock_time(10), TOKYO)


RESIDENTS_PER_SECOND = 400  # more than the bench has ever booked in a second


def _residents(municipality, *, count: int) -> list:
    from govtech.tenancy import tenant_scope
    from procedures.residents.models import Resident

    stamp = time.time_ns()
    with tenant_scope(municipality):
        return Resident.objects.bulk_create(
            Resident(municipality=municipality, handle=f"bench:{stamp}:{n}") for n in range(count)
        )


def _client(n: int, context: dict, latencies: list, errors: list) -> None:
    from django.db import connection

    from govtech.tenancy import tenant_scope
    from procedures.reservations.services import BookingRequest, booking_create

    municipality, resource, starts_at = context["world"]
    mine = context["residents"][n :: context["clients"]][: context["per_client"]]
    made = 0
    try:
        context["start"].wait()
        deadline = context["deadline"]  # set before the barrier opened
        with tenant_scope(municipality):
            while time.monotonic() < deadline and made < len(mine):
                request = BookingRequest(
                    resource=resource, starts_at=starts_at, resident=mine[made]
                )
                began = time.perf_counter()
                booking_create(request=request)
                latencies.append(time.perf_counter() - began)
                made += 1
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()


def run_bookings_bench(*, clients: int = 16, seconds: float = 5.0) -> dict:
    """Book the same slot from `clients` threads for `seconds`; return the figures."""
    from django.db import connection
    from django.db.models import Sum
    from django_scopes import scopes_disabled

    from procedures.reservations.models import Booking

    if connection.vendor != "postgresql":
        raise RuntimeError("the booking bench needs PostgreSQL (row locks)")
    world = _prepare()
    # The residents who book exist beforehand (as they do: a friend, then a booking), so
    # the figures are booking_create's alone, as they were when residents were strings.
    residents = _residents(world[0], count=int(RESIDENTS_PER_SECOND * seconds))
    connection.close()
    context = {
        "world": world,
        "residents": residents,
        "clients": clients,
        "start": threading.Barrier(clients + 1),
        "per_client": CAPACITY // clients,
    }
    latencies: list[float] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=_client, args=(n, context, latencies, errors))
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    context["deadline"] = time.monotonic() + seconds
    context["start"].wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - began
    with scopes_disabled():  # the bench counts its own rows
        taken = Booking.objects.filter(resource=world[1]).aggregate(total=Sum("places"))["total"]
    connection.close()
    return {
        "clients": clients,
        "seconds": round(elapsed, 3),
        "bookings": len(latencies),
        "bookings_per_second": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "places_taken": taken or 0,
        "errors": errors[:5],
    }


def table(figures: dict) -> str:
    """The bench table's section for bookings."""
    return "\n".join(
        [
            f"Bookings under contention: {figures['clients']} clients booking one slot "
            "(booking_create, one row lock per booking)",
            f"  {'bookings':>9}{'seconds':>9}{'bookings/s':>12}{'p50 ms':>9}{'p99 ms':>9}"
            f"{'places taken':>14}",
            f"  {figures['bookings']:>9}{figures['seconds']:>9.2f}"
            f"{figures['bookings_per_second']:>12.1f}{figures['p50_ms']:>9.1f}"
            f"{figures['p99_ms']:>9.1f}{figures['places_taken']:>14}",
            *[f"  error: {error}" for error in figures["errors"]],
        ]
    )
