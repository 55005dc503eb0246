"""``python -m tests.bench``: what ``make bench`` runs (PostgreSQL and Redis must be up).

1. Webhook acknowledgement: gunicorn serves the project (bench settings: the project's
   URLs plus a bare view). A load generator in its own process sends signed one-event
   bodies for the same number of seconds, at the same concurrency, first to the bare
   view, then to the real webhook (each event new, residents spread over ``--users``
   user IDs). A Celery worker consumes only the ``inbox`` queue meanwhile, storing the
   acknowledged events in PostgreSQL as production does; every event must be stored once
   the inbox is empty. The residents' processing tasks pile up in Redis, unrun, and are
   flushed afterwards.
2. Conversation turns: the production stack — the product's gunicorn, the inbox's one
   consumer, a Celery worker consuming ``engine`` — and the simulator (LINE's side) in a
   gunicorn of its own; ``--residents`` residents at once each complete
   ``--conversation-rounds`` applications (thousands of turns by default). Turns/s,
   p50/p95/p99 from input to the reply's arrival at the emulated API, and, read from
   ``/proc`` before and after the window (tests.bench.cpu), CPU ms per turn of each
   product process apart from the rig's (simulator, PostgreSQL, Redis, this driver);
   SQL statements per turn per process (tests.bench.instrument), Redis commands and
   PostgreSQL transactions per turn. ``--profile-dir`` cProfiles the engine's tasks.
3. One resident's burst (tests.bench.stack_burst): one worker per queue as README
   deploys them (``--burst-engine`` engine processes); a body of ``--burst-events``
   events from one resident, then a new resident's こんにちは, whose reply time is set
   next to another's with no burst.
4. The rush (tests.bench.rush): ``--rush-residents`` residents (500; 5,000 with ``--rush``,
   which runs this part alone) arrive within ``--rush-seconds`` and book the opening slot
   of one facility (``--rush-places`` places) on README's stack (one worker per queue,
   one beat), next to a quiet baseline of ``--rush-baseline`` residents: every resident
   answered, p50/p95/p99 turn latency, bookings = places, events sent = stored =
   processed, CPU ms per turn of each product process and of the rig.
5. The reviewer's inbox (tests.bench.inbox) at ``--inbox-submissions`` submissions: p50 and
   p95 of its list pages next to the bare view, and their query counts.
6. Exports (tests.bench.exports) and dashboards (tests.bench.dashboards): ``--dashboard-friends``
   friends and ``--dashboard-conversations`` conversations over a year, the aggregation's
   seconds (the year's backfill, a nightly run), each dashboard page's median time and
   query count.
7. Open311 ``GET requests`` (tests.bench.open311) at ``--open311-reports`` reports: p50 and
   p95 per page (JSON, XML, filters, ids, a deep page, the public report page) next to the
   bare view, and their query counts.
8. Spot search and the FAQ (tests.bench.spots, tests.bench.faq): the nearest 10 of
   ``--spots`` spots (p50/p95 next to a full scan, every answer checked equal to it) and
   one FAQ match over ``--faq-entries`` entries (next to a plain Python loop).
9. Disaster mode's menu swap (tests.bench.richmenus): ``--menu-friends`` friends of whom
   ``--menu-linked`` have a per-user menu; seconds until every menu is switched (on, then
   off), next to the floor LINE's documented rate limits allow.

Bounded: fixed seconds (and a request cap), timeouts everywhere; loopback only. Exit status 1 when a
request failed or an event was lost — never because of a timing.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench import broadcast as broadcast_bench
from tests.bench import dashboards as dashboards_bench
from tests.bench import exports as exports_bench
from tests.bench import faq as faq_bench
from tests.bench import open311 as open311_bench
from tests.bench import report, servers, stack
from tests.bench import richmenus as menus_bench
from tests.bench import spots as spots_bench

RUSH_FULL = 5000  # issue 21: 5,000 residents within 60 seconds
RUSH_DEFAULT = 500  # within make bench: about a minute and a half of turns on 2 cores
DEFAULT_JSON = servers.ROOT / "artifacts" / "bench.json"
LOGS = servers.ROOT / "artifacts" / "bench-logs"


@dataclass(frozen=True)
class Prepared:
    """Ports, environment and database content shared by both parts of the bench."""

    env: dict[str, str]
    product_port: int
    line_port: int
    var_dir: Path  # uploads and files of the servers; removed at the end
    world: Any  # tests.bench.world.BenchWorld (importable only after django.setup())


def arguments(argv: list[str] | None) -> argparse.Namespace:
    cpus = os.cpu_count() or 2
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per target")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured seconds first")
    parser.add_argument("--max-requests", type=int, default=60000, help="cap per measured run")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--users", type=int, default=200, help="residents the events spread over")
    parser.add_argument("--residents", type=int, default=200, help="conversations at once")
    parser.add_argument(
        "--conversation-rounds",
        type=int,
        default=3,
        help="applications per resident (5 turns for the first, 4 for each further one)",
    )
    parser.add_argument(
        "--profile-dir",
        type=Path,
        default=None,
        help="cProfile each engine task into DIR/<pid>.prof (slows the turns: a profile run)",
    )
    parser.add_argument("--web-workers", type=int, default=cpus, help="gunicorn workers")
    parser.add_argument("--web-threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--worker-concurrency", type=int, default=cpus, help="Celery processes")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where the figures go")
    parser.add_argument("--logs", type=Path, default=LOGS, help="where the servers' logs go")
    parser.add_argument("--booking-clients", type=int, default=16, help="clients booking a slot")
    parser.add_argument(
        "--booking-processes", type=int, default=cpus, help="processes the booking clients run in"
    )
    parser.add_argument(
        "--booking-rush", type=int, default=2000, help="places of the slot the booking rush fills"
    )
    parser.add_argument(
        "--skip-conversations", action="store_true", help="no end-to-end conversation run"
    )
    parser.add_argument("--skip-bookings", action="store_true", help="no booking contention run")
    parser.add_argument(
        "--burst-events", type=int, default=1000, help="events in one resident's burst body"
    )
    parser.add_argument(
        "--burst-engine",
        type=int,
        default=1,
        help="engine processes in the burst run (1: the burst's task takes them all)",
    )
    parser.add_argument("--skip-burst", action="store_true", help="no burst run")
    parser.add_argument(
        "--rush",
        action="store_true",
        help=f"only the rush run, {RUSH_FULL:,} residents unless --rush-residents says otherwise",
    )
    parser.add_argument(
        "--rush-residents",
        type=int,
        default=None,
        help=f"residents in the rush ({RUSH_DEFAULT} with the other parts, {RUSH_FULL:,} alone)",
    )
    parser.add_argument(
        "--rush-seconds", type=float, default=60, help="the rush's arrivals spread over these"
    )
    parser.add_argument(
        "--rush-places", type=int, default=None, help="places of the rush's slot (residents / 5)"
    )
    parser.add_argument(
        "--rush-baseline", type=int, default=20, help="residents booking before the rush"
    )
    parser.add_argument(
        "--rush-engine", type=int, default=4, help="engine processes in the rush (README: 4)"
    )
    parser.add_argument("--skip-rush", action="store_true", help="no rush run")
    parser.add_argument(
        "--broadcast-friends", type=int, default=1_000_000, help="audience of the broadcast run"
    )
    parser.add_argument("--skip-broadcast", action="store_true", help="no broadcast run")
    parser.add_argument(
        "--parallel-channels", type=int, default=20, help="channels broadcasting at once"
    )
    parser.add_argument(
        "--parallel-friends", type=int, default=50_000, help="friends of each of those channels"
    )
    parser.add_argument(
        "--skip-parallel-broadcast", action="store_true", help="no many-channel broadcast run"
    )
    parser.add_argument(
        "--inbox-submissions", type=int, default=100_000, help="submissions in the inbox run"
    )
    parser.add_argument("--inbox-requests", type=int, default=30, help="timed GETs per page")
    parser.add_argument("--skip-inbox", action="store_true", help="no inbox run")
    parser.add_argument("--export-rows", type=int, default=100_000, help="submissions exported")
    parser.add_argument("--skip-exports", action="store_true", help="no export run")
    parser.add_argument(
        "--dashboard-friends", type=int, default=1_000_000, help="friends in the dashboard run"
    )
    parser.add_argument(
        "--dashboard-conversations",
        type=int,
        default=1_000_000,
        help="conversations in the dashboard run",
    )
    parser.add_argument("--skip-dashboards", action="store_true", help="no dashboard run")
    parser.add_argument(
        "--open311-reports", type=int, default=100_000, help="reports in the Open311 run"
    )
    parser.add_argument("--skip-open311", action="store_true", help="no Open311 run")
    parser.add_argument("--spots", type=int, default=100_000, help="spots in the nearest run")
    parser.add_argument(
        "--menu-friends", type=int, default=100_000, help="friends in the disaster menu swap"
    )
    parser.add_argument(
        "--menu-linked", type=int, default=30_000, help="of them, with a per-user menu"
    )
    parser.add_argument("--skip-menus", action="store_true", help="no disaster menu swap")
    parser.add_argument("--faq-entries", type=int, default=10_000, help="FAQ entries matched")
    parser.add_argument("--skip-spots", action="store_true", help="no spot search or FAQ run")
    args = parser.parse_args(argv)
    if args.rush_residents is None:
        args.rush_residents = RUSH_FULL if args.rush else RUSH_DEFAULT
    if args.rush_places is None:
        args.rush_places = max(1, args.rush_residents // 5)
    if not args.database_url.startswith(("postgres://", "postgresql://")) or not args.redis_url:
        parser.error("PostgreSQL and Redis are needed: set DATABASE_URL and REDIS_URL (make bench)")
    return args


def load_run(*, port: int, path: str, secret: str, args: argparse.Namespace, world) -> dict:
    """One target, measured by the load generator in a process of its own."""
    config = {
        **{"host": "127.0.0.1", "port": port, "path": path, "secret": secret},
        **{"destination": world.bot_user_id, "users": args.users},
        **{"seconds": args.seconds, "warmup_seconds": args.warmup},
        **{"max_requests": args.max_requests, "concurrency": args.concurrency},
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.load"],
        input=json.dumps(config).encode(),
        capture_output=True,
        cwd=servers.ROOT,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout)


def acknowledgement(args: argparse.Namespace, prepared: Prepared) -> dict:
    from django.conf import settings
    from django_scopes import scopes_disabled

    from delivery.models import WebhookEvent

    env, world, port = prepared.env, prepared.world, prepared.product_port
    command = servers.gunicorn_command(
        port=port, workers=args.web_workers, threads=args.web_threads
    )
    inbox_worker = servers.celery_command(concurrency=1, queues="inbox")
    with (
        servers.process("product-web", command, env=env, logs=args.logs) as web,
        servers.process("inbox-worker", inbox_worker, env=env, logs=args.logs) as celery,
    ):
        servers.wait_for_http(f"{env['SITE_URL']}/bench/bare/", web)
        servers.wait_for_worker(celery)
        webhook_path = f"/line/webhook/{world.channel_id}/"
        runs = {
            "bare": load_run(port=port, path="/bench/bare/", secret="-", args=args, world=world),
            "webhook": load_run(
                port=port, path=webhook_path, secret=world.channel_secret, args=args, world=world
            ),
        }
        drained_after = inbox_drained(timeout=120)
    prefix = runs["webhook"]["event_id_prefix"]
    with scopes_disabled():  # the bench counts across tenants on purpose
        stored = WebhookEvent.objects.filter(webhook_event_id__startswith=prefix).count()
    return {
        **runs,
        **{"concurrency": args.concurrency, "seconds": args.seconds, "warmup": args.warmup},
        "inbox": settings.LINE_WEBHOOK_INBOX,
        "inbox_drained_after_s": drained_after,
        "events_stored": stored,
    }


def inbox_drained(*, timeout: float) -> float | None:
    """Seconds until the webhook's Redis inbox was empty after the load (None: never)."""
    from delivery.inbox import inbox_length

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if inbox_length() == 0:
            return round(time.monotonic() - started, 2)
        time.sleep(0.1)
    return None


