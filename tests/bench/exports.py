"""Export bench: a CSV of N submissions streamed, next to a naive ``csv.writer`` loop over
the same queryset in the same run, and an XLSX of the same N written as a job.

``run_exports_bench(rows=…)`` returns the figures (Django set up on PostgreSQL);
``python -m tests.bench.exports --rows 100000`` runs it alone. The submissions (two
versions of one procedure, with choices, a multi-choice, a location and Japanese text)
are seeded once per database and reused. Measured in this process:

- streamed: ``reports.views.stream_csv``, the view the exports page answers with,
  its ``StreamingHttpResponse`` consumed as a client would (rows fetched 2,000 at a time
  from a server-side cursor, one batch in memory);
- naive: ``for s in queryset: writer.writerow(...)`` into one buffer, the usual first
  version (every model instance cached by the queryset, the whole file in memory);
- XLSX job: ``reports.exports.jobs.export_job_run``, the body of the Celery task.

Seconds and RSS growth (the process's resident memory sampled every 20 ms, peak minus
the value at the start of that part) for each. Streamed runs first, so later parts'
memory cannot hide its growth.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from tests.bench import servers

CITY = "bench-exports"
SEED_BATCH = 5000


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next((int(line.split()[1]) for line in status if line.startswith("VmRSS")), 0)


class RssGrowth(threading.Thread):
    """Peak resident memory above the value at start, while running."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.start_kib = self.peak_kib = _rss_kib()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak_kib = max(self.peak_kib, _rss_kib())
            time.sleep(0.02)

    def stop(self) -> float:
        self.stopped.set()
        self.join()
        self.peak_kib = max(self.peak_kib, _rss_kib())
        return round((self.peak_kib - self.start_kib) / 1024, 1)


def _documents() -> tuple[dict, dict]:
    def step(step_id, kind, label):
        return {"id": step_id, "type": kind, "label": {"ja": label}, "prompt": {"ja": label}}

    def options(*pairs):
        return [{"value": v, "label": {"ja": label}} for v, label in pairs]

    first = {
        "format": "govtech.procedure.v1",
        "key": "bench-export",
        "kind": "application",
        "title": {"ja": "粗大ごみ収集申込"},
        "languages": ["ja"],
        "fee": 400,
        "steps": [
            step("name", "text", "氏名"),
            {
                **step("item", "choice", "品目"),
                "options": options(("sofa", "ソファ"), ("bed", "ベッド")),
            },
            {
                **step("days", "multi_choice", "希望曜日"),
                "options": options(("mon", "月"), ("wed", "水"), ("fri", "金")),
            },
            step("count", "number", "点数"),
        ],
    }
    second = {**first, "steps": [*first["steps"], step("place", "location", "収集場所")]}
    return first, second


def seed(rows: int):
    """The city, its admin, the procedure (two versions) and ``rows`` submissions; reused."""
    from django.utils import timezone

    from govtech.models import Municipality, Role, StaffMembership, User
    from govtech.tenancy import tenant_scope
    from procedures.models import Procedure, ProcedureVersion, Submission
    from procedures.residents.services import resident_for_handle

    city, _ = Municipality.objects.get_or_create(
        slug=CITY, defaults={"name": "ベンチ書き出し市", "prefecture": "東京都"}
    )
    user, _ = User.objects.get_or_create(
        email="exports@bench.example", defaults={"username": "exports@bench.example"}
    )
    with tenant_scope(city):
        StaffMembership.objects.get_or_create(municipality=city, user=user, role=Role.ADMIN)
        procedure = Procedure.objects.filter(key="bench-export").first()
        if procedure is None:
            first, second = _documents()
            procedure = Procedure.objects.create(
                municipality=city, key="bench-export", draft=second
            )
            for number, document in enumerate((first, second), start=1):
                ProcedureVersion.objects.create(
                    municipality=city, procedure=procedure, number=number, document=document
                )
        versions = list(procedure.versions.order_by("number"))
        have = Submission.objects.filter(procedure=procedure).count()
        resident = resident_for_handle(municipality=city, handle="line:bench:exports")
        start = timezone.now() - timedelta(days=30)
        for offset in range(have, rows, SEED_BATCH):
            Submission.objects.bulk_create(
                _submission(city, procedure, versions, resident, n, start)
                for n in range(offset, min(rows, offset + SEED_BATCH))
            )
    return city, user, procedure


def _submission(city, procedure, versions, resident, n: int, start):
    from procedures.models import Submission

    answers = {"name": f"山田{n}郎", "item": "sofa" if n % 2 else "bed", "days": ["mon", "fri"]}
    answers["count"] = n % 5 + 1
    version = versions[n % 2]
    if version.number == 2:
        answers["place"] = {"latitude": 35.6, "longitude": 139.7, "address": "中央1-1", "title": ""}
    return Submission(
        municipality=city,
        reference=f"B-{n:07d}",
        procedure=procedure,
        version=version,
        resident=resident,
        answers=answers,
        fee=400,
        channel="line",
        department_id=procedure.department_id,
        search_text=f"B-{n:07d} 山田{n}郎",
        submitted_at=start + timedelta(seconds=n),
    )


