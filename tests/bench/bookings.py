"""Booking bench: concurrent clients book places through the capacity path, on ONE slot
and spread over 100 slots, with the old path (lock the slot, count) measured alongside.

``run_bookings_bench(clients=…, seconds=…, processes=…)`` returns the figures (Django set
up on PostgreSQL, the bench's environment in ``os.environ``). The clients are threads in
``processes`` processes of their own (``python -m tests.bench.bookings``: one process
alone would measure its interpreter lock, not the database's), each thread with its own
connection, booking one after the other for residents that exist beforehand. Each run:

- ``select_for_update`` — the path before decision 0020, kept callable here only:
  ``SELECT … FOR UPDATE`` on the slot, count its bookings and held offers, insert;
- ``conditional_update`` — ``booking_create``: insert, then one
  ``UPDATE … SET taken = taken + n WHERE taken + n <= capacity`` before COMMIT;

each on one slot (every booking contends for one row) and over 100 slots (booking i goes
to slot i mod 100), with a capacity no run reaches. Then a rush: twice as many residents
as one slot has places (``fill_capacity``) each try once with the new path. Figures:
bookings/s, p50/p99 of one booking, how long the slot's row lock is held once taken, CPU
ms per booking of the clients' processes and of PostgreSQL (read from /proc, so the
figure means something on a shared machine), and after each run the check: places booked
per slot never above its capacity, and (new path) every slot's counter equal to a recount.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from datetime import time as clock_time

CITY = "bench-bookings"
CAPACITY = 30000  # a PositiveSmallIntegerField: below 32767; no run reaches it
FILL_CAPACITY = 2000  # the rush: places of the one slot everybody wants
FILL_LIMIT = 300.0  # seconds: the rush ends when every resident had an answer, or then
RESIDENTS_PER_SECOND = 1500  # more than any run books in a second
MODES = ("select_for_update", "conditional_update")
SPREADS = (1, 100)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- the old path, measured next to the new one ------------------------------------------


def legacy_booking_create(*, request, now: datetime):
    """The capacity path before decision 0020, kept in the bench only to measure it: the
    rules read as they were (two counts), the slot's row locked with SELECT … FOR UPDATE,
    its bookings and held offers counted under the lock, then the insert."""
    from django.db import transaction

    from procedures.reservations.models import Booking, Slot
    from procedures.reservations.services import SlotFull, slot_row

    with transaction.atomic():
        _legacy_rules(request, now)
        slot = slot_row(resource=request.resource, starts_at=request.starts_at)
        slot = Slot.objects.select_for_update().get(pk=slot.pk)
        _time_lock_until_commit()
        places = request.resource.places_for(request.party_size)
        if slot.is_blocked or _legacy_taken(slot.pk, now) + places > slot.capacity:
            raise SlotFull("full", [])
        return Booking.objects.create(
            municipality=request.resource.municipality,
            resource=request.resource,
            slot=slot,
            resident=request.resident,
            party_size=request.party_size,
            places=places,
        )


def _legacy_rules(request, now: datetime) -> None:
    from datetime import time as day_time

    from procedures.reservations.models import Booking, BookingStatus
    from procedures.reservations.schedule import TOKYO
    from procedures.reservations.selectors import slot_is_scheduled
    from procedures.reservations.services import BookingRefused

    if not slot_is_scheduled(resource=request.resource, starts_at=request.starts_at, now=now):
        raise BookingRefused("not scheduled")
    upcoming = Booking.objects.filter(
        resident=request.resident,
        resource=request.resource,
        status=BookingStatus.CONFIRMED,
        slot__starts_at__gt=now,
    )
    low = datetime.combine(request.starts_at.astimezone(TOKYO).date(), day_time.min, TOKYO)
    on_day = upcoming.filter(slot__starts_at__gte=low, slot__starts_at__lt=low + timedelta(1))
    if upcoming.count() >= request.resource.max_active_per_resident or on_day.count() >= 1:
        raise BookingRefused("limits")


def _legacy_taken(slot_id: int, now: datetime) -> int:
    from django.db.models import Sum

    from procedures.reservations.models import (
        HOLDING_STATUSES,
        Booking,
        OfferStatus,
        WaitlistOffer,
    )

    bookings = Booking.objects.filter(slot_id=slot_id, status__in=HOLDING_STATUSES)
    offers = WaitlistOffer.objects.filter(
        slot_id=slot_id, status=OfferStatus.PENDING, expires_at__gt=now
    )
    return (bookings.aggregate(total=Sum("places"))["total"] or 0) + (
        offers.aggregate(total=Sum("entry__party_size"))["total"] or 0
    )


LOCK_HELD: list[float] = []  # seconds the slot's row lock is held, once taken


def _time_lock_until_commit() -> None:
    """Time the slot's row lock from now (its statement has just taken it) to the commit."""
    from django.db import transaction

    taken = time.perf_counter()
    transaction.on_commit(lambda: LOCK_HELD.append(time.perf_counter() - taken))