def conversations(args: argparse.Namespace, prepared: Prepared) -> dict:
    """``--residents`` residents at once, ``--conversation-rounds`` applications each, on
    the production stack; latency percentiles, and CPU ms and SQL per turn per process."""
    from tests.bench import cpu, instrument, turns
    from tests.bench.world import submissions_count

    world = prepared.world
    product_port, line_port = prepared.product_port, prepared.line_port
    counters_dir = Path(tempfile.mkdtemp(prefix="govtech-bench-counters-"))
    env = {**prepared.env, "BENCH_COUNTERS_DIR": str(counters_dir)}
    if args.profile_dir:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
        env["BENCH_PROFILE_DIR"] = str(args.profile_dir.resolve())
    # As README "Running in production": the inbox's one consumer in a process of its own,
    # so that its store loop never takes a process the conversations need; LINE's side in
    # a gunicorn of its own (never the product's): its CPU is the rig's.
    workers = (("engine,default", "prefork", args.worker_concurrency), ("inbox", "prefork", 1))
    with stack.production_stack(
        env=env,
        product_port=product_port,
        line_port=line_port,
        logs=args.logs,
        workers=workers,
        web_workers=args.web_workers,
        web_threads=args.web_threads,
        line_threads=32,
        prefix="conversations",
    ) as running:
        roots = {
            "web": running.web.pid,
            "inbox_consumer": running.workers["inbox"].pid,
            "engine_workers": running.workers["engine,default"].pid,
            "simulator": running.simulator.pid,
            "postgresql": cpu.postgres_root(args.database_url),
            "redis": cpu.redis_root(args.redis_url),
        }
        before_submissions = submissions_count(world)
        time.sleep(2 * instrument.FLUSH_INTERVAL)  # start-up's queries written out
        sql_before, cpu_before = instrument.read(counters_dir), cpu.snapshot(roots)
        driver_before, rig_before = os.times(), rig_counters(args)
        figures = turns.run_conversations(
            host="127.0.0.1",
            port=line_port,
            channel_id=world.channel_id,
            residents=args.residents,
            rounds=args.conversation_rounds,
        )
        # The turns' tail (a send marked done after the reply) and the counters' last
        # writes land; idle servers spend next to nothing meanwhile.
        time.sleep(1.0 + 2 * instrument.FLUSH_INTERVAL)
        cpu_after, driver_after = cpu.snapshot(roots), os.times()
        sql_after = instrument.read(counters_dir)
        members = {name: cpu.tree(pid) for name, pid in roots.items() if pid}
        figures["submissions"] = submissions_count(world) - before_submissions
    # After the servers stopped: their backends have exited and flushed their statistics.
    rig_after = rig_counters(args)
    shutil.rmtree(counters_dir, ignore_errors=True)
    done = figures["turns"]
    per_turn = cpu.per_unit_ms(cpu_before, cpu_after, done)
    driver = (driver_after.user + driver_after.system) - (driver_before.user + driver_before.system)
    product_names = ("web", "inbox_consumer", "engine_workers")
    product_cpu = {name: per_turn[name] for name in product_names if name in per_turn}
    rig_cpu = {name: value for name, value in per_turn.items() if name not in product_names}
    rig_cpu["bench_driver"] = round(driver * 1000 / done, 2) if done else 0.0
    counted = {k: v for k, v in members.items() if k not in ("postgresql", "redis")}
    sql = instrument.sql_per_unit(sql_before, sql_after, counted, done)
    load = os.getloadavg()
    return {
        **figures,
        "cpu_ms_per_turn": {
            "product": product_cpu,
            "product_total": round(sum(product_cpu.values()), 2),
            "rig": rig_cpu,
        },
        "sql_per_turn": sql,
        "broker_and_database": rig_per_turn(rig_before, rig_after, figures, done),
        "load_average": [round(value, 2) for value in load],
    }