def streamed_csv(city, user, procedure) -> dict:
    from django.test import RequestFactory

    from govtech.access import staff_context_for
    from govtech.tenancy import tenant_scope
    from reports.exports.selectors import exportable_submissions, parse_export_filters
    from reports.views import stream_csv

    request = RequestFactory().post("/admin/reports/exportjob/")
    request.user = user
    with tenant_scope(city):
        staff = staff_context_for(user, municipality_id=city.pk)
        filters = parse_export_filters({"procedure": str(procedure.pk)})
        queryset = exportable_submissions(staff=staff, filters=filters)
        growth, started = RssGrowth(), time.monotonic()
        growth.start()
        response = stream_csv(request, procedure, filters, queryset, omit_personal=False)
        size = lines = 0
        for chunk in response.streaming_content:
            size, lines = size + len(chunk), lines + chunk.count(b"\r\n")
        seconds = time.monotonic() - started
    return {
        "seconds": round(seconds, 2),
        "rss_growth_mib": growth.stop(),
        "rows": lines - 1,
        "mib": round(size / 2**20, 1),
    }


def naive_csv(city, procedure) -> dict:
    """What a first version would do: iterate the queryset, one writerow per model."""
    import csv
    import io

    from govtech.tenancy import tenant_scope
    from procedures.models import Submission

    with tenant_scope(city):
        growth, started = RssGrowth(), time.monotonic()
        growth.start()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        queryset = Submission.objects.filter(procedure=procedure, is_test=False)
        queryset = queryset.select_related("version", "assignee").order_by("submitted_at", "pk")
        for s in queryset:
            answers = s.answers
            writer.writerow(
                [
                    s.reference,
                    s.get_status_display(),
                    s.submitted_at,
                    s.version.number,
                    s.channel,
                    s.assignee.email if s.assignee else "",
                    s.fee,
                    *(json.dumps(answers.get(k), ensure_ascii=False) for k in sorted(answers)),
                ]
            )
        data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
        seconds = time.monotonic() - started
    return {
        "seconds": round(seconds, 2),
        "rss_growth_mib": growth.stop(),
        "rows": data.count(b"\r\n"),
        "mib": round(len(data) / 2**20, 1),
    }


def xlsx_job(city, user, procedure) -> dict:
    from govtech.tenancy import tenant_scope
    from reports.exports.jobs import export_job_run
    from reports.models import ExportJob

    with tenant_scope(city):
        job = ExportJob.objects.create(
            municipality=city,
            created_by=user,
            procedure=procedure,
            format="xlsx",
            filters={"procedure": str(procedure.pk)},
        )
        growth, started = RssGrowth(), time.monotonic()
        growth.start()
        export_job_run(job_id=job.pk)
        seconds = time.monotonic() - started
        job.refresh_from_db()
        size = job.file.size
        job.file.delete(save=False)
    return {
        "seconds": round(seconds, 2),
        "rss_growth_mib": growth.stop(),
        "rows": job.row_count,
        "status": job.status,
        "mib": round(size / 2**20, 1),
    }


PARTS = ("csv_streamed", "csv_naive", "xlsx_job")


def run_part(part: str) -> dict:
    """One part in this (fresh) process: Django set up, nothing else done yet."""
    from govtech.models import Municipality, User
    from procedures.models import Procedure

    city = Municipality.objects.get(slug=CITY)
    user = User.objects.get(email="exports@bench.example")
    from govtech.tenancy import tenant_scope

    with tenant_scope(city):
        procedure = Procedure.objects.get(key="bench-export")
    if part == "csv_streamed":
        return streamed_csv(city, user, procedure)
    if part == "csv_naive":
        return naive_csv(city, procedure)
    return xlsx_job(city, user, procedure)


def run_exports_bench(*, rows: int) -> dict:
    """Seed (once), then each part in a process of its own, so that no part's memory
    (nor the seeding's) hides another's growth; the figures as a dict."""
    started = time.monotonic()
    seed(rows)
    seeded = round(time.monotonic() - started, 1)
    figures: dict = {"rows": rows, "seed_seconds": seeded}
    for part in PARTS:
        done = subprocess.run(
            [sys.executable, "-m", "tests.bench.exports", "--part", part],
            cwd=servers.ROOT,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=900,
            check=True,
        )
        figures[part] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def healthy(figures: dict) -> bool:
    rows = figures["rows"]
    parts = (figures["csv_streamed"], figures["csv_naive"], figures["xlsx_job"])
    return all(part["rows"] == rows for part in parts) and figures["xlsx_job"]["status"] == "done"


def table(figures: dict) -> str:
    lines = [f"exports of {figures['rows']:,} submissions (seeded in {figures['seed_seconds']} s)"]
    lines.append(f"{'':18}{'seconds':>10}{'RSS growth MiB':>16}{'file MiB':>10}{'rows':>10}")
    for key in ("csv_streamed", "csv_naive", "xlsx_job"):
        part = figures[key]
        lines.append(
            f"{key:18}{part['seconds']:>10}{part['rss_growth_mib']:>16}{part['mib']:>10}"
            f"{part['rows']:>10}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.exports")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--json", type=Path, default=None, help="where the figures go")
    parser.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)  # a child's part
    args = parser.parse_args(argv)
    if args.part:  # a child of run_exports_bench: the parent set the environment up
        import django

        django.setup()
        print(json.dumps(run_part(args.part)))
        return 0
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("PostgreSQL is needed: set DATABASE_URL")
    os.environ.update(
        servers.bench_env(
            database_url=args.database_url,
            redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:1/0"),
            site_url="http://127.0.0.1",
            line_api="http://127.0.0.1",
            var_dir=Path(tempfile.mkdtemp(prefix="bench-exports-")),
        )
    )
    servers.database_ensure(args.database_url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    figures = run_exports_bench(rows=args.rows)
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if healthy(figures) else 1


if __name__ == "__main__":
    sys.exit(main())
