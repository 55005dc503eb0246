"""The rush must stay correct on the production stack: 50 residents for 10 places.

Nothing here looks at a timing. Every resident is answered and ends booked or on the
waitlist, the slot holds exactly its places (its counter equal to a recount), and every
event the emulated LINE sent was stored and processed once.
"""

import json
import subprocess
import sys

import pytest

from tests.bench.test_bench_smoke import ROOT, _drop, _services

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

SMOKE_DATABASE = "govtech_bench_rush_smoke"


@pytest.fixture
def rush_services():
    database_url, redis_url = _services()
    database_url = f"{database_url.rsplit('/', 1)[0]}/{SMOKE_DATABASE}"
    yield database_url, redis_url
    _drop(database_url)


def test_fifty_residents_rushing_for_ten_places_are_all_answered_and_never_overbook(
    rush_services, tmp_path
):
    database_url, redis_url = rush_services
    figures_path = tmp_path / "rush.json"
    size = ["--rush-residents", "50", "--rush-places", "10", "--rush-seconds", "5"]
    size += ["--rush-baseline", "2", "--rush-engine", "2", "--web-workers", "1"]
    services = ["--database-url", database_url, "--redis-url", redis_url]
    outputs = ["--json", str(figures_path), "--logs", str(tmp_path / "logs")]
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--rush", *size, *services, *outputs],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(figures_path.read_text())["rush"]
    rush, slot, events = figures["rush"], figures["rush"]["slot"], figures["rush"]["events"]
    assert (rush["residents"], rush["answered"], rush["error_count"]) == (50, 50, 0)
    assert (rush["booked"], slot["bookings"], slot["taken"], slot["overbooked"]) == (10, 10, 10, 0)
    assert (rush["waitlisted"], slot["waitlisted"]) == (40, 40)
    assert rush["saw_full"] + rush["refused_at_submit"] == 40
    assert slot["counters_out_of_step"] == 0
    # Four turns each (keyword, day, time, 送信 or the waitlist); one more to join the
    # waitlist after losing the race at 送信, or after a time filled while choosing.
    assert rush["turns"] == 4 * 50 + rush["refused_at_submit"] + rush["filled_while_choosing"]
    assert events["sent"] == events["stored"] == events["processed"] == rush["turns"]
    assert (events["lost"], events["not_accepted"]) == (0, 0)
    assert figures["baseline"]["answered"] == figures["baseline"]["residents"] == 2
    assert figures["rush"]["cpu_ms_per_turn"]["product"]["engine_workers"] > 0
    assert "Rush: 50 residents" in done.stdout