def rig_counters(args: argparse.Namespace) -> dict:
    """Redis commands by name (INFO commandstats) and PostgreSQL transactions so far."""
    import dj_database_url
    import psycopg
    import redis

    client = redis.Redis.from_url(args.redis_url)
    try:
        commands = {
            name.removeprefix("cmdstat_"): int(stats["calls"])
            for name, stats in client.info("commandstats").items()
        }
    finally:
        client.close()
    params = dj_database_url.parse(args.database_url)
    with psycopg.connect(
        host=params["HOST"],
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname=params["NAME"],
        autocommit=True,
    ) as conn:
        conn.execute("SELECT pg_stat_force_next_flush()")
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
            [params["NAME"]],
        ).fetchone()
    return {"redis": commands, "transactions": int(row[0]) if row else 0}


def rig_per_turn(before: dict, after: dict, figures: dict, done: int) -> dict:
    """Redis commands per turn (by name, the frequent ones) and PostgreSQL transactions
    per turn, less the bench's own transcript polls."""
    per = max(done, 1)
    commands = {
        name: round((calls - before["redis"].get(name, 0)) / per, 2)
        for name, calls in after["redis"].items()
        if calls - before["redis"].get(name, 0) > 0 and name not in ("info",)
    }
    transactions = after["transactions"] - before["transactions"] - figures["watcher_queries"]
    return {
        "redis_commands_per_turn": round(sum(commands.values()), 2),
        "redis_commands": dict(sorted(commands.items(), key=lambda item: -item[1])),
        "pg_transactions_per_turn": round(transactions / per, 2),
    }


