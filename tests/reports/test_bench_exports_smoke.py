"""``make bench``'s export part must keep working: run alone with tiny numbers.

Nothing here looks at a timing: every part must export every row, which the bench's
own exit status says and the figures show.
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
SMOKE_DATABASE = "govtech_bench_exports_smoke"


@pytest.fixture
def bench_database():
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL (make test starts it)")
    url = f"{database_url.rsplit('/', 1)[0]}/{SMOKE_DATABASE}"
    yield url
    servers.database_drop(url)


def test_the_export_bench_runs_end_to_end_with_tiny_numbers(bench_database, tmp_path):
    figures_path = tmp_path / "exports.json"
    command = [sys.executable, "-m", "tests.bench.exports", "--rows", "300"]
    command += ["--database-url", bench_database, "--json", str(figures_path)]
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(figures_path.read_text())
    assert [figures[part]["rows"] for part in ("csv_streamed", "csv_naive", "xlsx_job")] == [
        300,
        300,
        300,
    ]
    assert figures["xlsx_job"]["status"] == "done"
    assert "exports of 300 submissions" in done.stdout
