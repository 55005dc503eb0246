"""Broadcast bench: one broadcast to N synthetic friends against the simulator; and many
channels broadcasting at once (``--channels 20 --friends 50000``).

``run_broadcast_bench(friends=…, database_url=…, redis_url=…)`` returns the figures;
``python -m tests.bench.broadcast --friends 100000`` runs it alone. A gunicorn serves the
simulator (multicast rate limit 200 requests/s, deliveries counted, not transcribed) and
a Celery worker consumes ``broadcast``. Measured: time to freeze the recipients (one
INSERT … SELECT), total send time against the rate-limit floor (N / 500 / 200 s), and the
worker's peak RSS (its process tree), which should not grow with N.
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from tests.bench import cpu, servers

CITY = "bench-broadcast"
CHANNEL_ID = "2000000888"
RATE = 200  # LINE's multicast limit, requests per second
WAIT_SECONDS = 60  # beyond ten times the floor, a broadcast that has not finished is stuck
LOGS = servers.ROOT / "artifacts" / "bench-logs"
STARTUP_SECONDS = 120  # a machine shared with other runs took over 30 s to start gunicorn


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (Linux /proc), KiB."""
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next(
                    (int(line.split()[1]) for line in status if line.startswith("VmRSS")), 0
                )
            with open(f"/proc/{current}/task/{current}/children") as children:
                pids += [int(child) for child in children.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


class PeakRss(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stopped = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak = max(self.peak, _tree_rss_kib(self.pid))
            time.sleep(0.1)


def seed(
    friends: int,
    site_url: str,
    *,
    lean: bool = False,
    slug: str = CITY,
    channel_id: str = CHANNEL_ID,
    rate: int = RATE,
    vacuum: bool = True,
):
    """City, simulator channel (count-only, ``rate`` multicasts/s, lean or full), ``friends``
    friends; idempotent. The friends' LINE user IDs are U…0 to U…(friends-1) on every
    channel (one LINE user may follow many cities' channels)."""
    from django.db import connection
    from django_scopes import scopes_disabled

    from delivery.broadcasts.models import Broadcast
    from delivery.broadcasts.services import broadcast_policy_set
    from delivery.models import Friend
    from delivery.services import line_channel_bind_simulator
    from delivery.simulator.models import SimulatorChannel
    from govtech.models import Municipality
    from govtech.services import municipality_create

    city = Municipality.objects.filter(slug=slug).first() or municipality_create(
        actor=None, slug=slug, name=f"ベンチ市 {slug}", prefecture="東京都"
    )
    channel = line_channel_bind_simulator(
        actor=None, municipality=city, channel_id=channel_id, name=f"{city.name}公式"
    )
    SimulatorChannel.objects.filter(channel_id=channel_id).update(
        record_transcript=False,
        lean_sending=lean,
        rate_limits={"multicast": [rate, 1], "default": [2000, 1]},
    )
    broadcast_policy_set(
        actor=None, municipality=city, approval_required=False, requests_per_second=rate
    )
    with scopes_disabled():
        Broadcast.objects.filter(municipality=city).delete()  # an earlier run's recipients
        have = Friend.objects.filter(channel=channel).count()
    with connection.cursor() as cursor:  # exactly ``friends`` friends, U…0 to U…(friends-1)
        cursor.execute(
            "DELETE FROM delivery_friend WHERE channel_id = %s"
            " AND line_user_id >= 'U' || lpad(to_hex(%s), 32, '0')",
            [channel.pk, friends],
        )
        have = min(have, friends)
    if have < friends:
        _seed_friends(city, channel, have, friends)
    if vacuum:
        vacuum_tables()
    return city, channel


def _seed_friends(city, channel, have: int, friends: int) -> None:
    """Friends ``have`` to ``friends - 1`` of the channel, each with a resident."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO simulator_simulatoruser (user_id, display_name, picture_url,"
            " status_message, language, created_at) SELECT 'U' || lpad(to_hex(n), 32, '0'),"
            " 'bench', '', '', 'ja', now() FROM generate_series(%s, %s - 1) n"
            " ON CONFLICT DO NOTHING",
            [have, friends],
        )
        # Each friend's resident (procedures) holds the attributes; the handle maps
        # them one to one. Residents of friends deleted above go first.
        cursor.execute(
            "DELETE FROM procedures_resident r WHERE r.municipality_id = %s"
            " AND NOT EXISTS (SELECT 1 FROM delivery_friend f WHERE f.resident_id = r.id)",
            [city.pk],
        )
        cursor.execute(
            "WITH people AS (INSERT INTO procedures_resident (municipality_id, handle,"
            " display_name, language, attributes, consents, is_test, created_at)"
            " SELECT %s, 'bench:' || n, 'bench', 'ja', '{\"area\": \"north\"}'::jsonb,"
            " '{}'::jsonb, false, now() FROM generate_series(%s, %s - 1) n"
            " RETURNING id, handle)"
            " INSERT INTO delivery_friend (municipality_id, channel_id, line_user_id,"
            " resident_id, display_name, language, picture_url, is_following, is_test,"
            " created_at) SELECT %s, %s,"
            " 'U' || lpad(to_hex(substr(handle, 7)::int), 32, '0'), id, 'bench', 'ja', '',"
            " true, false, now() FROM people",
            [city.pk, have, friends, city.pk, channel.pk],
        )


def vacuum_tables() -> None:
    """As after a day's autovacuum: no earlier run's bloat, fresh statistics."""
    from django.db import connection

    with connection.cursor() as cursor:
        tables = ("delivery_broadcastrecipient", "delivery_broadcastchunk", "delivery_friend")
        for table in (*tables, "procedures_resident"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def _broadcast(city, channel, friends: int):
    from django_scopes import scopes_disabled

    from delivery.broadcasts.models import Broadcast
    from delivery.broadcasts.services import broadcast_create, broadcast_submit

    rules = {"match": "all", "conditions": [{"field": "area", "op": "is", "value": "north"}]}
    with scopes_disabled():
        Broadcast.objects.filter(municipality=city).delete()
    draft = broadcast_create(
        actor=None,
        channel=channel,
        title=f"bench {friends}",
        items=[{"type": "text", "text": "ベンチマークのお知らせ"}],
        rules=rules,
    )
    return broadcast_submit(actor=None, broadcast=draft)


def _warm_up(url: str, *, requests: int) -> None:
    """A few requests on new connections, so that each gunicorn worker has imported the
    URLconf and connected to the database before the clock runs (0.3 s of CPU each,
    once per process: a long-running server has paid it long before a broadcast)."""
    for _ in range(requests):
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (loopback)
            answer.read()


def worker_command(*, pool: str, concurrency: int) -> list[str]:
    """A worker of the ``broadcast`` queue (the product's recommended one: see ADR 0008)."""
    command = servers.celery_command(concurrency=concurrency)
    command[command.index("--queues") + 1] = "broadcast"
    command[command.index("--pool") + 1] = pool
    return command


def run_broadcast_bench(
    *,
    friends: int,
    database_url: str,
    redis_url: str,
    concurrency: int = 8,
    web_workers: int = 4,
    pool: str = "threads",
    lean: bool = True,
    logs: Path = LOGS,
) -> dict:
    """Seed, serve, broadcast, wait; the figures as a dict (see the module docstring)."""
    from django_scopes import scopes_disabled

    from delivery.broadcasts.models import Broadcast

    port = servers.free_port()
    site = f"http://127.0.0.1:{port}"
    var = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    env = servers.bench_env(
        database_url=database_url,
        redis_url=redis_url,
        site_url=site,
        line_api=f"{site}/simulator/api/line",
        var_dir=var,
    )
    os.environ.update({k: env[k] for k in ("LINE_API_BASE_URL", "SITE_URL")})
    from django.conf import settings

    settings.LINE_API_BASE_URL, settings.SITE_URL = env["LINE_API_BASE_URL"], site
    started = time.monotonic()
    city, channel = seed(friends, site, lean=lean)
    seeded = time.monotonic() - started
    worker_cmd = worker_command(pool=pool, concurrency=concurrency)
    web_cmd = servers.gunicorn_command(port=port, workers=web_workers, threads=4)
    with (
        servers.process("broadcast-simulator", web_cmd, env=env, logs=logs) as web,
        servers.process("broadcast-worker", worker_cmd, env=env, logs=logs) as worker,
    ):
        servers.wait_for_http(f"{site}/simulator/api/channels/", web, timeout=STARTUP_SECONDS)
        _warm_up(f"{site}/simulator/api/channels/", requests=8 * web_workers)
        servers.wait_for_worker(worker)
        peak = PeakRss(worker.pid)
        peak.start()
        idle_rss = _tree_rss_kib(worker.pid)
        broadcast = _broadcast(city, channel, friends)  # due now: frozen here, sent by the worker
        deadline = time.monotonic() + WAIT_SECONDS + friends / 500 / RATE * 10
        with scopes_disabled():
            while Broadcast.objects.get(pk=broadcast.pk).status in ("scheduled", "sending"):
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise RuntimeError(f"the broadcast did not finish; see {logs}")
                time.sleep(0.2)
            done = Broadcast.objects.get(pk=broadcast.pk)
        peak.stopped.set()
    freeze = (done.frozen_at - done.started_at).total_seconds()
    send = (done.finished_at - done.frozen_at).total_seconds()
    floor = friends / 500 / RATE
    return {
        "friends": friends,
        "status": done.status,
        "sent": done.sent_count,
        "failed": done.failed_count,
        "seed_seconds": round(seeded, 1),
        "freeze_seconds": round(freeze, 2),
        "send_seconds": round(send, 2),
        "floor_seconds": floor,
        "ratio_to_floor": round(send / floor, 3),
        "worker_rss_idle_mib": round(idle_rss / 1024, 1),
        "worker_rss_peak_mib": round(peak.peak / 1024, 1),
        "worker": f"{pool} × {concurrency}",
        "simulator": f"{'lean' if lean else 'full'}, gthread {web_workers} × 4",
    }


PARALLEL_RATE = 5  # multicasts/s per channel in the parallel run: LINE's 200/s ÷ 40
PARALLEL_CHANNEL_BASE = 2000001000  # channel IDs of the parallel run's cities


def _parallel_world(channels: int, friends: int, site: str, rate: int) -> list:
    """``channels`` cities (bench-parallel-00, …), each with its channel and ``friends``."""
    world = [
        seed(
            friends,
            site,
            lean=True,
            slug=f"bench-parallel-{n:02d}",
            channel_id=str(PARALLEL_CHANNEL_BASE + n),
            rate=rate,
            vacuum=False,
        )
        for n in range(channels)
    ]
    vacuum_tables()
    return world


def _drafts(world: list) -> list:
    from delivery.broadcasts.services import broadcast_create

    return [
        broadcast_create(
            actor=None,
            channel=channel,
            title=f"parallel {city.slug}",
            items=[{"type": "text", "text": "ベンチマークのお知らせ"}],
            rules=None,
        )
        for city, channel in world
    ]


def _wait_all_sent(ids: list[int], worker, deadline: float) -> list:
    from django_scopes import scopes_disabled

    from delivery.broadcasts.models import Broadcast, BroadcastChunk

    with scopes_disabled():
        while Broadcast.objects.filter(pk__in=ids, status__in=("scheduled", "sending")).exists():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"the broadcasts did not finish; see {LOGS}")
            time.sleep(0.2)
        done = list(Broadcast.objects.filter(pk__in=ids).order_by("pk"))
        for broadcast in done:
            broadcast.requests = BroadcastChunk.objects.filter(broadcast=broadcast).count()
    return done


def _channel_row(broadcast, rate: int, submitted) -> dict:
    floor = broadcast.requests / rate
    send = (broadcast.finished_at - broadcast.frozen_at).total_seconds()
    return {
        "city": broadcast.municipality.slug,
        "status": broadcast.status,
        "friends": broadcast.recipients_count,
        "sent": broadcast.sent_count,
        "requests": broadcast.requests,
        "floor_seconds": round(floor, 2),
        "start_lag_seconds": round((broadcast.frozen_at - submitted).total_seconds(), 2),
        "send_seconds": round(send, 2),
        "ratio_to_floor": round(send / floor, 3),
    }


def run_parallel_bench(
    *,
    channels: int,
    friends: int,
    database_url: str,
    redis_url: str,
    rate: int = PARALLEL_RATE,
    concurrency: int = 8,
    web_workers: int = 4,
    logs: Path = LOGS,
) -> dict:
    """``channels`` cities broadcast to ``friends`` friends each, all submitted at once, one
    broadcast worker (threads × ``concurrency``), the lean simulator with every channel
    limited to ``rate`` multicasts a second. Per channel: its send time (frozen → finished)
    against its floor (its requests ÷ ``rate``)."""
    from django.utils import timezone

    from delivery.broadcasts.services import broadcast_submit

    port = servers.free_port()
    site = f"http://127.0.0.1:{port}"
    env = servers.bench_env(
        database_url=database_url,
        redis_url=redis_url,
        site_url=site,
        line_api=f"{site}/simulator/api/line",
        var_dir=Path(tempfile.mkdtemp(prefix="bench-parallel-")),
    )
    os.environ.update({k: env[k] for k in ("LINE_API_BASE_URL", "SITE_URL")})
    from django.conf import settings

    settings.LINE_API_BASE_URL, settings.SITE_URL = env["LINE_API_BASE_URL"], site
    started = time.monotonic()
    world = _parallel_world(channels, friends, site, rate)
    seeded = time.monotonic() - started
    worker_cmd = worker_command(pool="threads", concurrency=concurrency)
    web_cmd = servers.gunicorn_command(port=port, workers=web_workers, threads=4)
    with (
        servers.process("parallel-simulator", web_cmd, env=env, logs=logs) as web,
        servers.process("parallel-worker", worker_cmd, env=env, logs=logs) as worker,
    ):
        servers.wait_for_http(f"{site}/simulator/api/channels/", web, timeout=STARTUP_SECONDS)
        _warm_up(f"{site}/simulator/api/channels/", requests=8 * web_workers)
        servers.wait_for_worker(worker)
        drafts = _drafts(world)
        roots = {
            "worker": worker.pid,
            "simulator": web.pid,
            "postgresql": cpu.postgres_root(database_url),
            "redis": cpu.redis_root(redis_url),
        }
        before = cpu.snapshot(roots)
        submitted = timezone.now()
        for draft in drafts:  # due now: frozen and sent by the worker
            broadcast_submit(actor=None, broadcast=draft)
        floor = -(-friends // 500) / rate
        deadline = time.monotonic() + WAIT_SECONDS + floor * 10
        done = _wait_all_sent([draft.pk for draft in drafts], worker, deadline)
        used = cpu.per_unit_ms(before, cpu.snapshot(roots), sum(b.requests for b in done))
        load = os.getloadavg()[0]  # the last minute: others' work on a shared machine
    rows = [_channel_row(broadcast, rate, submitted) for broadcast in done]
    last = max(broadcast.finished_at for broadcast in done)
    return {
        "channels": channels,
        "friends_per_channel": friends,
        "rate_per_channel": rate,
        "time_scale": round(200 / rate, 2),
        "seed_seconds": round(seeded, 1),
        "rows": rows,
        "max_ratio": max(row["ratio_to_floor"] for row in rows),
        "all_seconds": round((last - submitted).total_seconds(), 2),
        "worker": f"threads × {concurrency}",
        "simulator": f"lean, gthread {web_workers} × 4",
        "load_average_1min": round(load, 2),
        "cpu_ms_per_request": {**used, "total": round(sum(used.values()), 2)},
        "cpus": os.cpu_count(),
    }


def parallel_healthy(figures: dict) -> bool:
    """Every channel's broadcast sent to every friend."""
    return all(
        row["status"] == "sent" and row["sent"] == row["friends"] == figures["friends_per_channel"]
        for row in figures["rows"]
    )


def parallel_table(figures: dict) -> str:
    """The per-channel table: friends, requests, floor, actual send time, ratio."""
    lines = [
        f"{figures['channels']} channels broadcasting at once, {figures['friends_per_channel']:,}"
        f" friends each; every channel limited to {figures['rate_per_channel']} multicasts/s"
        f" (LINE's 200/s with time × {figures['time_scale']:g}); worker {figures['worker']}",
        f"  {'city':<18}{'friends':>9}{'requests':>9}{'floor s':>9}{'lag s':>7}"
        f"{'actual s':>10}{'ratio':>7}",
    ]
    for row in figures["rows"]:
        lines.append(
            f"  {row['city']:<18}{row['friends']:>9,}{row['requests']:>9}"
            f"{row['floor_seconds']:>9.2f}{row['start_lag_seconds']:>7.2f}"
            f"{row['send_seconds']:>10.2f}{row['ratio_to_floor']:>7.3f}"
        )
    lines.extend(
        [
            f"  max ratio {figures['max_ratio']:.3f} (target ≤ 1.2); all {figures['channels']}"
            f" done {figures['all_seconds']:.2f} s after they were submitted"
            " (lag: submitted → frozen; actual: frozen → finished)",
            f"  load average at the end: {figures['load_average_1min']:g}"
            f" on {figures['cpus']} CPUs; CPU ms per multicast (freezes included): "
            + ", ".join(f"{name} {ms:g}" for name, ms in figures["cpu_ms_per_request"].items()),
        ]
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.broadcast")
    parser.add_argument("--friends", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=1, help="more: the parallel run")
    parser.add_argument("--rate", type=int, default=PARALLEL_RATE, help="parallel: per channel")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--pool", default="threads", help="the broadcast worker's Celery pool")
    parser.add_argument("--full-simulator", action="store_true", help="no lean mode")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    args = parser.parse_args(argv)
    os.environ.update(
        servers.bench_env(
            database_url=args.database_url,
            redis_url=args.redis_url,
            site_url="http://127.0.0.1",
            line_api="http://127.0.0.1",
            var_dir=Path(tempfile.mkdtemp()),
        )
    )
    servers.database_ensure(args.database_url)
    servers.redis_flush(args.redis_url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    if args.channels > 1:
        return _main_parallel(args)
    figures = run_broadcast_bench(
        friends=args.friends,
        database_url=args.database_url,
        redis_url=args.redis_url,
        concurrency=args.concurrency,
        web_workers=args.web_workers,
        pool=args.pool,
        lean=not args.full_simulator,
    )
    print(json.dumps(figures, indent=2))
    return 0 if figures["status"] == "sent" and figures["sent"] == args.friends else 1


def _main_parallel(args: argparse.Namespace) -> int:
    figures = run_parallel_bench(
        channels=args.channels,
        friends=args.friends,
        database_url=args.database_url,
        redis_url=args.redis_url,
        rate=args.rate,
        concurrency=args.concurrency,
        web_workers=args.web_workers,
    )
    print(json.dumps(figures, indent=2))
    print(parallel_table(figures))
    return 0 if parallel_healthy(figures) else 1


if __name__ == "__main__":
    sys.exit(main())