def _timed_claim(claim):
    """`services._claim` timed like the old lock: from its UPDATE's return to the commit."""

    def claim_timed(slot_id: int, places: int) -> bool:
        claimed = claim(slot_id, places)
        if claimed:
            _time_lock_until_commit()
        return claimed

    return claim_timed


# --- the world ---------------------------------------------------------------------------


def _prepare(*, slots: int, capacity: int) -> dict:
    """A fresh resource (new key each run) with `slots` slots on one day; what to book."""
    from django.utils import timezone

    from govtech.models import Municipality
    from govtech.tenancy import tenant_scope
    from procedures.reservations.models import OpeningRule, Resource
    from procedures.reservations.schedule import TOKYO

    municipality, _created = Municipality.objects.get_or_create(
        slug=CITY, defaults={"name": "ベンチ予約市", "prefecture": "東京都"}
    )
    minutes = 60 if slots == 1 else 1
    day = (timezone.now().astimezone(TOKYO) + timedelta(days=2)).date()
    first = datetime.combine(day, clock_time(10), TOKYO)
    with tenant_scope(municipality):
        resource = Resource.objects.create(
            municipality=municipality,
            key=f"hall-{time.time_ns()}",
            name="ベンチ会場",
            capacity=capacity,
            slot_minutes=minutes,
            max_party_size=1,
            closed_on_holidays=False,
            closes_hours_before=0,
        )
        closes = (first + timedelta(minutes=minutes * slots)).time()
        OpeningRule.objects.bulk_create(
            OpeningRule(
                municipality=municipality,
                resource=resource,
                weekday=weekday,
                opens=clock_time(10),
                closes=closes,
            )
            for weekday in range(7)
        )
    starts = [(first + timedelta(minutes=minutes * n)).isoformat() for n in range(slots)]
    return {"municipality": municipality.pk, "resource": resource.pk, "starts": starts}


def _residents(municipality_id: int, *, count: int) -> list[int]:
    """Residents who book (they exist beforehand, as they do: a friend, then a booking)."""
    from govtech.models import Municipality
    from govtech.tenancy import tenant_scope
    from procedures.residents.models import Resident

    municipality = Municipality.objects.get(pk=municipality_id)
    stamp = time.time_ns()
    with tenant_scope(municipality):
        made = Resident.objects.bulk_create(
            Resident(municipality=municipality, handle=f"bench:{stamp}:{n}") for n in range(count)
        )
    return [resident.pk for resident in made]


# --- a client process ----------------------------------------------------------------------


def _client_thread(config: dict, mine: list[int], results: dict, lock: threading.Lock) -> None:
    from django.db import connection
    from django.utils import timezone

    from govtech.models import Municipality
    from govtech.tenancy import tenant_scope
    from procedures.reservations.models import Resource
    from procedures.reservations.services import BookingRequest, SlotFull, booking_create
    from procedures.residents.models import Resident

    book = legacy_booking_create if config["mode"] == "select_for_update" else booking_create
    starts = [datetime.fromisoformat(start) for start in config["starts"]]
    latencies, refused, last_booked, errors = [], 0, 0.0, []
    try:
        municipality = Municipality.objects.get(pk=config["municipality"])
        with tenant_scope(municipality):
            resource = Resource.objects.get(pk=config["resource"])
            people = Resident.objects.in_bulk(mine)
            results["ready"].wait()
            results["go"].wait()
            for pk in mine:
                if time.monotonic() >= results["deadline"]:
                    break
                request = BookingRequest(
                    resource=resource, starts_at=starts[pk % len(starts)], resident=people[pk]
                )
                began = time.perf_counter()
                try:
                    book(request=request, now=timezone.now())
                except SlotFull:
                    refused += 1
                    continue
                latencies.append(time.perf_counter() - began)
                last_booked = time.time()
    except Exception as exc:
        errors.append(repr(exc))
        results["ready"].abort()  # before the start: the process ends instead of waiting
    finally:
        connection.close()
    with lock:
        results["latencies"] += latencies
        results["refused"] += refused
        results["last_booked"] = max(results["last_booked"], last_booked)
        results["errors"] += errors


