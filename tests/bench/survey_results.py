"""Survey results bench: a survey with N answers (100,000 by default) on PostgreSQL, its
results aggregated as the console page does (all answers, then filtered by area), the
public page's aggregates, the first page of one free-text question searched, and the CSV
of the aggregates; seconds and SQL statements for each. Next to them, in the same run, the
alternative to counting in the database: every answer streamed to Python (``iterator``)
and counted there.

``python -m tests.bench.survey_results --rows 100000`` (DATABASE_URL must name a
PostgreSQL server; the database ``govtech_bench`` is created there). The answers (two
versions, a choice whose options changed, a multiple choice, a number, a date, free text
and a yes/no; residents of four areas) are seeded once per database and reused.
"""

# ruff: noqa: E501 - the survey document reads best one step a line

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from tests.bench import servers

CITY = "bench-surveys"
KEY = "bench-survey"
SEED_BATCH = 5000
AREAS = ("north", "south", "east", "west")
RESIDENTS = 400


def _documents() -> tuple[dict, dict]:
    def step(step_id, kind, label, **more):
        return {
            "id": step_id,
            "type": kind,
            "label": {"ja": label},
            "prompt": {"ja": label},
            **more,
        }

    def options(*pairs):
        return [{"value": v, "label": {"ja": label}} for v, label in pairs]

    first = {
        "format": "govtech.procedure.v1",
        "key": KEY,
        "kind": "survey",
        "title": {"ja": "市民満足度調査（ベンチ）"},
        "languages": ["ja"],
        "steps": [
            step("sat", "choice", "満足度", options=options(("5", "満足"), ("3", "ふつう"), ("1", "不満"))),
            step("why", "multi_choice", "理由", options=options(("wait", "待ち時間"), ("staff", "職員"), ("forms", "書類"))),
            step("age", "number", "年齢"),
            step("visit", "date", "来庁日"),
            step("comment", "text", "ご意見", required=False),
            step("again", "yes_no", "また利用したいですか"),
        ],
    }  # fmt: skip
    second = {**first, "steps": [dict(s) for s in first["steps"]]}
    second["steps"][0] = {
        **first["steps"][0],
        "options": [*first["steps"][0]["options"], *options(("2", "やや不満"))],
    }
    return first, second


def seed(rows: int):
    """The city, its admin, the survey (two versions), residents and ``rows`` answers."""
    from django.utils import timezone

    from delivery.broadcasts.models import AttributeField
    from govtech.models import Municipality, Role, StaffMembership, User
    from govtech.tenancy import tenant_scope
    from procedures.models import Procedure, ProcedureVersion, Submission
    from procedures.residents.models import Resident

    city, _ = Municipality.objects.get_or_create(
        slug=CITY, defaults={"name": "ベンチアンケート市", "prefecture": "東京都"}
    )
    user, _ = User.objects.get_or_create(
        email="surveys@bench.example", defaults={"username": "surveys@bench.example"}
    )
    with tenant_scope(city):
        StaffMembership.objects.get_or_create(municipality=city, user=user, role=Role.ADMIN)
        AttributeField.objects.get_or_create(
            municipality=city,
            key="area",
            defaults={"label": "地区", "kind": "choice", "options": [{"value": a} for a in AREAS]},
        )
        procedure = Procedure.objects.filter(key=KEY).first()
        if procedure is None:
            first, second = _documents()
            procedure = Procedure.objects.create(municipality=city, key=KEY, draft=second)
            for number, document in enumerate((first, second), start=1):
                version = ProcedureVersion.objects.create(
                    municipality=city, procedure=procedure, number=number, document=document
                )
            procedure.live_version = version
            procedure.save(update_fields=["live_version"])
        residents = list(Resident.objects.filter(handle__startswith="bench:survey:"))
        if not residents:
            Resident.objects.bulk_create(
                Resident(municipality=city, handle=f"bench:survey:{n}", attributes={"area": AREAS[n % 4]})
                for n in range(RESIDENTS)
            )  # fmt: skip
            residents = list(Resident.objects.filter(handle__startswith="bench:survey:"))
        versions = list(procedure.versions.order_by("number"))
        have = Submission.objects.filter(procedure=procedure).count()
        start = timezone.now() - timedelta(days=60)
        rng = random.Random(have)
        for offset in range(have, rows, SEED_BATCH):
            Submission.objects.bulk_create(
                _submission(city, procedure, versions, residents, n, start, rng)
                for n in range(offset, min(rows, offset + SEED_BATCH))
            )
    return city, user, procedure