def burst(args: argparse.Namespace, prepared: Prepared) -> dict:
    """A new resident's reply right after one resident's burst (tests.bench.stack_burst)."""
    from tests.bench.stack_burst import run_stack_burst

    return run_stack_burst(
        prepared=prepared,
        events=args.burst_events,
        web_workers=args.web_workers,
        engine=args.burst_engine,
        logs=args.logs,
    )


def rush(args: argparse.Namespace, prepared: Prepared) -> dict:
    """Residents starting one facility's booking at once (tests.bench.rush)."""
    from tests.bench.rush import run_rush_bench

    return run_rush_bench(
        prepared=prepared,
        residents=args.rush_residents,
        seconds=args.rush_seconds,
        places=args.rush_places,
        baseline=args.rush_baseline,
        engine=args.rush_engine,
        web_workers=args.web_workers,
        logs=args.logs,
    )


def rush_only(args: argparse.Namespace, prepared: Prepared) -> int:
    """``--rush``: that part alone; its table, its figures in the JSON file."""
    from tests.bench import rush as rush_bench

    try:
        figures = {"setup": setup(args), "rush": rush(args, prepared)}
    finally:
        shutil.rmtree(prepared.var_dir, ignore_errors=True)
    print(rush_bench.table(figures["rush"]))
    report.write_json(figures, args.json)
    print(f"\nfigures: {args.json}  server logs: {args.logs}")
    return 0 if rush_bench.healthy(figures["rush"]) else 1


