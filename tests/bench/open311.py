"""Open311 bench: ``GET requests`` at 100,000 reports.

``run_open311_bench(reports=…, database_url=…, redis_url=…)`` returns the figures;
``python -m tests.bench.open311 --reports 100000`` runs it alone (PostgreSQL).

A city publishing its reports gets six categories (one private) and ``reports`` reports
of a year: a submission each (statuses of a year of casework, a few withdrawn or test),
a report beside it (a place around the city, created at the submission's time), some
merged into another, one in twenty with a photo staff approved. Seeded once per
database with bulk inserts, reused.

gunicorn serves the project as in the other benches; one keep-alive connection GETs each
page ``requests`` times after a warm-up, one at a time (a figure is a page's own
latency): ``requests.json`` by default (the last 90 days, 100 a page), page 40 of it,
one category's open requests, 50 requests by id, the same default list in XML, and the
public report page (HTML, map and list) — next to the bare Django view. Query counts
come from the same URLs requested in this process through Django's test client under
``CaptureQueriesContext``. Nothing here fails on a timing; a non-200 answer fails it.
"""

import argparse
import http.client
import json
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from tests.bench import servers
from tests.bench.load import percentile

CITY = "bench-open311"
BATCH = 5000
LOGS = servers.ROOT / "artifacts" / "bench-logs"
CATEGORIES = [
    ("road", "道路", True),
    ("park", "公園", True),
    ("river", "河川", True),
    ("dumping", "不法投棄", True),
    ("light", "街路灯", True),
    ("abuse", "ハラスメント", False),
]
STATUSES = [
    ("completed", 60),
    ("rejected", 6),
    ("withdrawn", 3),
    ("accepted", 6),
    ("in_review", 10),
    ("returned", 2),
    ("submitted", 13),
]
# Open311 answers no more often than this per caller; the bench is one caller.
RATE = "1000000"


def _document(key: str, name: str) -> dict:
    def step(step_id, kind, label, **more):
        return {
            "id": step_id,
            "type": kind,
            "label": {"ja": label},
            "prompt": {"ja": label},
            **more,
        }

    return {
        "format": "govtech.procedure.v1",
        "key": f"{key}-report",
        "kind": "report",
        "title": {"ja": f"{name}の通報"},
        "languages": ["ja"],
        "steps": [
            step("detail", "text", "内容"),
            step("place", "location", "場所"),
            step("photo", "image", "写真", required=False),
            {"id": "confirm", "type": "confirm"},
        ],
    }


def _city():
    """The city, its report settings, categories and their published procedures (once)."""
    from django_scopes import scopes_disabled

    from govtech.models import Municipality
    from govtech.services import municipality_create
    from govtech.tenancy import tenant_scope
    from procedures.incidents.models import ReportCategory, ReportSettings
    from procedures.services import procedure_create, procedure_publish

    with scopes_disabled():
        city = Municipality.objects.filter(slug=CITY).first() or municipality_create(
            actor=None, name="ベンチ通報市", slug=CITY, prefecture="山形県"
        )
    with tenant_scope(city):
        ReportSettings.objects.get_or_create(
            municipality=city, defaults={"public_enabled": True, "public_precision_m": 100}
        )
        have = {c.key: c for c in ReportCategory.objects.select_related("procedure")}
        for position, (key, name, public) in enumerate(CATEGORIES):
            if key in have:
                continue
            procedure = procedure_create(
                actor=None, municipality=city, document=_document(key, name)
            )
            procedure_publish(actor=None, procedure=procedure)
            have[key] = ReportCategory.objects.create(
                municipality=city,
                key=key,
                name=name,
                procedure=procedure,
                is_public=public,
                position=position,
            )
        categories = [have[key] for key, _name, _public in CATEGORIES]
        for category in categories:
            category.procedure.refresh_from_db()
    return city, categories