def client_main() -> None:
    """``python -m tests.bench.bookings``: one process of clients. Reads its config (a
    JSON line) on stdin, says ``ready``, waits for ``go``, books, prints its figures."""
    import django

    config = json.loads(sys.stdin.readline())
    django.setup()
    from procedures.reservations import services

    services._claim = _timed_claim(services._claim)  # this process measures, nothing else
    threads_count = config["threads"]
    results: dict = {"latencies": [], "refused": 0, "last_booked": 0.0, "errors": []}
    # A thread that fails before the start breaks the barrier: the process then ends
    # without saying ready, and the bench reports it (nothing waits forever).
    results["ready"] = threading.Barrier(threads_count + 1, timeout=300)
    results["go"] = threading.Barrier(threads_count + 1, timeout=300)
    lock = threading.Lock()
    ids = config["residents"]
    threads = [
        threading.Thread(target=_client_thread, args=(config, ids[t::threads_count], results, lock))
        for t in range(threads_count)
    ]
    for thread in threads:
        thread.start()
    results["ready"].wait()
    print("ready", flush=True)
    sys.stdin.readline()  # go
    results["deadline"] = time.monotonic() + config["seconds"]
    cpu_before, began = os.times(), time.time()
    results["go"].wait()
    for thread in threads:
        thread.join()
    cpu_after = os.times()
    cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    print(
        json.dumps(
            {
                "latencies": results["latencies"],
                "refused": results["refused"],
                "began": began,
                "ended": time.time(),
                "last_booked": results["last_booked"],
                "cpu_seconds": cpu,
                "lock_held": LOCK_HELD,
                "errors": results["errors"][:5],
            }
        ),
        flush=True,
    )


# --- one run ---------------------------------------------------------------------------------


