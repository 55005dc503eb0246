"""One resident's burst on the production stack (issue 23: the other reply within 3 s).

The stack as README "Running in production" deploys it: gunicorn serving the product,
one Celery worker per queue (``inbox`` × 1, ``engine``, ``broadcast`` on threads,
``default``), PostgreSQL, Redis and the webhook's Redis inbox; the simulator in a
gunicorn of its own stands in for LINE.

A resident who is a friend already sends one signed webhook body of ``events`` text
events; right after, a resident new to the account says こんにちは through the simulator.
The new resident's wait is read off the simulator's own clock (its transcript's ``at``:
the message entering the chat → the first message of the answer); the burst's events
done by then are those committed when the answer was seen (looked for every 50 ms). The
baseline is another new resident's こんにちは on the same stack before the burst.

The engine queue has one process by default (``--burst-engine``): the burst's task then
holds every process that queue has, the case only taking turns (``EVENTS_PER_RUN`` in
delivery/services.py) gets anyone else through. With a second process the new resident
is answered by it whatever the burst does (decision 0011 has both).

``python -m tests.bench`` runs it as one part of ``make bench``; ``python -m
tests.bench.stack_burst`` runs only this part and prints its figures as JSON.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from tests.bench import stack

TARGET_SECONDS = 3.0  # issue 23, "Done when", production stack
REPLY_TIMEOUT = 60.0
BURST_TIMEOUT = 300.0  # the whole burst applied, for the figure of how long it took
POLL = 0.05


@contextlib.contextmanager
def production_stack(
    *, env: dict, product_port: int, line_port: int, web_workers: int, engine: int, logs: Path
) -> Iterator[None]:
    """Product and simulator gunicorns and one worker per queue, for the block."""
    with stack.production_stack(
        env=env,
        product_port=product_port,
        line_port=line_port,
        logs=logs,
        workers=stack.readme_workers(engine=engine),
        web_workers=web_workers,
        prefix="burst",
    ):
        yield


def say_hello(client) -> tuple[datetime, datetime]:
    """こんにちは through the simulator; (when it entered the chat, when the answer did)."""
    from delivery.simulator.models import SimulatorTranscriptEntry

    entry_id = client.say(text="こんにちは")
    said = SimulatorTranscriptEntry.objects.get(pk=entry_id).at
    deadline = time.monotonic() + REPLY_TIMEOUT
    while time.monotonic() < deadline:
        answer = (
            SimulatorTranscriptEntry.objects.filter(
                user__user_id=client.user_id,
                direction=SimulatorTranscriptEntry.Direction.OUT,
                id__gt=entry_id,
            )
            .order_by("id")
            .values_list("at", flat=True)
            .first()
        )
        if answer is not None:
            return said, answer
        time.sleep(POLL)
    raise TimeoutError(f"{client.user_id}: no answer within {REPLY_TIMEOUT:.0f} s")


def resident(world, line_port: int):
    from tests.bench.turns import SimulatorClient

    return SimulatorClient("127.0.0.1", line_port, world.channel_id, "U" + uuid.uuid4().hex)


def events_done(user_id: str) -> int:
    """The sender's events applied and committed so far."""
    from django_scopes import scopes_disabled

    from delivery.models import EventStatus, WebhookEvent

    with scopes_disabled():  # the bench counts across tenants on purpose
        return WebhookEvent.objects.filter(line_user_id=user_id, status=EventStatus.DONE).count()


def burst_finished(user_id: str, total: int, *, since: float) -> float | None:
    """Seconds from ``since`` (monotonic) until the sender's ``total`` events were applied
    and every answer to them sent or given up (None: not within BURST_TIMEOUT). The
    answers count: one run of a thousand events commits them all before sending any."""
    from django_scopes import scopes_disabled

    from delivery.models import OutboundMessage, OutboundStatus

    while time.monotonic() - since < BURST_TIMEOUT:
        with scopes_disabled():
            unsent = OutboundMessage.objects.filter(
                friend__line_user_id=user_id, status=OutboundStatus.PENDING
            ).exists()
        if not unsent and events_done(user_id) >= total:
            return time.monotonic() - since
        time.sleep(0.5)
    return None


def measure(*, world, product_port: int, line_port: int, events: int) -> dict:
    """On a running stack: the baseline, then the burst and the new resident right after."""
    from tests.bench.burst import burst_body, post_signed

    sender = resident(world, line_port)
    say_hello(sender)  # a friend already: the burst needs no profile fetch
    said, answered = say_hello(resident(world, line_port))
    baseline = (answered - said).total_seconds()
    base = f"http://127.0.0.1:{product_port}"
    body = burst_body(sender.user_id, events)
    posted = time.monotonic()
    status = post_signed(base, body, world.channel_secret, channel_id=world.channel_id)
    said, answered = say_hello(resident(world, line_port))
    done = events_done(sender.user_id)  # within a poll (50 ms) of the answer
    total = events + 1  # the sender's first こんにちは too
    finished = burst_finished(sender.user_id, total, since=posted)
    return {
        "events": events,
        "webhook_status": status,
        "baseline_reply_s": round(baseline, 2),
        "reply_s": round((answered - said).total_seconds(), 2),
        "burst_done_when_answered": done,
        "burst_total": total,
        "burst_finished_after_s": None if finished is None else round(finished, 1),
        "target_s": TARGET_SECONDS,
    }


def run_stack_burst(*, prepared, events: int, web_workers: int, engine: int, logs: Path) -> dict:
    """The measurement on a fresh stack (``prepared``: tests.bench.__main__.prepare)."""
    from tests.bench.world import close_connections

    try:
        with production_stack(
            env=prepared.env,
            product_port=prepared.product_port,
            line_port=prepared.line_port,
            web_workers=web_workers,
            engine=engine,
            logs=logs,
        ):
            figures = measure(
                world=prepared.world,
                product_port=prepared.product_port,
                line_port=prepared.line_port,
                events=events,
            )
    finally:
        close_connections()
    figures["engine_worker"] = f"prefork × {engine}"
    return figures


def table(figures: dict) -> str:
    met = "met" if figures["reply_s"] <= figures["target_s"] else "NOT met"
    after = figures["burst_finished_after_s"]
    finished = "not in time" if after is None else f"{after:g} s after it was sent"
    return "\n".join(
        [
            f"One resident's burst: a body of {figures['events']:,} events, then a new "
            f"resident's こんにちは (engine worker {figures['engine_worker']}; "
            "simulator's clock)",
            f"  {'':<28}{'reply s':>9}   burst events done by then",
            f"  {'no burst (baseline)':<28}{figures['baseline_reply_s']:>9.2f}   –",
            f"  {'right after the burst':<28}{figures['reply_s']:>9.2f}   "
            f"{figures['burst_done_when_answered']:,} of {figures['burst_total']:,}",
            f"  target ≤ {figures['target_s']:g} s (issue 23): {met}; "
            f"the burst applied and answered {finished}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Only this part of the bench, with the bench's arguments; the figures as JSON on
    stdout, the table on stderr. A failure raises; a timing never sets the exit status."""
    from tests.bench.__main__ import arguments, prepare

    args = arguments(argv)
    prepared = prepare(args)
    try:
        figures = run_stack_burst(
            prepared=prepared,
            events=args.burst_events,
            web_workers=args.web_workers,
            engine=args.burst_engine,
            logs=args.logs,
        )
    finally:
        shutil.rmtree(prepared.var_dir, ignore_errors=True)
    print(table(figures), file=sys.stderr)
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
