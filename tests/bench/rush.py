"""Rush hour (issue 21, item 4): residents start the booking procedure of one facility at once.

On the production stack README deploys (tests.bench.stack: gunicorn, one Celery worker
per queue — ``inbox`` × 1, ``engine`` × ``--rush-engine``, ``broadcast`` on threads,
``default`` — and one beat), with the simulator in a gunicorn of its own as LINE: it
signs and posts each resident's webhook event as LINE would and receives the product's
replies as the emulated Messaging API.

``residents`` residents, friends of the municipality's account already, arrive at random
moments spread over ``seconds`` and each books the opening slot of one facility
(``places`` places): the keyword, the day, the time, then 送信. Whoever finds the time
full, or loses the race at 送信 (refused with the nearest free times), taps the waitlist
button. Every resident thus ends booked or waitlisted; each turn's latency runs from the
resident's input to the reply's arrival at the emulated API (the simulator's clock).
Before the rush, ``baseline`` residents book another day's slot on the same stack,
arriving one a second on average: the same turns at a quiet moment.

Checked after the run: every resident answered (every expected reply received), bookings
of the slot = its places (never more; its counter equal to a recount), the rest on its
waitlist, and no event lost (events LINE sent = events stored = events processed). CPU
ms per turn of each product process and of the rig, read from ``/proc`` (tests.bench.cpu).

``python -m tests.bench --rush`` runs only this part (5,000 residents unless
``--rush-residents`` says otherwise); ``make bench`` runs it with fewer residents.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any

from tests.bench import cpu, stack
from tests.bench.rush_crowd import HOUR, Booker, crowd

PRODUCT = ("web", "inbox_consumer", "engine_workers", "default_worker", "broadcast_worker")
PRODUCT += ("beat",)


@dataclass(frozen=True)
class RushWorld:
    channel_id: str
    municipality_id: int
    resource_id: int
    keyword: str
    rush_day: str  # ISO dates (Asia/Tokyo)
    baseline_day: str
    places: int
    residents: list[str]  # LINE user IDs
    baseline: list[str]


# --- the world -------------------------------------------------------------------------


def rush_procedure(*, key: str, keyword: str, resource_key: str) -> dict:
    """The facility's booking procedure: a slot, then the confirmation."""
    return {
        "format": "govtech.procedure.v1",
        "key": key,
        "kind": "reservation",
        "title": {"ja": "市民ホール 予約"},
        "languages": ["ja"],
        "triggers": {"keywords": [keyword]},
        "steps": [
            {
                "id": "visit",
                "type": "reservation",
                "resource": resource_key,
                "label": {"ja": "利用日時"},
                "prompt": {"ja": "利用する日時を選んでください"},
            },
            {"id": "confirm", "type": "confirm"},
        ],
        "completion": {"ja": "予約を受け付けました（受付番号 {reference}）"},
    }


def rush_world_prepare(*, world: Any, residents: int, baseline: int, places: int) -> RushWorld:
    """A new facility (one hour a day, ``places`` places), its published procedure with a
    keyword of its own, and the residents, friends of the channel already (as at 9:00 on
    opening day: the rush is of people who follow the account)."""
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from govtech.models import Municipality
    from govtech.tenancy import tenant_scope
    from procedures.reservations.models import OpeningRule, Resource
    from procedures.reservations.schedule import TOKYO
    from procedures.services import procedure_create, procedure_publish

    stamp = time.time_ns() % 10**9
    with scopes_disabled():
        city = Municipality.objects.get(pk=world.municipality_id)
    today = timezone.now().astimezone(TOKYO).date()
    with tenant_scope(city):
        resource = Resource.objects.create(
            municipality=city,
            key=f"rush-hall-{stamp}",
            name="市民ホール",
            capacity=places,
            slot_minutes=60,
            max_party_size=1,
            opens_days_ahead=7,
            closes_hours_before=0,
            closed_on_holidays=False,
        )
        OpeningRule.objects.bulk_create(
            OpeningRule(
                municipality=city, resource=resource, weekday=day, opens=HOUR, closes=clock_time(11)
            )
            for day in range(7)
        )
        keyword = f"ホール予約{stamp}"
        document = rush_procedure(key=f"rush-{stamp}", keyword=keyword, resource_key=resource.key)
        procedure_publish(
            actor=None, procedure=procedure_create(actor=None, municipality=city, document=document)
        )
    users = ["U" + uuid.uuid4().hex for _ in range(residents + baseline)]
    _friends_ensure(city, world.channel_id, users)
    return RushWorld(
        channel_id=world.channel_id,
        municipality_id=city.pk,
        resource_id=resource.pk,
        keyword=keyword,
        rush_day=(today + timedelta(days=2)).isoformat(),
        baseline_day=(today + timedelta(days=3)).isoformat(),
        places=places,
        residents=users[:residents],
        baseline=users[residents:],
    )