def setup(args: argparse.Namespace) -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "gunicorn": f"gthread {args.web_workers} workers × {args.web_threads} threads",
        "worker": f"prefork × {args.worker_concurrency}",
    }


def bookings(args: argparse.Namespace) -> dict:
    """Booking throughput on one slot and over 100, old path and new (tests.bench.bookings)."""
    from tests.bench.bookings import run_bookings_bench

    return run_bookings_bench(
        clients=args.booking_clients,
        seconds=args.seconds,
        processes=args.booking_processes,
        fill_capacity=args.booking_rush,
    )


def broadcast(args: argparse.Namespace) -> dict:
    """One broadcast to ``--broadcast-friends`` friends (tests.bench.broadcast), against the
    lean simulator (what the sender costs) and the full one (with its bookkeeping)."""
    from tests.bench.broadcast import run_broadcast_bench

    common = {
        "friends": args.broadcast_friends,
        "database_url": args.database_url,
        "redis_url": args.redis_url,
        "logs": args.logs,
    }
    return {
        "lean_simulator": run_broadcast_bench(**common, lean=True),
        "full_simulator": run_broadcast_bench(**common, lean=False),
    }


def parallel_broadcast(args: argparse.Namespace) -> dict:
    """``--parallel-channels`` channels broadcasting at once (tests.bench.broadcast)."""
    from tests.bench.broadcast import run_parallel_bench

    return run_parallel_bench(
        channels=args.parallel_channels,
        friends=args.parallel_friends,
        database_url=args.database_url,
        redis_url=args.redis_url,
        logs=args.logs,
    )


def inbox(args: argparse.Namespace) -> dict:
    """The reviewer's list pages at ``--inbox-submissions`` submissions (tests.bench.inbox)."""
    from tests.bench.inbox import run_inbox_bench

    return run_inbox_bench(
        submissions=args.inbox_submissions,
        database_url=args.database_url,
        redis_url=args.redis_url,
        requests=args.inbox_requests,
        logs=args.logs,
    )