def _run(
    *,
    mode: str,
    world: dict,
    residents: list[int],
    clients: int,
    processes: int,
    seconds: float,
    database_url: str,
) -> dict:
    """Book with `clients` threads in `processes` processes for `seconds`; the figures."""
    from tests.bench import cpu, servers

    processes = max(1, min(processes, clients))
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.bench.bookings"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=servers.ROOT,
        )
        for _ in range(processes)
    ]
    for n, child in enumerate(children):
        share = {"threads": max(1, clients // processes), "residents": residents[n::processes]}
        child.stdin.write(json.dumps({**world, **share, "mode": mode, "seconds": seconds}) + "\n")
        child.stdin.flush()
    for child in children:
        said = child.stdout.readline().strip()
        if said != "ready":
            raise RuntimeError(f"a booking client did not start (it said {said!r})")
    postgres = {"postgresql": cpu.postgres_root(database_url)}
    pg_before = cpu.snapshot(postgres)
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = [json.loads(child.communicate(timeout=seconds + 300)[0]) for child in children]
    pg_after = cpu.snapshot(postgres)
    return _figures(mode, world, outputs, clients, processes, pg_before, pg_after)


def _figures(mode, world, outputs, clients, processes, pg_before, pg_after) -> dict:
    latencies = [value for out in outputs for value in out["latencies"]]
    held = [value for out in outputs for value in out["lock_held"]]
    began = min(out["began"] for out in outputs)
    elapsed = max(out["ended"] for out in outputs) - began
    booked = len(latencies)
    client_cpu = sum(out["cpu_seconds"] for out in outputs)
    pg_cpu = pg_after.get("postgresql", 0.0) - pg_before.get("postgresql", 0.0)
    last = max(out["last_booked"] for out in outputs)
    return {
        "mode": mode,
        "slots": len(world["starts"]),
        "clients": clients,
        "processes": processes,
        "seconds": round(elapsed, 3),
        "bookings": booked,
        "refused": sum(out["refused"] for out in outputs),
        "bookings_per_second": round(booked / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "lock_held_p50_ms": round(_percentile(held, 0.50) * 1000, 3),
        "lock_held_p99_ms": round(_percentile(held, 0.99) * 1000, 3),
        "client_cpu_ms_per_booking": round(client_cpu * 1000 / booked, 2) if booked else 0.0,
        "postgres_cpu_ms_per_booking": round(pg_cpu * 1000 / booked, 2) if booked else 0.0,
        "last_booking_after_s": round(last - began, 3) if last else 0.0,
        **_check(world, booked, counter=mode == "conditional_update"),
        "errors": [error for out in outputs for error in out["errors"]][:5],
    }


def _check(world: dict, booked: int, *, counter: bool) -> dict:
    """After the run: places booked per slot against its capacity; the counters."""
    from django.db import connection
    from django.db.models import Sum
    from django_scopes import scopes_disabled

    from procedures.reservations.models import Booking, Resource, Slot
    from procedures.reservations.selectors import slots_out_of_step

    with scopes_disabled():  # the bench checks its own rows
        resource = Resource.objects.get(pk=world["resource"])
        per_slot = dict(
            Booking.objects.filter(resource=resource)
            .values_list("slot_id")
            .annotate(total=Sum("places"))
        )
        capacity = dict(Slot.objects.filter(resource=resource).values_list("pk", "capacity"))
        over = sum(max(0, total - capacity[slot]) for slot, total in per_slot.items())
        wrong = len(slots_out_of_step(resource=resource)) if counter else None
    connection.close()
    return {
        "places_taken": sum(per_slot.values()),
        "overbooked_places": over,
        "counters_out_of_step": wrong,
    }


def run_bookings_bench(
    *,
    clients: int = 16,
    seconds: float = 5.0,
    processes: int | None = None,
    fill_capacity: int = FILL_CAPACITY,
) -> dict:
    """Both paths on one slot and on 100, `seconds` each, then a rush of twice as many
    residents as one slot has places (`fill_capacity`), until each has had an answer."""
    from django.db import connection

    if connection.vendor != "postgresql":
        raise RuntimeError("the booking bench needs PostgreSQL (row locks)")
    database_url = os.environ.get("DATABASE_URL", "")
    processes = processes or os.cpu_count() or 2
    common = {"clients": clients, "processes": processes, "database_url": database_url}
    runs = []
    for spread in SPREADS:
        for mode in MODES:
            world = _prepare(slots=spread, capacity=CAPACITY)
            residents = _residents(world["municipality"], count=int(RESIDENTS_PER_SECOND * seconds))
            connection.close()
            runs.append(
                _run(mode=mode, world=world, residents=residents, seconds=seconds, **common)
            )
    world = _prepare(slots=1, capacity=fill_capacity)
    residents = _residents(world["municipality"], count=fill_capacity * 2)
    connection.close()
    fill = _run(
        mode="conditional_update", world=world, residents=residents, seconds=FILL_LIMIT, **common
    )
    return {"runs": runs, "fill": {**fill, "capacity": fill_capacity}}


def table(figures: dict) -> str:
    """The bench table's section for bookings."""
    first = figures["runs"][0]
    head = (
        f"  {'path':20}{'slots':>6}{'bookings':>9}{'per s':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'lock p50':>9}{'lock p99':>9}{'CPU ms/booking':>16}{'PG CPU ms':>10}{'over':>6}"
    )
    lines = [
        f"Bookings under contention: {first['clients']} clients in {first['processes']} "
        "processes, one slot or spread over 100",
        head,
    ]
    for run in figures["runs"]:
        lines.append(
            f"  {run['mode']:20}{run['slots']:>6}{run['bookings']:>9}"
            f"{run['bookings_per_second']:>8.1f}{run['p50_ms']:>8.1f}{run['p99_ms']:>8.1f}"
            f"{run['lock_held_p50_ms']:>9.2f}{run['lock_held_p99_ms']:>9.2f}"
            f"{run['client_cpu_ms_per_booking']:>16.2f}{run['postgres_cpu_ms_per_booking']:>10.2f}"
            f"{run['overbooked_places']:>6}"
        )
        lines += [f"  error: {error}" for error in run["errors"]]
    lines += _ratios(figures["runs"])
    fill = figures["fill"]
    lines.append(
        f"  rush of {fill['bookings'] + fill['refused']} residents for one slot of "
        f"{fill['capacity']} places: {fill['bookings']} booked "
        f"({fill['bookings_per_second']:.1f}/s, the last after {fill['last_booking_after_s']} s), "
        f"{fill['refused']} refused as full, {fill['overbooked_places']} overbooked, "
        f"{fill['counters_out_of_step']} counters out of step"
    )
    lines += [f"  error: {error}" for error in fill["errors"]]
    return "\n".join(lines)


def _ratios(runs: list[dict]) -> list[str]:
    """New path over old per slot spread: throughput, and CPU per booking."""
    by = {(run["mode"], run["slots"]): run for run in runs}
    lines = []
    for spread in SPREADS:
        old, new = by.get(("select_for_update", spread)), by.get(("conditional_update", spread))
        if not old or not new or not old["bookings_per_second"]:
            continue
        cpu_old = old["client_cpu_ms_per_booking"] + old["postgres_cpu_ms_per_booking"]
        cpu_new = new["client_cpu_ms_per_booking"] + new["postgres_cpu_ms_per_booking"]
        lines.append(
            f"  {spread} slot(s): conditional_update / select_for_update = "
            f"{new['bookings_per_second'] / old['bookings_per_second']:.2f}× bookings/s, "
            f"{cpu_new / cpu_old if cpu_old else 0:.2f}× CPU per booking"
        )
    return lines


if __name__ == "__main__":
    client_main()