def _friends_ensure(city: Any, channel_id: str, users: list[str]) -> None:
    """Each user a friend of the channel on both sides: LINE's (the simulator's user and
    friendship) and the product's (resident and friend rows), written in bulk."""
    from django.utils import timezone

    from delivery.models import Friend, LineChannel
    from delivery.simulator.models import SimulatorChannel, SimulatorFriendship, SimulatorUser
    from govtech.tenancy import tenant_scope
    from procedures.residents.models import Resident

    simulated = SimulatorChannel.objects.get(channel_id=channel_id)
    made = SimulatorUser.objects.bulk_create(
        SimulatorUser(user_id=user, display_name=f"住民{n}") for n, user in enumerate(users)
    )
    SimulatorFriendship.objects.bulk_create(
        SimulatorFriendship(channel=simulated, user=user) for user in made
    )
    now = timezone.now()
    with tenant_scope(city):
        channel = LineChannel.objects.get(channel_id=channel_id)
        people = Resident.objects.bulk_create(
            Resident(municipality=city, display_name=f"住民{n}") for n in range(len(users))
        )
        Friend.objects.bulk_create(
            Friend(
                municipality=city,
                resident=person,
                channel=channel,
                line_user_id=user,
                display_name=person.display_name,
                language="ja",
                followed_at=now,
            )
            for person, user in zip(people, users, strict=True)
        )


# --- figures --------------------------------------------------------------------------


def latency_figures(bookers: list[Booker]) -> dict:
    from tests.bench.load import percentile

    turns = [turn for booker in bookers for turn in booker.turns]
    latencies = sorted(max(arrived - said, 0.0) for said, arrived in turns)
    elapsed = (max(a for _, a in turns) - min(s for s, _ in turns)) if turns else 0.0
    return {
        "residents": len(bookers),
        "turns": len(turns),
        "seconds": round(elapsed, 2),
        "turns_per_s": round(len(turns) / elapsed, 1) if elapsed else 0.0,
        **{
            f"turn_{name}_ms": round(percentile(latencies, share) * 1000, 1)
            for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
        },
        "answered": sum(bool(b.outcome) and not b.error for b in bookers),
        "booked": sum(b.outcome == "booked" for b in bookers),
        "waitlisted": sum(b.outcome == "waitlisted" for b in bookers),
        "saw_full": sum(b.saw_full for b in bookers),
        "refused_at_submit": sum(b.refused_at_submit for b in bookers),
        "filled_while_choosing": sum(b.filled_while_choosing for b in bookers),
        "errors": [b.error for b in bookers if b.error][:5],
        "error_count": sum(bool(b.error) for b in bookers),
    }


def slot_figures(world: RushWorld, day: str) -> dict:
    """The slot's bookings and waitlist, read from the database."""
    from django_scopes import scopes_disabled

    from procedures.reservations.models import HOLDING_STATUSES, Booking, Slot, WaitlistEntry
    from procedures.reservations.schedule import TOKYO
    from procedures.reservations.selectors import slots_out_of_step

    starts = datetime.combine(datetime.fromisoformat(day).date(), HOUR, TOKYO)
    with scopes_disabled():  # the bench counts across tenants on purpose
        slot = Slot.objects.filter(resource_id=world.resource_id, starts_at=starts).first()
        if slot is None:
            return {"places": world.places, "bookings": 0, "taken": 0, "waitlisted": 0}
        booked = Booking.objects.filter(slot=slot, status__in=HOLDING_STATUSES).count()
        return {
            "places": slot.capacity,
            "bookings": booked,
            "taken": slot.taken,
            "overbooked": max(0, booked - slot.capacity),
            "waitlisted": WaitlistEntry.objects.filter(slot=slot).count(),
            "counters_out_of_step": len(slots_out_of_step(resource=slot.resource)),
        }


def event_figures(users: list[str], channel_id: str) -> dict:
    """Events the emulated LINE sent for ``users`` (accepted by the webhook), stored by the
    product, and processed; lost = sent and not processed."""
    from django_scopes import scopes_disabled

    from delivery.models import EventStatus, WebhookEvent
    from delivery.simulator.models import SimulatorTranscriptEntry

    sent_ids: list[str] = []
    refused = 0
    for chunk in range(0, len(users), 1000):
        rows = SimulatorTranscriptEntry.objects.filter(
            channel__channel_id=channel_id,
            direction=SimulatorTranscriptEntry.Direction.IN,
            user__user_id__in=users[chunk : chunk + 1000],
        ).values_list("webhook_event_id", "webhook_status")
        for event_id, status in rows:
            if status == 200:
                sent_ids.append(event_id)
            else:
                refused += 1
    stored = processed = 0
    with scopes_disabled():  # the bench counts across tenants on purpose
        for chunk in range(0, len(sent_ids), 1000):
            events = WebhookEvent.objects.filter(
                webhook_event_id__in=sent_ids[chunk : chunk + 1000]
            )
            stored += events.count()
            processed += events.filter(status=EventStatus.DONE).count()
    return {
        "sent": len(sent_ids),
        "not_accepted": refused,
        "stored": stored,
        "processed": processed,
        "lost": len(sent_ids) - processed,
    }


