"""``make bench``'s Open311 part must keep working: run alone with tiny numbers.

Nothing here looks at a timing: every page must answer 200 with what it was asked for,
which the bench's own exit status and figures say.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench import servers

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[3]
SMOKE_DATABASE = "govtech_bench_open311_smoke"


@pytest.fixture
def bench_database():
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not os.environ.get(
        "REDIS_URL"
    ):
        pytest.skip("needs PostgreSQL and Redis (make test starts both)")
    url = f"{database_url.rsplit('/', 1)[0]}/{SMOKE_DATABASE}"
    yield url
    servers.database_drop(url)


def test_the_open311_bench_runs_end_to_end_with_tiny_numbers(bench_database, tmp_path):
    figures_path = tmp_path / "open311.json"
    command = [sys.executable, "-m", "tests.bench.open311", "--reports", "600"]
    command += ["--requests", "2", "--database-url", bench_database, "--json", str(figures_path)]
    command += ["--logs", str(tmp_path / "logs")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(figures_path.read_text())
    assert figures["reports"] == 600
    assert all(set(run["statuses"]) == {"200"} for run in figures["pages"].values())
    assert figures["requests_returned"]["requests.json (90 days, page 1)"] > 0
    assert "Open311 GET requests at 600 reports" in done.stdout
