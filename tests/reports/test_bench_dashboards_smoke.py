"""``make bench``'s dashboard part must keep working: run alone with tiny numbers.

Nothing here looks at a timing: every page must answer 200, and the aggregates of the
seeded year must add up to what was seeded.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench import servers

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
SMOKE_DATABASE = "govtech_bench_dashboards_smoke"


@pytest.fixture
def bench_database():
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL (make test starts it)")
    url = f"{database_url.rsplit('/', 1)[0]}/{SMOKE_DATABASE}"
    yield url
    servers.database_drop(url)


def test_the_dashboard_bench_runs_end_to_end_with_tiny_numbers(bench_database, tmp_path):
    figures_path = tmp_path / "dashboards.json"
    command = [sys.executable, "-m", "tests.bench.dashboards", "--friends", "3000"]
    command += ["--conversations", "4000", "--loads", "1"]
    command += ["--database-url", bench_database, "--json", str(figures_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(figures_path.read_text())
    assert set(figures["pages"]) == {
        "overview_30_days",
        "overview_year",
        "procedure_30_days",
        "procedure_year",
        "reservations_year",
    }
    assert all(page["status"] == 200 and page["queries"] > 0 for page in figures["pages"].values())
    rows = figures["aggregation"]["rows"]
    assert rows["friends"] == 365 and rows["broadcasts"] == 6
    assert "dashboards with 3,000 friends and 4,000 conversations" in done.stdout
