"""``make bench`` must keep working: its machinery, run end to end with tiny numbers.

Nothing here looks at a timing. The bench's own exit status says whether every request
was answered, every event stored and every conversation completed; that is asserted.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg
import pytest
from psycopg import sql

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
SMOKE_DATABASE = "govtech_bench_smoke"
SMOKE_REDIS_DB = 13  # not the suite's: the bench flushes its Redis database


def _services() -> tuple[str, str]:
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url:
        pytest.skip("needs PostgreSQL and Redis (make test starts them)")
    base = database_url.rsplit("/", 1)[0]
    return f"{base}/{SMOKE_DATABASE}", f"{redis_url.rsplit('/', 1)[0]}/{SMOKE_REDIS_DB}"


def _drop(database_url: str) -> None:
    params = dj_database_url.parse(database_url)
    with psycopg.connect(
        host=params["HOST"],
        port=params["PORT"],
        user=params["USER"],
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(params["NAME"])
            )
        )


@pytest.fixture
def bench_services():
    database_url, redis_url = _services()
    yield database_url, redis_url
    _drop(database_url)


def test_bench_runs_end_to_end_with_tiny_numbers(bench_services, tmp_path):
    database_url, redis_url = bench_services
    figures_path = tmp_path / "bench.json"
    tiny = ["--seconds", "0.5", "--warmup", "0", "--max-requests", "100", "--concurrency", "2"]
    processes = ["--residents", "2", "--conversation-rounds", "2"]
    processes += ["--web-workers", "1", "--worker-concurrency", "1"]
    processes += ["--broadcast-friends", "2000", "--booking-clients", "2", "--burst-events", "30"]
    processes += ["--booking-rush", "40", "--booking-processes", "1"]
    processes += ["--skip-rush"]  # a stack of its own: test_rush_bench_smoke.py runs it
    processes += ["--inbox-submissions", "200", "--inbox-requests", "2"]
    processes += ["--export-rows", "200"]
    processes += ["--dashboard-friends", "2000", "--dashboard-conversations", "2000"]
    processes += ["--parallel-channels", "2", "--parallel-friends", "600"]
    processes += ["--open311-reports", "200", "--spots", "500", "--faq-entries", "200"]
    processes += ["--menu-friends", "1200", "--menu-linked", "700"]
    services = ["--database-url", database_url, "--redis-url", redis_url]
    outputs = ["--json", str(figures_path), "--logs", str(tmp_path / "logs")]
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench", *tiny, *processes, *services, *outputs],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # the whole bench in miniature, on a machine shared by several
    )

    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(figures_path.read_text())
    ack, talk = figures["acknowledgement"], figures["conversations"]
    assert ack["events_stored"] == ack["webhook"]["requests"] > 0
    assert ack["bare"]["requests"] > 0
    assert (talk["residents"], talk["completed"], talk["submissions"]) == (2, 2, 4)
    assert talk["turns"] == 18  # 5 turns for the first application, 4 for the second
    percentiles = [talk[f"turn_{p}_ms"] for p in ("p50", "p95", "p99")]
    assert 0 < percentiles[0] <= percentiles[1] <= percentiles[2]
    assert talk["turns_per_s"] > 0
    used = talk["cpu_ms_per_turn"]
    assert set(used["product"]) == {"web", "inbox_consumer", "engine_workers"}
    assert all(ms > 0 for ms in used["product"].values())
    assert {"simulator", "bench_driver"} <= set(used["rig"])
    assert all(ms > 0 for ms in used["rig"].values())
    # The engine's turn reads and writes the database; its statements are listed.
    assert talk["sql_per_turn"]["engine_workers"]["queries_per_turn"] > 0
    assert talk["sql_per_turn"]["engine_workers"]["statements"]
    assert talk["broker_and_database"]["redis_commands_per_turn"] > 0
    assert talk["broker_and_database"]["pg_transactions_per_turn"] > 0
    assert "CPU ms per turn" in done.stdout
    assert "webhook / bare throughput" in done.stdout
    assert (figures["burst"]["events"], figures["burst"]["burst_total"]) == (30, 31)
    assert "One resident's burst" in done.stdout
    assert all(run["statuses"] == {"200": 2} for run in figures["inbox"]["pages"].values())
    assert "Reviewer's inbox at 200 submissions" in done.stdout
    dashboards = figures["dashboards"]
    assert all(page["status"] == 200 for page in dashboards["pages"].values())
    assert dashboards["aggregation"]["rows"]["friends"] == 365
    assert "dashboards with 2,000 friends and 2,000 conversations" in done.stdout
    parallel = figures["broadcasts_in_parallel"]
    assert [(row["friends"], row["sent"], row["requests"]) for row in parallel["rows"]] == [
        (600, 600, 2)
    ] * 2
    assert "2 channels broadcasting at once" in done.stdout
    spots = figures["spots"]
    assert spots["spots"] == 500 and spots["answers_differing_from_full_scan"] == 0
    assert spots["nearest_p95_ms"] > 0 and "nearest 10 of 500 spots" in done.stdout
    assert figures["faq"]["entries"] == 200 and "FAQ match over 200 entries" in done.stdout
    menus = figures["disaster_menus"]
    assert menus["on_linked_to_disaster"] == menus["off_restored"] == 700
    assert menus["floor_requests"] == 3  # 1 default + 2 bulk links of at most 500
    assert "disaster mode menus: 1,200 friends, 700 with" in done.stdout
    runs = figures["bookings"]["runs"]
    assert {(run["mode"], run["slots"]) for run in runs} == {
        (mode, slots) for mode in ("select_for_update", "conditional_update") for slots in (1, 100)
    }
    assert all(run["bookings"] > 0 and run["overbooked_places"] == 0 for run in runs)
    rush = figures["bookings"]["fill"]
    assert (rush["places_taken"], rush["refused"], rush["counters_out_of_step"]) == (40, 40, 0)
    assert "bookings/s" in done.stdout
