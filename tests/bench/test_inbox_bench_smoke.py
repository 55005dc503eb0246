"""The inbox bench must keep working: run alone, end to end, at a tiny size.

Nothing here looks at a timing: every measured page answers 200 (the exit status says
so), each has a query count, and the text search was timed with and without the index.
"""

import json
import subprocess
import sys

import pytest

from tests.bench.test_bench_smoke import ROOT, _drop, _services

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

SMOKE_DATABASE = "govtech_bench_inbox_smoke"


@pytest.fixture
def inbox_services():
    database_url, redis_url = _services()
    database_url = f"{database_url.rsplit('/', 1)[0]}/{SMOKE_DATABASE}"
    yield database_url, redis_url
    _drop(database_url)


def test_inbox_bench_runs_end_to_end_with_tiny_numbers(inbox_services, tmp_path):
    database_url, redis_url = inbox_services
    figures_path = tmp_path / "inbox.json"
    done = subprocess.run(
        [
            *[sys.executable, "-m", "tests.bench.inbox", "--submissions", "300"],
            *["--requests", "2", "--web-workers", "1"],
            *["--database-url", database_url, "--redis-url", redis_url],
            *["--json", str(figures_path), "--logs", str(tmp_path / "logs")],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(figures_path.read_text())
    assert figures["submissions"] == 300
    assert set(figures["pages"]) == {"bare", "queue", "filtered", "text_search", "page_50"}
    assert all(run["statuses"] == {"200": 2} for run in figures["pages"].values())
    assert set(figures["queries"]) == {"queue", "filtered", "text_search", "page_50"}
    assert all(count > 0 for count in figures["queries"].values())
    search = figures["text_search_selector_ms"]
    assert set(search["without_index"]) == set(search["with_index"])  # the index is there
    assert "Reviewer's inbox at 300 submissions" in done.stdout