def open311(args: argparse.Namespace) -> dict:
    """Open311 GET requests at ``--open311-reports`` reports (tests.bench.open311)."""
    return open311_bench.run_open311_bench(
        reports=args.open311_reports,
        database_url=args.database_url,
        redis_url=args.redis_url,
        requests=args.inbox_requests,
        logs=args.logs,
    )


def broadcast_table(figures: dict) -> str:
    keys = ("freeze_seconds", "send_seconds", "floor_seconds", "ratio_to_floor")
    keys += ("worker_rss_idle_mib", "worker_rss_peak_mib", "sent", "failed")
    lines = [f"broadcast to {figures['lean_simulator']['friends']:,} friends"]
    lines.append(f"{'':22}{'lean simulator':>16}{'full simulator':>16}")
    for key in keys:
        lean, full = figures["lean_simulator"][key], figures["full_simulator"][key]
        lines.append(f"{key:22}{lean:>16}{full:>16}")
    return "\n".join(lines)


def prepare(args: argparse.Namespace) -> Prepared:
    """The bench environment for this process and its children; the database's content."""
    product_port, line_port = servers.free_port(), servers.free_port()
    var_dir = Path(tempfile.mkdtemp(prefix="govtech-bench-"))
    env = servers.bench_env(
        database_url=args.database_url,
        redis_url=args.redis_url,
        site_url=f"http://127.0.0.1:{product_port}",
        line_api=f"http://127.0.0.1:{line_port}/simulator/api/line",
        var_dir=var_dir,
    )
    os.environ.update(env)  # this process reads the same settings as the servers
    import django

    django.setup()
    from tests.bench import world

    servers.database_ensure(args.database_url)
    servers.redis_flush(args.redis_url)
    content = world.world_prepare()
    world.close_connections()
    return Prepared(
        env=env, product_port=product_port, line_port=line_port, var_dir=var_dir, world=content
    )


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    prepared = prepare(args)
    if args.rush:
        return rush_only(args, prepared)
    try:
        ack = acknowledgement(args, prepared)
        servers.redis_flush(args.redis_url)  # the acknowledged events' tasks: nobody runs them
        talk = None if args.skip_conversations else conversations(args, prepared)
        bursting = None if args.skip_burst else burst(args, prepared)
        rushing = None if args.skip_rush else rush(args, prepared)
        booking = None if args.skip_bookings else bookings(args)
        casting = None if args.skip_broadcast else broadcast(args)
        parallel = None if args.skip_parallel_broadcast else parallel_broadcast(args)
        inboxing = None if args.skip_inbox else inbox(args)
        exporting = (
            None if args.skip_exports else exports_bench.run_exports_bench(rows=args.export_rows)
        )
        dashboarding = None
        if not args.skip_dashboards:
            dashboarding = dashboards_bench.run_dashboards_bench(
                friends=args.dashboard_friends, conversations=args.dashboard_conversations
            )
        reporting = None if args.skip_open311 else open311(args)
        spotting = None if args.skip_spots else spots_bench.run_spots_bench(spots=args.spots)
        answering = None if args.skip_spots else faq_bench.run_faq_bench(entries=args.faq_entries)
        menus = (
            None
            if args.skip_menus
            else menus_bench.run_menus_bench(
                friends=args.menu_friends,
                linked=args.menu_linked,
                database_url=args.database_url,
                redis_url=args.redis_url,
                logs=args.logs,
            )
        )
    finally:
        shutil.rmtree(prepared.var_dir, ignore_errors=True)
    figures = {
        "setup": setup(args),
        "acknowledgement": ack,
        "conversations": talk,
    }
    if bursting is not None:
        figures["burst"] = bursting
    if rushing is not None:
        figures["rush"] = rushing
    if booking is not None:
        figures["bookings"] = booking
    if casting is not None:
        figures["broadcast"] = casting
    if parallel is not None:
        figures["broadcasts_in_parallel"] = parallel
    if inboxing is not None:
        figures["inbox"] = inboxing
    if exporting is not None:
        figures["exports"] = exporting
    if dashboarding is not None:
        figures["dashboards"] = dashboarding
    if reporting is not None:
        figures["open311"] = reporting
    if spotting is not None:
        figures["spots"] = spotting
    if answering is not None:
        figures["faq"] = answering
    if menus is not None:
        figures["disaster_menus"] = menus
    figures["verdict"] = report.verdict(figures)
    print(report.table(figures))
    if bursting is not None:
        from tests.bench.stack_burst import table as burst_table

        print("\n" + burst_table(bursting))
    if rushing is not None:
        from tests.bench.rush import table as rush_table

        print("\n" + rush_table(rushing))
    if booking is not None:
        from tests.bench.bookings import table as bookings_table

        print("\n" + bookings_table(booking))
    if casting is not None:
        print("\n" + broadcast_table(casting))
    if parallel is not None:
        from tests.bench.broadcast import parallel_table

        print("\n" + parallel_table(parallel))
    if inboxing is not None:
        from tests.bench.inbox import table as inbox_table

        print("\n" + inbox_table(inboxing))
    if exporting is not None:
        print("\n" + exports_bench.table(exporting))
    if dashboarding is not None:
        print("\n" + dashboards_bench.table(dashboarding))
    if reporting is not None:
        print("\n" + open311_bench.table(reporting))
    if spotting is not None:
        print("\n" + spots_bench.table(spotting))
    if answering is not None:
        print("\n" + faq_bench.table(answering))
    if menus is not None:
        print("\n" + menus_bench.table(menus))
    report.write_json(figures, args.json)
    print(f"\nfigures: {args.json}  server logs: {args.logs}")
    return 0 if healthy(figures) else 1


