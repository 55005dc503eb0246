"""Dashboard bench: a city of N LINE friends and M conversations over a year, its daily
aggregates computed (the year's backfill and one nightly run, seconds of each), then the
dashboard pages timed and their queries counted.

``run_dashboards_bench(friends=…, conversations=…)`` returns the figures (Django set up
on PostgreSQL); ``python -m tests.bench.dashboards --friends 1000000 --conversations
1000000`` runs it alone. The data is seeded once per database with INSERT … SELECT over
``generate_series`` (no row passes through Python) and reused:

- friends: followed over the past year, one in ten blocked 0-59 days later (when that is
  already past), each with their resident;
- conversations ("conversation events": each is one resident's run through a procedure,
  its state holding the step it reached): over three published procedures of six steps,
  45 % submitted (with their submission, one in five from the web form), the others
  cancelled, expired or still open at a step spread over the six;
- six broadcasts, 60 days apart, each to up to 100,000 friends following then;
- a reservation resource open 9:00-17:00 on weekdays with bookings, attendance and
  no-shows on every slot of the year.

Pages are requested in this process through Django's test client, signed in as the city's
admin (session, middleware, templates: the whole request), 2 unmeasured loads then the
median of ``--loads``; queries counted with ``CaptureQueriesContext`` on one more load.
Timings in-process leave out gunicorn and the network, which other benches measure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from tests.bench import servers

PROCEDURES = ("bench-dash-a", "bench-dash-b", "bench-dash-c")
STEPS = ["name", "address", "item", "photo", "day", "confirm"]
BROADCASTS = 6
BROADCAST_AUDIENCE = 100_000
YEAR = 365


def _document(key: str) -> dict:
    def step(step_id, kind, label):
        return {"id": step_id, "type": kind, "label": {"ja": label}, "prompt": {"ja": label}}

    return {
        "format": "govtech.procedure.v1",
        "key": key,
        "kind": "application",
        "title": {"ja": f"ベンチ手続き {key[-1].upper()}"},
        "languages": ["ja"],
        "steps": [
            step("name", "text", "氏名"),
            step("address", "text", "住所"),
            step("item", "text", "品目"),
            step("photo", "image", "写真"),
            step("day", "date", "希望日"),
            {"id": "confirm", "type": "confirm"},
        ],
    }


def _sql(statement: str, params: list | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def names(friends: int, conversations: int) -> tuple[str, str, str]:
    """The city's slug, its admin's e-mail and its channel ID: one city per pair of
    counts, so that a run with other numbers seeds a city of its own beside it."""
    tag = f"{friends}-{conversations}"
    return f"bench-dash-{tag}", f"dashboards-{tag}@bench.example", f"d{tag}"[:20]


def seed(friends: int, conversations: int):
    """The city and its year of activity; reused when it is there complete."""
    from django.db import transaction
    from django.utils import timezone

    from govtech.models import Municipality

    slug, admin, channel_id = names(friends, conversations)
    city = Municipality.objects.filter(slug=slug).first()
    if city is not None and _seeded_counts(city) == (friends, conversations):
        return city
    if city is not None:
        raise RuntimeError(f"{slug} is there but incomplete: drop the bench database")
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        city = _city_and_staff(now, slug, admin, channel_id)
        _seed_friends(city, friends, now)
        procedures = _procedures(city)
        _seed_conversations(city, procedures, conversations, friends, now)
        _seed_broadcasts(city, now)
        _seed_reservations(city, now)
    for table in (
        "delivery_friend",
        "procedures_resident",
        "procedures_conversation",
        "procedures_submission",
        "delivery_broadcastrecipient",
        "procedures_booking",
    ):
        _sql(f"VACUUM ANALYZE {table}")
    return city


def _seeded_counts(city) -> tuple[int, int]:
    from django_scopes import scopes_disabled

    from delivery.models import Friend
    from procedures.models import Conversation

    with scopes_disabled():
        return (
            Friend.objects.filter(municipality=city).count(),
            Conversation.objects.filter(municipality=city).count(),
        )


def _city_and_staff(now, slug: str, admin: str, channel_id: str):
    from allauth.mfa.models import Authenticator

    from delivery.services import line_channel_create
    from govtech.models import Role, StaffMembership, User
    from govtech.services import municipality_create
    from govtech.tenancy import tenant_scope

    city = municipality_create(actor=None, slug=slug, name="ベンチ集計市", prefecture="東京都")
    city.population = 1_800_000
    city.save(update_fields=["population"])
    user, _ = User.objects.get_or_create(email=admin, defaults={"username": admin})
    Authenticator.objects.get_or_create(
        user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": "x"}}
    )
    with tenant_scope(city):
        StaffMembership.objects.get_or_create(municipality=city, user=user, role=Role.ADMIN)
    line_channel_create(
        actor=None,
        municipality=city,
        name="ベンチ集計市",
        channel_id=channel_id,
        channel_secret="s" * 32,
        access_token="t" * 40,
    )
    return city


def _seed_friends(city, friends: int, now) -> None:
    """Residents and friends; friend n followed at n/friends of the year, one in ten
    blocked (n*13 mod 60) days later when that has passed."""
    from delivery.models import LineChannel

    channel = LineChannel.objects.with_scope(municipality=city).get()
    start = now - timedelta(days=YEAR)
    _sql(
        "WITH people AS (INSERT INTO procedures_resident (municipality_id, handle,"
        " display_name, language, attributes, consents, is_test, created_at)"
        " SELECT %s, 'dash:' || n, '', 'ja', '{}'::jsonb, '{}'::jsonb, false, %s"
        " FROM generate_series(0, %s - 1) n RETURNING id, substr(handle, 6)::int AS n),"
        " timed AS (SELECT id, n, %s + make_interval(secs => n::float8 * %s / %s) AS at"
        " FROM people)"
        " INSERT INTO delivery_friend (municipality_id, channel_id, line_user_id, resident_id,"
        " display_name, language, picture_url, is_following, followed_at, unfollowed_at,"
        " is_test, created_at)"
        " SELECT %s, %s, 'U' || lpad(to_hex(n), 32, '0'), id, '', 'ja', '',"
        " NOT blocked, at, CASE WHEN blocked THEN block_at END, false, at FROM ("
        "  SELECT id, n, at, at + make_interval(days => n * 13 %% 60) AS block_at,"
        "  n %% 10 = 3 AND at + make_interval(days => n * 13 %% 60) < %s AS blocked"
        "  FROM timed) f",
        [city.pk, now, friends, start, YEAR * 86400, friends, city.pk, channel.pk, now],
    )


def _procedures(city) -> list[tuple[int, int, str]]:
    from govtech.tenancy import tenant_scope
    from procedures.models import Procedure, ProcedureVersion

    made = []
    with tenant_scope(city):
        for key in PROCEDURES:
            document = _document(key)
            procedure = Procedure.objects.create(municipality=city, key=key, draft=document)
            version = ProcedureVersion.objects.create(
                municipality=city, procedure=procedure, number=1, document=document
            )
            procedure.live_version = version
            procedure.save(update_fields=["live_version"])
            made.append((procedure.pk, version.pk, key))
    return made


def _seed_conversations(city, procedures, conversations: int, friends: int, now) -> None:
    """Conversation n: resident of friend n mod friends, procedure n mod 3, started at
    n/conversations of the year; h = n*7919 mod 100 decides its outcome and the step it
    reached. Then a submission for each submitted one."""
    start = now - timedelta(days=YEAR)
    flat = [v for i, (p, ver, key) in enumerate(procedures) for v in (i, p, ver, key)]
    # Driven from the friends (a known million rows) rather than joined to a
    # generate_series, whose estimate of 1,000 rows made the planner loop over every pair.
    statement = (
        "WITH procs (i, procedure_id, version_id, key) AS"
        " (VALUES (%s, %s, %s, %s), (%s, %s, %s, %s), (%s, %s, %s, %s)),"
        " people AS (SELECT resident_id, row_number() OVER (ORDER BY id) - 1 AS n"
        "  FROM delivery_friend WHERE municipality_id = %s),"
        " runs AS (SELECT p.resident_id, p.n + k * %s AS n FROM people p"
        "  CROSS JOIN generate_series(0, (%s - 1) / %s) k WHERE p.n + k * %s < %s),"
        " shaped AS (SELECT n, resident_id,"
        "  %s + make_interval(secs => n::float8 * %s / %s) AS started,"
        "  CASE WHEN (n * 7919) %% 100 < 45 THEN 'submitted'"
        "   WHEN (n * 7919) %% 100 < 75 THEN 'cancelled'"
        "   WHEN (n * 7919) %% 100 < 97 OR n >= %s THEN 'expired' ELSE 'active' END AS status,"
        "  CASE WHEN (n * 7919) %% 100 < 45 THEN 5 ELSE (n * 7919) %% 100 %% 6 END AS k,"
        "  %s::text[] AS steps FROM runs)"
        " INSERT INTO procedures_conversation (municipality_id, resident_id, procedure_id,"
        " version_id, status, state, language, is_test, channel, started_at, updated_at)"
        " SELECT %s, s.resident_id, c.procedure_id, c.version_id, s.status,"
        " jsonb_build_object('procedure_key', c.key, 'status', s.status,"
        "  'step_id', s.steps[s.k + 1], 'lang', 'ja', 'updated_at', '', 'started_at', '',"
        "  'history', to_jsonb(s.steps[1:s.k]), 'answers', '{}'::jsonb),"
        " 'ja', false, 'line', s.started, s.started"
        " FROM shaped s JOIN procs c ON c.i = s.n %% 3"
    )
    runs = [friends, conversations, friends, friends, conversations]
    # One open conversation per resident at most: only a resident's first can be open.
    shape = [start, YEAR * 86400, conversations, friends, STEPS]
    _sql(statement, [*flat, city.pk, *runs, *shape, city.pk])
    _sql(
        "INSERT INTO procedures_submission (municipality_id, reference, procedure_id,"
        " version_id, conversation_id, resident_id, answers, language, status, is_test,"
        " submitted_at, channel, last_activity_at, search_text)"
        " SELECT municipality_id, 'D-' || id, procedure_id, version_id, id, resident_id,"
        " '{}'::jsonb, 'ja', 'completed', false, at, CASE WHEN id %% 5 = 0 THEN 'web'"
        " ELSE 'line' END, at, '' FROM (SELECT *, started_at"
        " + make_interval(secs => 60 + (id * 37) %% 3600) AS at FROM procedures_conversation"
        " WHERE municipality_id = %s AND status = 'submitted') c",
        [city.pk],
    )


def _seed_broadcasts(city, now) -> None:
    from delivery.broadcasts.models import Broadcast
    from delivery.models import LineChannel
    from govtech.tenancy import tenant_scope

    with tenant_scope(city):
        channel = LineChannel.objects.get()
        for number in range(BROADCASTS):
            started = now - timedelta(days=YEAR - 30 - 60 * number, hours=3)
            sent = Broadcast.objects.create(
                municipality=city,
                channel=channel,
                title=f"お知らせ {number + 1}",
                status="sent",
                started_at=started,
                finished_at=started + timedelta(minutes=20),
            )
            count = _sql(
                "INSERT INTO delivery_broadcastrecipient (broadcast_id, seq, friend_id)"
                " SELECT %s, row_number() OVER (ORDER BY id) - 1, id FROM ("
                "  SELECT id FROM delivery_friend WHERE municipality_id = %s"
                "  AND followed_at < %s AND (unfollowed_at IS NULL OR unfollowed_at > %s)"
                "  ORDER BY id LIMIT %s) f",
                [sent.pk, city.pk, started, started, BROADCAST_AUDIENCE],
            )
            Broadcast.objects.filter(pk=sent.pk).update(recipients_count=count, sent_count=count)


def _seed_reservations(city, now) -> None:
    from datetime import time as clock

    from govtech.tenancy import tenant_scope
    from procedures.reservations.models import OpeningRule, Resource

    with tenant_scope(city):
        resource = Resource.objects.create(
            municipality=city, key="bench-hall", name="ベンチ会館", capacity=10
        )
        for weekday in range(5):
            OpeningRule.objects.create(
                municipality=city,
                resource=resource,
                weekday=weekday,
                opens=clock(9),
                closes=clock(17),
            )
    _sql(
        "INSERT INTO procedures_slot (municipality_id, resource_id, starts_at, ends_at,"
        " capacity, is_blocked, taken)"
        " SELECT %s, %s, at, at + interval '1 hour', 10, false, 0 FROM ("
        "  SELECT (d + make_interval(hours => h)) AT TIME ZONE 'Asia/Tokyo' AS at"
        "  FROM generate_series(date_trunc('day', (%s AT TIME ZONE 'Asia/Tokyo'))"
        "   - interval '365 days', date_trunc('day', (%s AT TIME ZONE 'Asia/Tokyo')),"
        "   interval '1 day') d,"
        "   generate_series(9, 16) h WHERE extract(isodow FROM d) < 6) s",
        [city.pk, resource.pk, now, now],
    )
    _sql(
        "INSERT INTO procedures_booking (municipality_id, resource_id, slot_id, party_size,"
        " places, status, source, contact_name, contact_phone, created_at)"
        " SELECT s.municipality_id, s.resource_id, s.id, 1, 1,"
        " CASE WHEN s.starts_at > %s THEN 'confirmed' WHEN (s.id * 31 + b) %% 100 < 7"
        "  THEN 'no_show' WHEN (s.id * 31 + b) %% 100 < 10 THEN 'cancelled' ELSE 'attended' END,"
        " 'line', '', '', s.starts_at - interval '3 days'"
        " FROM procedures_slot s, generate_series(1, 10) b"
        " WHERE s.resource_id = %s AND b <= (s.id * 7) %% 11",
        [now, resource.pk],
    )
    _sql(  # each slot's counter of held places, as the booking services keep it
        "UPDATE procedures_slot s SET taken = (SELECT coalesce(sum(b.places), 0)"
        " FROM procedures_booking b WHERE b.slot_id = s.id"
        " AND b.status IN ('confirmed', 'attended', 'no_show')) WHERE s.resource_id = %s",
        [resource.pk],
    )


# --- the measured parts --------------------------------------------------------------------


def aggregate(city) -> dict:
    """The year's backfill (as the command runs it: by months) and one nightly run."""
    from reports.dashboards.aggregation import SETTLE_DAYS, aggregates_compute, tokyo_today

    last = tokyo_today() - timedelta(days=1)
    first = last - timedelta(days=YEAR - 1)
    started = time.monotonic()
    rows: dict[str, int] = {}
    stretch = first
    while stretch <= last:
        end = min(stretch + timedelta(days=30), last)
        for kind, count in aggregates_compute(municipality=city, first=stretch, last=end).items():
            rows[kind] = rows.get(kind, 0) + count
        stretch = end + timedelta(days=1)
    backfill = time.monotonic() - started
    started = time.monotonic()
    aggregates_compute(municipality=city, first=last - timedelta(days=SETTLE_DAYS - 1), last=last)
    nightly = time.monotonic() - started
    return {
        "backfill_days": (last - first).days + 1,
        "backfill_seconds": round(backfill, 1),
        "nightly_days": SETTLE_DAYS,
        "nightly_seconds": round(nightly, 2),
        "rows": rows,
    }


