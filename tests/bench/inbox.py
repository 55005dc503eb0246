"""Inbox bench: the reviewer's submission list at 100,000 submissions.

``run_inbox_bench(submissions=…, database_url=…, redis_url=…)`` returns the figures;
``python -m tests.bench.inbox --submissions 100000`` runs it alone.

A city with four departments and five published procedures gets ``submissions``
submissions of a year (bulk inserts; answers shaped as the runtime stores them, resident
display names, statuses over every queue, assignees, due dates, search text built by
``procedures.casework.services.search_text_of``, revision 1 and the 'submitted' event of
each). A reviewer of three of the departments signs in; gunicorn serves the project as
in the other benches, and one keep-alive connection GETs each page ``requests`` times
(after a warm-up), one request at a time, so a figure is a page's own latency, not a
queue's:

- a queue page (新着), a filtered page (procedure + status + a month), a text search,
  page 50 of the 完了 queue — ``/admin/procedures/submission/`` with the inbox's query
  string; while that URL is still Django's changelist (it answers the inbox's
  ``?queue=`` with a redirect to ``?e=1``), the changelist's nearest equivalents;
- the bare Django view of the other benches, in the same run, as the baseline.

Query counts come from the same requests made in this process through Django's test
client (same settings, same database, the same reviewer) under
``CaptureQueriesContext``: every query of the request, middleware and session included.

The text search is also timed at the selector (what the inbox view runs: a page of rows
and the queue counts) with and without the trigram index of migration
``procedures.0009_submission_search_trigram``; "without" drops it inside a transaction
that is rolled back. Nothing here fails on a timing.
"""

import argparse
import http.client
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from tests.bench import servers
from tests.bench.load import percentile

CITY = "bench-inbox"
REVIEWER = "reviewer@bench-inbox.example"
COLLEAGUES = ("colleague1@bench-inbox.example", "colleague2@bench-inbox.example")
PASSWORD = "bench-inbox-pass!"
DEPARTMENTS = {
    "doro": "道路管理課",
    "kankyo": "環境課",
    "shimin": "市民課",
    "kosodate": "子育て支援課",
}
REVIEWED = ("doro", "kankyo", "shimin")  # the measured reviewer's departments
PROCEDURES = {
    "road-damage": "doro",
    "bulky-waste": "kankyo",
    "dog-registration-change": "kankyo",
    "juminhyo-by-mail": "shimin",
    "child-allowance-inquiry": "kosodate",
}
TARGET_DAYS = {"road-damage": 3, "juminhyo-by-mail": 5}
RESIDENTS = 5000
BATCH = 2000
LIST_URL = "/admin/procedures/submission/"
LOGS = servers.ROOT / "artifacts" / "bench-logs"
TRIGRAM_INDEX = "submission_search_trgm"

FAMILY = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "清水",
    "山崎",
]
GIVEN = [
    "花子",
    "一郎",
    "美咲",
    "健太",
    "さくら",
    "大輔",
    "由美",
    "翔",
    "恵子",
    "陽菜",
    "蓮",
    "結衣",
    "悠真",
    "美羽",
    "湊",
    "葵",
    "大和",
    "凛",
    "陽翔",
    "七海",
]
TOWNS = ["栄町", "緑ケ丘", "桜台", "北町", "南町", "中央", "本町", "旭町", "若葉台", "東原"]
NUMERALS = ["一", "二", "三", "四", "五", "六"]
# (status, weight): a year of casework, most of it done, every queue populated.
STATUSES = [
    ("completed", 62),
    ("rejected", 6),
    ("withdrawn", 4),
    ("accepted", 6),
    ("in_review", 8),
    ("returned", 4),
    ("submitted", 10),
]


# --- the city and its year of submissions -------------------------------------------------


def _address(rng: random.Random) -> str:
    town, block = rng.choice(TOWNS), rng.choice(NUMERALS)
    return f"ベンチ市{town}{block}丁目{rng.randint(1, 30)}-{rng.randint(1, 20)}"


def _phone(rng: random.Random) -> str:
    return f"0{rng.choice('789')}0{rng.randint(10_000_000, 99_999_999)}"


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}"