def healthy(figures: dict) -> bool:
    """Every request answered 200 (the inbox's pages too), every event stored, every
    conversation completed, the burst accepted (its timing is a figure, not a failure)."""
    ack, talk = figures["acknowledgement"], figures["conversations"]
    answered = all(set(ack[k]["statuses"]) == {"200"} for k in ("bare", "webhook"))
    stored = ack["events_stored"] == ack["webhook"]["requests"]
    booking = figures.get("bookings")
    booked = booking is None or bookings_healthy(booking)
    talked = talk is None or (talk["completed"] == talk["residents"] and not talk["errors"])
    casts = figures.get("broadcast", {}).values()
    cast = all(run["status"] == "sent" and run["sent"] == run["friends"] for run in casts)
    parallel = figures.get("broadcasts_in_parallel")
    cast = cast and (parallel is None or broadcast_bench.parallel_healthy(parallel))
    rushing = figures.get("rush")
    rushed = rushing is None or rush_healthy(rushing)
    bursting = figures.get("burst")
    burst_accepted = bursting is None or bursting["webhook_status"] == 200
    inboxing = figures.get("inbox")
    listed = inboxing is None or all(
        set(run["statuses"]) == {"200"} for run in inboxing["pages"].values()
    )
    exported = "exports" not in figures or exports_bench.healthy(figures["exports"])
    shown = "dashboards" not in figures or dashboards_bench.healthy(figures["dashboards"])
    reported = "open311" not in figures or open311_bench.healthy(figures["open311"])
    found = "spots" not in figures or spots_bench.healthy(figures["spots"])
    swapped = "disaster_menus" not in figures or menus_bench.healthy(figures["disaster_menus"])
    checks = (
        swapped,
        answered,
        stored,
        talked,
        booked,
        cast,
        burst_accepted,
        rushed,
        listed,
        exported,
        shown,
        reported,
        found,
    )
    return all(checks)


def rush_healthy(figures: dict) -> bool:
    from tests.bench.rush import healthy as rush_correct

    return rush_correct(figures)


def bookings_healthy(figures: dict) -> bool:
    """Every booking run booked, without errors, exactly the places it counted, never
    above a slot's capacity, every counter right; the rush filled its slot exactly."""
    runs = [*figures["runs"], figures["fill"]]
    right = all(
        not run["errors"]
        and run["places_taken"] == run["bookings"] > 0
        and run["overbooked_places"] == 0
        and run["counters_out_of_step"] in (0, None)
        for run in runs
    )
    return right and figures["fill"]["places_taken"] == figures["fill"]["capacity"]


if __name__ == "__main__":
    sys.exit(main())