def drained(world: RushWorld, *, since: datetime, timeout: float = 120.0) -> float | None:
    """Seconds until every event received since ``since`` was processed and the webhook's
    inbox is empty (None: not in time)."""
    from django_scopes import scopes_disabled

    from delivery.inbox import inbox_length
    from delivery.models import EventStatus, WebhookEvent

    began = time.monotonic()
    while time.monotonic() - began < timeout:
        with scopes_disabled():
            pending = WebhookEvent.objects.filter(
                municipality_id=world.municipality_id,
                status=EventStatus.PENDING,
                received_at__gte=since,
            ).exists()
        if not pending and inbox_length() == 0:
            return round(time.monotonic() - began, 1)
        time.sleep(0.5)
    return None


def measured(
    name: str, roots: dict, run: Any, *, world: RushWorld, day: str, users: list[str]
) -> dict:
    """One crowd with CPU snapshots around it: latency, slot, events and CPU per turn."""
    from django.utils import timezone

    cpu_before, driver_before, since = cpu.snapshot(roots), os.times(), timezone.now()
    bookers = run()
    tail = drained(world, since=since)
    time.sleep(1.0)  # the last sends marked done
    cpu_after, driver_after = cpu.snapshot(roots), os.times()
    figures = latency_figures(bookers)
    per_turn = cpu.per_unit_ms(cpu_before, cpu_after, figures["turns"])
    driver = (driver_after.user + driver_after.system) - (driver_before.user + driver_before.system)
    product = {k: v for k, v in per_turn.items() if k in PRODUCT}
    rig = {k: v for k, v in per_turn.items() if k not in PRODUCT}
    rig["bench_driver"] = round(driver * 1000 / figures["turns"], 2) if figures["turns"] else 0.0
    return {
        "name": name,
        **figures,
        "slot": slot_figures(world, day),
        "events": event_figures(users, world.channel_id),
        "drained_after_s": tail,
        "cpu_ms_per_turn": {
            "product": product,
            "product_total": round(sum(product.values()), 2),
            "rig": rig,
            "rig_total": round(sum(rig.values()), 2),
        },
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


def run_rush_bench(
    *,
    prepared: Any,
    residents: int,
    seconds: float,
    places: int,
    baseline: int,
    engine: int,
    web_workers: int,
    logs: Any,
) -> dict:
    """The baseline, then the rush, on one production stack (``prepared``:
    tests.bench.__main__.prepare); the figures of both."""
    from tests.bench.world import close_connections

    world = rush_world_prepare(
        world=prepared.world, residents=residents, baseline=baseline, places=places
    )
    close_connections()
    try:
        with stack.production_stack(
            env=prepared.env,
            product_port=prepared.product_port,
            line_port=prepared.line_port,
            logs=logs,
            workers=stack.readme_workers(engine=engine),
            web_workers=web_workers,
            line_threads=32,
            beat=True,
            prefix="rush",
        ) as running:
            roots = cpu_roots(running, prepared.env["DATABASE_URL"], prepared.env["REDIS_URL"])
            port = prepared.line_port

            def quiet() -> list[Booker]:
                return crowd(
                    world.baseline,
                    seconds=baseline,
                    world=world,
                    port=port,
                    day=world.baseline_day,
                    seed=1,
                )

            def rush() -> list[Booker]:
                return crowd(
                    world.residents,
                    seconds=seconds,
                    world=world,
                    port=port,
                    day=world.rush_day,
                    seed=21,
                )

            before = measured(
                "baseline", roots, quiet, world=world, day=world.baseline_day, users=world.baseline
            )
            during = measured(
                "rush", roots, rush, world=world, day=world.rush_day, users=world.residents
            )
    finally:
        close_connections()
    return {
        "residents": residents,
        "arrivals_over_s": seconds,
        "places": places,
        "stack": {
            "web": f"gunicorn gthread {web_workers} × 4",
            "workers": {q: f"{pool} × {n}" for q, pool, n in stack.readme_workers(engine=engine)},
            "beat": 1,
            "simulator": "gunicorn gthread 1 × 32 (rig)",
        },
        "baseline": before,
        "rush": during,
    }


def cpu_roots(running: stack.Stack, database_url: str, redis_url: str) -> dict:
    return {
        "web": running.web.pid,
        "inbox_consumer": running.workers["inbox"].pid,
        "engine_workers": running.workers["engine"].pid,
        "default_worker": running.workers["default"].pid,
        "broadcast_worker": running.workers["broadcast"].pid,
        "beat": running.beat.pid if running.beat else None,
        "simulator": running.simulator.pid,
        "postgresql": cpu.postgres_root(database_url),
        "redis": cpu.redis_root(redis_url),
    }


def healthy(figures: dict) -> bool:
    """Every resident answered, bookings = places exactly (never more, counter right),
    everyone else waitlisted, no event lost — in the baseline and in the rush."""
    rush, slot, events = figures["rush"], figures["rush"]["slot"], figures["rush"]["events"]
    filled = min(figures["places"], rush["residents"])
    return (
        rush["answered"] == rush["residents"]
        and slot["bookings"] == rush["booked"] == filled
        and slot.get("overbooked", 0) == 0
        and slot.get("counters_out_of_step", 0) == 0
        and slot["waitlisted"] == rush["waitlisted"] == rush["residents"] - filled
        and events["lost"] == 0
        and events["not_accepted"] == 0
        and events["sent"] == events["stored"] == events["processed"]
        and figures["baseline"]["answered"] == figures["baseline"]["residents"]
        and figures["baseline"]["events"]["lost"] == 0
    )


def table(figures: dict) -> str:
    base, rush = figures["baseline"], figures["rush"]
    slot, events = rush["slot"], rush["events"]
    lines = [
        f"Rush: {figures['residents']:,} residents start the booking of one facility within "
        f"{figures['arrivals_over_s']:g} s ({figures['places']:,} places; README's stack: "
        + ", ".join(f"{q} {w}" for q, w in figures["stack"]["workers"].items())
        + ", one beat; simulator in its own gunicorn)",
        f"  {'':<10}{'residents':>10}{'turns':>8}{'turns/s':>9}{'p50 ms':>10}{'p95 ms':>10}"
        f"{'p99 ms':>10}{'max ms':>10}{'answered':>10}  CPU ms/turn product | rig",
    ]
    for run in (base, rush):
        used = run["cpu_ms_per_turn"]
        lines.append(
            f"  {run['name']:<10}{run['residents']:>10,}{run['turns']:>8,}"
            f"{run['turns_per_s']:>9.1f}"
            f"{run['turn_p50_ms']:>10.0f}{run['turn_p95_ms']:>10.0f}{run['turn_p99_ms']:>10.0f}"
            f"{run['turn_max_ms']:>10.0f}{run['answered']:>10,}"
            f"  {used['product_total']:>7.2f} | {used['rig_total']:.2f}"
        )
    ratio = (
        rush["cpu_ms_per_turn"]["product_total"] / base["cpu_ms_per_turn"]["product_total"]
        if base["cpu_ms_per_turn"]["product_total"]
        else 0.0
    )
    lines += [
        "  (latency: the resident's input sent → the reply received by the emulated API)",
        f"  rush CPU ms per turn by process (load average "
        f"{' '.join(f'{v:g}' for v in rush['load_average'])}): "
        + ", ".join(f"{k} {v:g}" for k, v in rush["cpu_ms_per_turn"]["product"].items())
        + " | rig: "
        + ", ".join(f"{k} {v:g}" for k, v in rush["cpu_ms_per_turn"]["rig"].items()),
        f"  product CPU per turn, rush / baseline: {ratio:.2f}×",
        f"  slot: {slot['bookings']:,} booked of {slot['places']:,} places "
        f"(overbooked {slot.get('overbooked', 0)}, counter {slot['taken']:,}); "
        f"{slot['waitlisted']:,} waitlisted — {rush['saw_full']:,} found it full, "
        f"{rush['refused_at_submit']:,} lost the race at 送信 and were offered alternatives",
        f"  events: {events['sent']:,} sent by LINE, {events['stored']:,} stored, "
        f"{events['processed']:,} processed, lost {events['lost']}; queues empty "
        + (
            "not in time"
            if rush["drained_after_s"] is None
            else f"{rush['drained_after_s']:g} s after the last reply"
        ),
        "  target (issue 21): 0 lost and p99 < 2 s: "
        + ("met" if events["lost"] == 0 and rush["turn_p99_ms"] < 2000 else "NOT met"),
    ]
    lines += [f"  error: {error}" for error in rush["errors"]]
    return "\n".join(lines)