def _answers(key: str, rng: random.Random, day: datetime) -> dict:
    """Answers of procedure ``key`` as the runtime stores them."""
    if key == "road-damage":
        contact = rng.random() < 0.6
        answers = {
            "damage": rng.choice(
                ["pothole", "pothole", "guardrail", "streetlight", "sign", "park"]
            ),
            "place": {
                "latitude": round(35.4887 + rng.uniform(-0.02, 0.02), 6),
                "longitude": round(139.4075 + rng.uniform(-0.02, 0.02), 6),
                "address": _address(rng),
                "title": "",
            },
            "photo": {"ref": f"{rng.getrandbits(128):032x}", "content_type": "image/jpeg"},
            "danger": False,
            "contact": contact,
        }
        return {**answers, "phone": _phone(rng)} if contact else answers
    if key == "bulky-waste":
        items = rng.sample(["sofa", "bed", "desk", "bicycle"], rng.randint(1, 3))
        return {
            "items": items,
            "count": len(items) + rng.randint(0, 2),
            "collection_date": (day + timedelta(days=rng.randint(7, 30))).date().isoformat(),
            "address": _address(rng),
            "phone": _phone(rng),
        }
    if key == "dog-registration-change":
        return {
            "change": "address",
            "owner_name": _name(rng),
            "dog_name": rng.choice(["ポチ", "モモ", "ハナ", "コタロウ", "チョコ", "ソラ"]),
            "tag_number": f"R{rng.randint(1, 7)}-{rng.randint(1, 9999):04d}",
            "new_address": _address(rng),
            "phone": _phone(rng),
        }
    if key == "juminhyo-by-mail":
        return {
            "terms": True,
            "name": _name(rng),
            "birth_date": f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-15",
            "scope": rng.choice(["self", "household"]),
            "include_my_number": "omit",
            "copies": rng.randint(1, 3),
            "postal_code": f"252-{rng.randint(1, 30):04d}",
            "address": _address(rng),
            "phone": _phone(rng),
        }
    return {
        "topic": rng.choice(["status_report", "amount", "account"]),
        "recipient_name": _name(rng),
        "children": rng.randint(1, 3),
        "youngest_birth_date": f"{rng.randint(2010, 2025)}-{rng.randint(1, 12):02d}-01",
        "question": "現況届の提出について教えてください。",
        "contact_method": "phone",
        "phone": _phone(rng),
    }


def _city():
    """The city, its departments, staff and published procedures (once)."""
    from django_scopes import scopes_disabled

    from govtech.models import Department, Municipality, Role, User
    from govtech.services import department_create, municipality_create, staff_create
    from govtech.tenancy import tenant_scope
    from procedures.casework.models import ProcedureWorkflow
    from procedures.catalog.starters import starter_documents
    from procedures.models import Procedure
    from procedures.services import procedure_create, procedure_publish

    with scopes_disabled():
        city = Municipality.objects.filter(slug=CITY).first() or municipality_create(
            actor=None, name="ベンチ市", slug=CITY, prefecture="神奈川県"
        )
    with tenant_scope(city):
        departments = {d.code: d for d in Department.objects.all()}
        for code, name in DEPARTMENTS.items():
            if code not in departments:
                departments[code] = department_create(
                    actor=None, municipality=city, name=name, code=code
                )
        for email in (REVIEWER, *COLLEAGUES):
            if not User.objects.filter(email=email).exists():
                staff_create(
                    actor=None,
                    municipality=city,
                    email=email,
                    password=PASSWORD,
                    roles=[Role.REVIEWER],
                    display_name=email.split("@")[0],
                    departments=[departments[code] for code in REVIEWED],
                )
        documents = {d["key"]: d for d in starter_documents()}
        have = set(Procedure.objects.values_list("key", flat=True))
        for key, code in PROCEDURES.items():
            if key in have:
                continue
            procedure = procedure_create(
                actor=None, municipality=city, document=documents[key], department=departments[code]
            )
            procedure_publish(actor=None, procedure=procedure)
            if key in TARGET_DAYS:
                ProcedureWorkflow.objects.create(
                    municipality=city, procedure=procedure, target_days=TARGET_DAYS[key]
                )
        procedures = list(Procedure.objects.select_related("live_version").order_by("key"))
    return city, procedures