def seed(reports: int) -> dict:
    """Exactly ``reports`` reports in the bench city (kept when already there)."""
    from django.db import connection
    from django_scopes import scopes_disabled

    from procedures.incidents.models import Report

    city, categories = _city()
    with scopes_disabled():
        have = Report.objects.filter(municipality=city).count()
    started = time.monotonic()
    if have != reports:
        with connection.cursor() as cursor:
            for table in (
                "procedures_reportphoto",
                "procedures_report",
                "procedures_submission",
                "procedures_resident",
            ):
                cursor.execute(f"DELETE FROM {table} WHERE municipality_id = %s", [city.pk])  # noqa: S608
        _insert(city, categories, reports)
        with connection.cursor() as cursor:
            for table in ("procedures_submission", "procedures_report", "procedures_reportphoto"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    return {"city": city, "seconds": round(time.monotonic() - started, 1)}


def _insert(city, categories, total: int) -> None:
    from django.utils import timezone

    from govtech.tenancy import tenant_scope
    from procedures.incidents.models import Report, ReportPhoto
    from procedures.models import Resident, Submission

    rng = random.Random(311)
    now = timezone.now()
    statuses, weights = zip(*STATUSES, strict=True)
    with tenant_scope(city):
        residents = Resident.objects.bulk_create(
            Resident(municipality=city, handle=f"bench-open311:{n}", display_name=f"住民{n}")
            for n in range(2000)
        )
        mains: list[Report] = []
        for start in range(0, total, BATCH):
            rows = []
            for number in range(start, min(start + BATCH, total)):
                category = categories[number % len(categories)]
                at = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
                status = rng.choices(statuses, weights)[0]
                latitude = round(38.2554 + rng.uniform(-0.05, 0.05), 6)
                longitude = round(140.3396 + rng.uniform(-0.05, 0.05), 6)
                submission = Submission(
                    municipality=city,
                    reference=f"BO-{number + 1:07d}",
                    procedure=category.procedure,
                    version_id=category.procedure.live_version_id,
                    resident=rng.choice(residents),
                    answers={
                        "detail": "道路に穴があいています",
                        "place": {"latitude": latitude, "longitude": longitude, "address": ""},
                    },
                    status=status,
                    channel="line",
                    is_test=number % 500 == 0,
                    last_activity_at=at + timedelta(hours=rng.uniform(0, 72)),
                )
                closed = at + timedelta(days=3) if status in ("completed", "rejected") else None
                rows.append((submission, category, at, latitude, longitude, closed))
            created = Submission.objects.bulk_create([row[0] for row in rows])
            batch = Report.objects.bulk_create(
                Report(
                    municipality=city,
                    submission=submission,
                    category=category,
                    latitude=latitude,
                    longitude=longitude,
                    created_at=at,
                    closed_at=closed,
                    public_note="補修しました" if closed else "",
                )
                for submission, (_s, category, at, latitude, longitude, closed) in zip(
                    created, rows, strict=True
                )
            )
            merged = [r for i, r in enumerate(batch) if i % 40 == 1 and mains]
            for report in merged:
                report.merged_into = rng.choice(mains)
            Report.objects.bulk_update(merged, ["merged_into"])
            mains.extend(batch[::97])
            ReportPhoto.objects.bulk_create(
                ReportPhoto(
                    municipality=city,
                    report=report,
                    kind="after",
                    file=f"reports/{city.pk}/after-{report.pk}.jpg",
                    content_type="image/jpeg",
                    is_public=True,
                    created_at=report.created_at,
                )
                for report in batch[::20]
            )


# --- the pages ----------------------------------------------------------------------------


def pages(city) -> dict[str, str]:
    from django_scopes import scopes_disabled

    from procedures.incidents.models import Report

    with scopes_disabled():
        recent = list(
            Report.objects.filter(municipality=city, category__is_public=True)
            .order_by("-created_at")
            .values_list("pk", flat=True)[:50]
        )

    def url(fmt: str, **params) -> str:
        return f"/open311/v2/requests.{fmt}?{urlencode({'jurisdiction_id': CITY, **params})}"

    return {
        "requests.json (90 days, page 1)": url("json"),
        "requests.json page 40": url("json", page=40),
        "road, open": url("json", service_code="road", status="open"),
        "50 ids": url("json", service_request_id=",".join(map(str, recent))),
        "requests.xml (page 1)": url("xml"),
        "public page (HTML)": f"/r/{CITY}/reports/",
    }


def query_counts(urls: dict[str, str]) -> tuple[dict[str, int], dict[str, int]]:
    """Queries per URL, and how many requests each JSON page returned."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    counts, sizes = {}, {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            answer = client.get(url)
        if answer.status_code != 200:
            raise RuntimeError(f"{url} answered {answer.status_code}")
        counts[name] = len(captured.captured_queries)
        if url.split("?")[0].endswith(".json"):
            sizes[name] = len(answer.json())
    return counts, sizes


def _timed_gets(port: int, path: str, *, requests: int, warmup: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies, statuses = [], {}
    try:
        for number in range(warmup + requests):
            started = time.perf_counter()
            connection.request("GET", path, headers={"Host": "127.0.0.1"})
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


def run_open311_bench(
    *,
    reports: int,
    database_url: str,
    redis_url: str,
    requests: int = 30,
    web_workers: int = 2,
    logs: Path = LOGS,
) -> dict:
    """Seed, serve, measure; the figures as a dict (see the module docstring)."""
    from django.conf import settings

    settings.OPEN311_REQUESTS_PER_MINUTE = int(RATE)  # the in-process query counts
    seeded = seed(reports)
    urls = pages(seeded["city"])
    counts, sizes = query_counts(urls)
    port = servers.free_port()
    env = servers.bench_env(
        database_url=database_url,
        redis_url=redis_url,
        site_url=f"http://127.0.0.1:{port}",
        line_api=f"http://127.0.0.1:{port}/simulator/api/line",
        var_dir=Path(tempfile.mkdtemp(prefix="bench-open311-")),
    )
    env["OPEN311_REQUESTS_PER_MINUTE"] = RATE
    command = servers.gunicorn_command(port=port, workers=web_workers, threads=4)
    timed = {}
    with servers.process("open311-web", command, env=env, logs=logs) as web:
        servers.wait_for_http(f"http://127.0.0.1:{port}/bench/bare/", web, timeout=180)
        timed["bare"] = _timed_gets(port, "/bench/bare/", requests=requests, warmup=3)
        for name, url in urls.items():
            timed[name] = _timed_gets(port, url, requests=requests, warmup=3)
    return {
        "reports": reports,
        "seed_seconds": seeded["seconds"],
        "gunicorn": f"gthread {web_workers} workers × 4 threads, one connection",
        "urls": urls,
        "pages": timed,
        "queries": counts,
        "requests_returned": sizes,
    }


def table(figures: dict) -> str:
    head = "".join(f"{name:>9}" for name in ("p50 ms", "p95 ms", "max ms", "queries"))
    lines = [
        f"Open311 GET requests at {figures['reports']:,} reports ({figures['gunicorn']})",
        f"  {'':<34}{head}{'items':>7}{'non-200':>9}",
    ]
    for name, run in figures["pages"].items():
        bad = sum(n for code, n in run["statuses"].items() if code != "200")
        queries = figures["queries"].get(name, "")
        items = figures["requests_returned"].get(name, "")
        label = "bare Django view" if name == "bare" else name
        lines.append(
            f"  {label:<34}{run['p50_ms']:>9.1f}{run['p95_ms']:>9.1f}{run['max_ms']:>9.1f}"
            f"{queries!s:>9}{items!s:>7}{bad:>9}"
        )
    return "\n".join(lines)


def healthy(figures: dict) -> bool:
    return all(set(run["statuses"]) == {"200"} for run in figures["pages"].values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.open311")
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30, help="timed GETs per page")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--logs", type=Path, default=LOGS)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")) or not args.redis_url:
        parser.error("PostgreSQL and Redis are needed: set DATABASE_URL and REDIS_URL")
    os.environ.update(
        servers.bench_env(
            database_url=args.database_url,
            redis_url=args.redis_url,
            site_url="http://127.0.0.1",
            line_api="http://127.0.0.1",
            var_dir=Path(tempfile.mkdtemp(prefix="bench-open311-")),
        )
    )
    os.environ["OPEN311_REQUESTS_PER_MINUTE"] = RATE
    servers.database_ensure(args.database_url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    figures = run_open311_bench(
        reports=args.reports,
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
