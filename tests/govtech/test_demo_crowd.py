"""The embedded default holds a room full of people (issue 12, "Done when").

``make demo``'s own stack, started as it starts it (a fresh SQLite file, ``migrate``,
``seed_demo``, ``manage.py rundemo``: gunicorn, a Celery worker and beat on the
filesystem broker), and 50 residents booking the same slot of 「こどもひろば」 at once
through the simulator's JSON API (tests/bench/demo_crowd.py drives them).

The issue sets the reply times as part of what "holds" means: the median reply within
3 s and none later than 30 s, both generous for one room on a laptop. They are printed
with the other figures; ``python -m tests.bench.demo_crowd`` measures the same outside
pytest.
"""

import json

import pytest

from tests.bench.demo_crowd import problems, run_crowd

pytestmark = pytest.mark.slow

RESIDENTS = 50


def test_fifty_residents_booking_one_slot_at_once_all_get_an_answer(tmp_path):
    figures = run_crowd(residents=RESIDENTS, var_dir=tmp_path / "demo")
    report = json.dumps(figures.as_dict(), ensure_ascii=False, indent=2)
    print(report)

    outcomes = figures.outcomes
    assert outcomes.get("booked", 0) + outcomes.get("waitlisted", 0) == RESIDENTS, report
    assert figures.confirmed_bookings == outcomes.get("booked", 0), report
    assert figures.places_taken == figures.confirmed_bookings <= figures.capacity, report
    assert figures.confirmed_bookings == min(RESIDENTS, figures.capacity), report  # none lost
    assert figures.waiting_entries == outcomes.get("waitlisted", 0), report
    assert figures.locked_errors == 0, report
    assert figures.median <= 3, report
    assert figures.slowest <= 30, report
    assert problems(figures) == [], report