def seed(submissions: int) -> dict:
    """Exactly ``submissions`` submissions in the bench city (kept when already there)."""
    from django.db import connection
    from django_scopes import scopes_disabled

    from procedures.models import Submission

    city, procedures = _city()
    with scopes_disabled():
        have = Submission.objects.filter(municipality=city).count()
    started = time.monotonic()
    if have != submissions:
        with connection.cursor() as cursor:
            for table in ("procedures_caseevent", "procedures_submissionrevision"):
                cursor.execute(f"DELETE FROM {table} WHERE municipality_id = %s", [city.pk])  # noqa: S608
            cursor.execute(
                "DELETE FROM procedures_submission WHERE municipality_id = %s", [city.pk]
            )
            cursor.execute("DELETE FROM procedures_resident WHERE municipality_id = %s", [city.pk])
        _insert(city, procedures, submissions)
        with connection.cursor() as cursor:
            for table in ("procedures_submission", "procedures_submissionrevision"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    return {"city": city, "procedures": procedures, "seconds": round(time.monotonic() - started, 1)}


def _insert(city, procedures, total: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from govtech.models import User
    from govtech.tenancy import tenant_scope
    from procedures.casework.services import search_text_of
    from procedures.models import Resident, Submission

    rng = random.Random(13)
    now = timezone.now()
    staff = list(User.objects.filter(email__in=(REVIEWER, *COLLEAGUES)))
    with tenant_scope(city):
        residents = Resident.objects.bulk_create(
            Resident(
                municipality=city,
                handle=f"bench-inbox:{n}",
                display_name=_name(rng) if n % 17 else "Alex Smith",
                language="en" if n % 17 == 0 else "ja",
            )
            for n in range(RESIDENTS)
        )
        statuses, weights = zip(*STATUSES, strict=True)
        for start in range(0, total, BATCH):
            rows = []
            for number in range(start, min(start + BATCH, total)):
                procedure = procedures[number % len(procedures)]
                submitted = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
                status = rng.choices(statuses, weights)[0]
                if status not in ("completed", "rejected", "withdrawn"):
                    submitted = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
                submission = Submission(
                    municipality=city,
                    reference=f"BI-{submitted.year}-{number + 1:06d}",
                    procedure=procedure,
                    version=procedure.live_version,
                    resident=rng.choice(residents),
                    answers=_answers(procedure.key, rng, submitted),
                    language="ja",
                    status=status,
                    channel="line" if rng.random() < 0.85 else "web",
                    department_id=procedure.department_id,
                    last_activity_at=submitted + timedelta(hours=rng.uniform(0, 72)),
                )
                if status != "submitted" or rng.random() < 0.3:
                    submission.assignee = rng.choice(staff)
                days = TARGET_DAYS.get(procedure.key)
                submission.due_at = submitted + timedelta(days=days) if days else None
                if status == "returned":
                    submission.correction_due_at = submitted + timedelta(days=14)
                submission.search_text = search_text_of(submission, submission.answers)
                rows.append((submission, submitted))
            created = Submission.objects.bulk_create([row for row, _ in rows])
            _backdate(connection, [(s.pk, at) for s, (_, at) in zip(created, rows, strict=True)])
    _revisions_and_events(connection, city.pk)


def _backdate(connection, pairs) -> None:
    """submitted_at is auto_now_add: set the year's dates in one UPDATE per batch."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procedures_submission s SET submitted_at = v.at FROM"
            " unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) WHERE s.id = v.id",
            [[pk for pk, _ in pairs], [at for _, at in pairs]],
        )


def _revisions_and_events(connection, city_id: int) -> None:
    """Revision 1 and the 'submitted' event of each, as ``case_open`` writes them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procedures_submissionrevision (municipality_id, submission_id, number,"
            " answers, fee, created_at) SELECT municipality_id, id, 1, answers, fee,"
            " submitted_at FROM procedures_submission WHERE municipality_id = %s",
            [city_id],
        )
        cursor.execute(
            "INSERT INTO procedures_caseevent (municipality_id, submission_id, kind, data,"
            " created_at) SELECT municipality_id, id, 'submitted', '{}'::jsonb, submitted_at"
            " FROM procedures_submission WHERE municipality_id = %s",
            [city_id],
        )


# --- the pages ----------------------------------------------------------------------------


def pages(procedures, *, inbox: bool, done: int) -> dict[str, str]:
    """The measured URLs: the inbox's query strings, or the changelist's nearest ones.
    ``done``: how many submissions are done (page 50, or the last page when fewer)."""
    road = next(p for p in procedures if p.key == "road-damage")
    from django.utils import timezone

    today = timezone.localdate()  # Tokyo's, as the inbox reads its dates
    month_from, month_to = (today - timedelta(days=30)).isoformat(), today.isoformat()
    until = (today + timedelta(days=1)).isoformat()
    page = max(1, min(50, done // (50 if inbox else 100)))
    word = "緑ケ丘"
    if inbox:
        queries = {
            "queue": {"queue": "new"},
            "filtered": {
                "queue": "all",
                "procedure": road.pk,
                "status": "in_review",
                "submitted_from": month_from,
                "submitted_to": month_to,
            },
            "text_search": {"queue": "all", "q": word},
            "page_50": {"queue": "done", "page": page},
        }
    else:  # the changelist searches the reference only; pages count from 1 in ``p``
        queries = {
            "queue": {"status__exact": "submitted"},
            "filtered": {
                "procedure__id__exact": road.pk,
                "status__exact": "in_review",
                "submitted_at__gte": f"{month_from} 00:00:00+09:00",
                "submitted_at__lt": f"{until} 00:00:00+09:00",
            },
            "text_search": {"q": "BI-2026-0123"},
            "page_50": {"status__exact": "completed", "p": page},
        }
    return {name: f"{LIST_URL}?{urlencode(query)}" for name, query in queries.items()}


def _done(city, *, inbox: bool) -> int:
    from django_scopes import scopes_disabled

    from procedures.casework.workflow import DONE
    from procedures.models import Submission

    statuses = DONE if inbox else {"completed"}
    with scopes_disabled():
        mine = Submission.objects.filter(procedure__department__code__in=REVIEWED)
        return mine.filter(municipality=city, status__in=statuses).count()


def signed_in_client():
    """A test client signed in as the bench reviewer (a session row the servers read)."""
    from django.test import Client

    from govtech.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=REVIEWER))
    return client


def inbox_is_there(client) -> bool:
    """Whether the URL is the inbox (it takes ``?queue=``) or still Django's changelist."""
    answer = client.get(f"{LIST_URL}?queue=new")
    if answer.status_code == 302 and "e=1" in answer.get("Location", ""):
        return False
    if answer.status_code != 200:
        raise RuntimeError(f"{LIST_URL}?queue=new answered {answer.status_code}")
    return True


def query_counts(client, urls: dict[str, str]) -> dict[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            answer = client.get(url)
        if answer.status_code != 200:
            raise RuntimeError(f"{url} answered {answer.status_code}")
        counts[name] = len(captured.captured_queries)
    return counts


def _timed_gets(port: int, path: str, *, cookie: str, requests: int, warmup: int) -> dict:
    """``requests`` GETs of ``path`` on one keep-alive connection, one at a time."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies, statuses = [], {}
    try:
        for number in range(warmup + requests):
            started = time.perf_counter()
            connection.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
            answer = connection.getresponse()
            body = answer.read()
            elapsed = time.perf_counter() - started
            if number >= warmup:
                latencies.append(elapsed)
                statuses[str(answer.status)] = statuses.get(str(answer.status), 0) + 1
    finally:
        connection.close()
    latencies.sort()
    return {
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else 0.0,
        "statuses": statuses,
        "bytes": len(body),
    }


# --- the text search with and without the trigram index ----------------------------------


def selector_search(city, words: list[str], *, repeats: int = 5) -> dict:
    """Median ms of what the inbox runs for a text search (a page of 50 rows of every
    queue, the queue counts), per word, with the trigram index and without it."""
    from django.db import connection, transaction

    from govtech.tenancy import tenant_scope

    figures: dict = {"with_index": {}, "without_index": {}}
    with tenant_scope(city):
        for word in words:
            figures["with_index"][word] = _search_ms(word, repeats)
        if not _index_exists(connection):
            return {**figures, "with_index": None, "without_index": figures["with_index"]}
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"DROP INDEX {TRIGRAM_INDEX}")
            for word in words:
                figures["without_index"][word] = _search_ms(word, repeats)
            transaction.set_rollback(True)  # the index stays
    return figures


def _index_exists(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [TRIGRAM_INDEX])
        return cursor.fetchone() is not None


def _search_ms(word: str, repeats: int) -> float:
    from django.utils import timezone

    from govtech.access import staff_context_for
    from govtech.models import User
    from procedures.casework.selectors import InboxFilters, inbox_counts, inbox_submissions

    user = User.objects.get(email=REVIEWER)
    staff = staff_context_for(user)
    filters = InboxFilters(text=word)
    timings = []
    for _ in range(repeats):
        started, now = time.perf_counter(), timezone.now()
        inbox_counts(staff=staff, user=user, filters=filters, now=now)
        rows = inbox_submissions(
            staff=staff, user=user, queue="all", filters=filters, sort="newest", now=now
        )
        list(rows[:50])
        timings.append(time.perf_counter() - started)
    return round(sorted(timings)[len(timings) // 2] * 1000, 1)


# --- the run ------------------------------------------------------------------------------


def run_inbox_bench(
    *,
    submissions: int,
    database_url: str,
    redis_url: str,
    requests: int = 30,
    web_workers: int = 2,
    logs: Path = LOGS,
) -> dict:
    """Seed, serve, measure; the figures as a dict (see the module docstring)."""
    seeded = seed(submissions)
    client = signed_in_client()
    inbox = inbox_is_there(client)
    urls = pages(seeded["procedures"], inbox=inbox, done=_done(seeded["city"], inbox=inbox))
    counts = query_counts(client, urls)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    port = servers.free_port()
    env = servers.bench_env(
        database_url=database_url,
        redis_url=redis_url,
        site_url=f"http://127.0.0.1:{port}",
        line_api=f"http://127.0.0.1:{port}/simulator/api/line",
        var_dir=Path(tempfile.mkdtemp(prefix="bench-inbox-")),
    )
    command = servers.gunicorn_command(port=port, workers=web_workers, threads=4)
    timed = {}
    with servers.process("inbox-web", command, env=env, logs=logs) as web:
        servers.wait_for_http(f"http://127.0.0.1:{port}/bench/bare/", web)
        common = {"cookie": cookie, "requests": requests, "warmup": 3}
        timed["bare"] = _timed_gets(port, "/bench/bare/", **common)
        for name, url in urls.items():
            timed[name] = _timed_gets(port, url, **common)
    words = ["緑ケ丘", "佐藤 花子", "BI-2026-0123"]
    return {
        "submissions": submissions,
        "view": "inbox" if inbox else "changelist",
        "seed_seconds": seeded["seconds"],
        "gunicorn": f"gthread {web_workers} workers × 4 threads, one connection",
        "urls": urls,
        "pages": timed,
        "queries": counts,
        "text_search_selector_ms": selector_search(seeded["city"], words),
    }


def table(figures: dict) -> str:
    lines = [
        f"Reviewer's inbox at {figures['submissions']:,} submissions ({figures['view']} view"
        f" at {LIST_URL}; {figures['gunicorn']})",
        f"  {'':<22}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'queries':>9}{'non-200':>9}",
    ]
    for name, run in figures["pages"].items():
        bad = sum(n for code, n in run["statuses"].items() if code != "200")
        queries = figures["queries"].get(name, "")
        label = "bare Django view" if name == "bare" else name.replace("_", " ")
        lines.append(
            f"  {label:<22}{run['p50_ms']:>9.1f}{run['p95_ms']:>9.1f}{run['max_ms']:>9.1f}"
            f"{queries!s:>9}{bad:>9}"
        )
    search = figures["text_search_selector_ms"]
    lines.append("  text search at the selector (page + counts), median ms:")
    for word, without in (search["without_index"] or {}).items():
        with_index = (search["with_index"] or {}).get(word, "-")
        lines.append(f"    {word:<18} without trigram index {without:>8}   with {with_index:>8}")
    return "\n".join(lines)


def healthy(figures: dict) -> bool:
    return all(set(run["statuses"]) == {"200"} for run in figures["pages"].values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.inbox")
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30, help="timed GETs per page")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--logs", type=Path, default=LOGS)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
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
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    figures = run_inbox_bench(
        submissions=args.submissions,
        database_url=args.database_url,
        redis_url=args.redis_url,
        requests=args.requests,
        web_workers=args.web_workers,
        logs=args.logs,
    )
    print(table(figures))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    from django.db import connection

    connection.close()
    return 0 if healthy(figures) else 1


if __name__ == "__main__":
    sys.exit(main())