def _submission(city, procedure, versions, residents, n: int, start, rng):
    from procedures.models import Submission

    version = versions[n % 2]
    choices = ["5", "3", "1", "2"] if version.number == 2 else ["5", "3", "1"]
    answers = {
        "sat": rng.choice(choices),
        "why": rng.sample(["wait", "staff", "forms"], rng.randint(1, 3)),
        "age": rng.randint(18, 90),
        "visit": (date(2026, 9, 1) + timedelta(days=rng.randint(0, 60))).isoformat(),
        "again": rng.random() < 0.7,
    }
    if n % 5 == 0:
        answers["comment"] = f"窓口の待ち時間についての意見 {n}"
    return Submission(
        municipality=city,
        reference=f"Q-{n:07d}",
        procedure=procedure,
        version=version,
        resident=residents[n % len(residents)],
        answers=answers,
        channel="line",
        submitted_at=start + timedelta(seconds=30 * n),
    )


def _timed(work) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.monotonic()
        result = work()
        seconds = time.monotonic() - started
    return {"seconds": round(seconds, 2), "queries": len(captured), "result": result}


def run(city, user, procedure) -> dict:
    from govtech.access import staff_context_for
    from govtech.tenancy import tenant_scope
    from reports.surveys.export import aggregates_csv
    from reports.surveys.results import publishable, survey_results, text_answers
    from reports.surveys.selectors import (
        counted_submissions,
        filter_attributes,
        parse_survey_filters,
        public_submissions,
        survey_versions,
    )

    figures = {}
    with tenant_scope(city):
        staff = staff_context_for(user, municipality_id=city.pk)
        questions, _versions = survey_versions(procedure=procedure)

        def page(params):
            filters = parse_survey_filters(params, filter_attributes())
            submissions = counted_submissions(staff=staff, procedure=procedure, filters=filters)
            return survey_results(submissions, questions, text_preview=3).respondents

        def texts():
            submissions = counted_submissions(
                staff=staff, procedure=procedure, filters=parse_survey_filters({}, [])
            )
            return len(list(text_answers(submissions, "comment", search="待ち時間")[:20]))

        def public():
            results = survey_results(public_submissions(procedure=procedure), questions)
            return len(publishable(results, 5).questions)

        def csv_bytes():
            submissions = counted_submissions(
                staff=staff, procedure=procedure, filters=parse_survey_filters({}, [])
            )
            return len(aggregates_csv(survey_results(submissions, questions)))

        def python_loop():
            """The alternative: every answer streamed to Python and counted there."""
            submissions = counted_submissions(
                staff=staff, procedure=procedure, filters=parse_survey_filters({}, [])
            )
            counts: dict = {}
            for answers in submissions.values_list("answers", flat=True).iterator(2000):
                for key, value in answers.items():
                    for one in value if isinstance(value, list) else [value]:
                        counts[(key, str(one))] = counts.get((key, str(one)), 0) + 1
            return len(counts)

        figures["results_all"] = _timed(lambda: page({}))
        figures["python_loop"] = _timed(python_loop)
        figures["results_north"] = _timed(lambda: page({"attr_area": "north"}))
        figures["free_text_page"] = _timed(texts)
        figures["public_page"] = _timed(public)
        figures["csv"] = _timed(csv_bytes)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.survey_results")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("PostgreSQL is needed: set DATABASE_URL")
    os.environ.update(
        servers.bench_env(
            database_url=args.database_url,
            redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:1/0"),
            site_url="http://127.0.0.1",
            line_api="http://127.0.0.1",
            var_dir=Path(tempfile.mkdtemp(prefix="bench-surveys-")),
        )
    )
    servers.database_ensure(args.database_url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    started = time.monotonic()
    city, user, procedure = seed(args.rows)
    print(f"survey results of {args.rows:,} answers (seeded in {time.monotonic() - started:.1f} s)")
    print(f"{'':18}{'seconds':>10}{'queries':>10}{'result':>10}")
    for name, part in run(city, user, procedure).items():
        print(f"{name:18}{part['seconds']:>10}{part['queries']:>10}{part['result']:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