def pages(city, admin: str, *, loads: int) -> dict:
    """Each page's median milliseconds over ``loads`` loads and its query count."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from govtech.models import User
    from govtech.tenancy import tenant_scope
    from procedures.models import Procedure
    from reports.dashboards.aggregation import tokyo_today

    last = tokyo_today() - timedelta(days=1)
    year = f"from={(last - timedelta(days=YEAR - 1)).isoformat()}&to={last.isoformat()}"
    with tenant_scope(city):
        procedure = Procedure.objects.get(key=PROCEDURES[0])
    overview = reverse("admin:reports_dashboard")
    funnel = reverse("admin:reports_dashboard_procedure", args=[procedure.pk])
    urls = {
        "overview_30_days": overview,
        "overview_year": f"{overview}?{year}",
        "procedure_30_days": funnel,
        "procedure_year": f"{funnel}?{year}",
        "reservations_year": f"{reverse('admin:reports_dashboard_reservations')}?{year}",
    }
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=admin))
    found = {}
    for name, url in urls.items():
        timings, status = [], 200
        for number in range(2 + loads):
            started = time.perf_counter()
            answer = client.get(url)
            elapsed = time.perf_counter() - started
            status = answer.status_code if answer.status_code != 200 else status
            if number >= 2:
                timings.append(elapsed)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        found[name] = {
            "median_ms": round(statistics.median(timings) * 1000, 1),
            "max_ms": round(max(timings) * 1000, 1),
            "queries": len(captured.captured_queries),
            "status": status,
        }
    return found


def run_dashboards_bench(*, friends: int, conversations: int, loads: int = 10) -> dict:
    """Seed (once), aggregate, time the pages; the figures as a dict."""
    started = time.monotonic()
    city = seed(friends, conversations)
    figures: dict = {
        "friends": friends,
        "conversations": conversations,
        "seed_seconds": round(time.monotonic() - started, 1),
    }
    figures["aggregation"] = aggregate(city)
    figures["pages"] = pages(city, names(friends, conversations)[1], loads=loads)
    return figures


def healthy(figures: dict) -> bool:
    return all(page["status"] == 200 for page in figures["pages"].values())


def table(figures: dict) -> str:
    done = figures["aggregation"]
    lines = [
        f"dashboards with {figures['friends']:,} friends and {figures['conversations']:,}"
        f" conversations (seeded in {figures['seed_seconds']} s)",
        f"aggregation: backfill of {done['backfill_days']} days {done['backfill_seconds']} s,"
        f" nightly run of {done['nightly_days']} days {done['nightly_seconds']} s",
        f"{'page':22}{'median ms':>11}{'max ms':>9}{'queries':>9}{'status':>8}",
    ]
    for name, page in figures["pages"].items():
        lines.append(
            f"{name:22}{page['median_ms']:>11}{page['max_ms']:>9}{page['queries']:>9}"
            f"{page['status']:>8}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.dashboards")
    parser.add_argument("--friends", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--loads", type=int, default=10, help="timed loads per page")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--json", type=Path, default=None, help="where the figures go")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("PostgreSQL is needed: set DATABASE_URL")
    os.environ.update(
        servers.bench_env(
            database_url=args.database_url,
            redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:1/0"),
            site_url="http://127.0.0.1",
            line_api="http://127.0.0.1",
            var_dir=Path(tempfile.mkdtemp(prefix="bench-dashboards-")),
        )
    )
    servers.database_ensure(args.database_url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    figures = run_dashboards_bench(
        friends=args.friends, conversations=args.conversations, loads=args.loads
    )
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if healthy(figures) else 1


if __name__ == "__main__":
    sys.exit(main())
