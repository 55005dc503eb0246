"""The daily aggregates: each figure equals the hand count of tests.reports.dashboards.fixtures,
recomputing replaces rather than adds, and a municipality's figures are its own."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine
from django.core.management import call_command

from govtech.tenancy import tenant_scope
from reports.dashboards.aggregation import aggregates_compute
from reports.models import BroadcastBlocks, DailyFriends, DailyProcedure, DailyResource, DailyStep
from reports.tasks import compute_daily_aggregates
from tests.reports.dashboards.fixtures import (
    DAY,
    EXPECTED_BROADCAST,
    EXPECTED_FRIENDS,
    EXPECTED_FUNNEL,
    EXPECTED_PROCEDURE,
    EXPECTED_RESOURCE,
    FIRST,
    LAST,
    NEXT,
    WEB_SUBMISSIONS,
    at,
)


def compute(city, first=FIRST, last=LAST):
    return aggregates_compute(municipality=city, first=first, last=last)


def rows(city, model, **filters):
    with tenant_scope(city):
        return list(model.objects.filter(**filters))


def test_friends_per_day_count_follows_blocks_and_the_total_in_tokyo_days(city, friends):
    compute(city)
    found = {r.day: (r.friends, r.follows, r.blocks) for r in rows(city, DailyFriends)}
    assert found == EXPECTED_FRIENDS


def test_blocks_within_a_day_of_a_broadcast_count_only_its_recipients(city, broadcast):
    compute(city)
    [row] = rows(city, BroadcastBlocks)
    assert (row.recipients, row.blocks, row.hours, row.day) == (*EXPECTED_BROADCAST, 24, DAY)
    assert row.title == "年末年始のごみ収集"


def test_funnel_counts_equal_the_hand_counted_conversations(city, bulky):
    compute(city)
    steps = rows(city, DailyStep, procedure=bulky, day=DAY)
    assert {s.step_id: (s.reached, s.stopped) for s in steps} == EXPECTED_FUNNEL
    assert [s.step_id for s in sorted(steps, key=lambda s: s.position)] == list(EXPECTED_FUNNEL)


def test_a_procedure_day_has_started_completed_median_and_submissions_by_channel(city, bulky):
    compute(city)
    [day] = rows(city, DailyProcedure, procedure=bulky, day=DAY)
    found = {"started": day.started, "completed": day.completed}
    assert found | {"median_seconds": day.median_seconds} == EXPECTED_PROCEDURE
    assert day.submissions_by_channel == {"line": 2, "web": WEB_SUBMISSIONS}
    assert day.submissions == 2 + WEB_SUBMISSIONS
    [next_day] = rows(city, DailyProcedure, procedure=bulky, day=NEXT)
    assert (next_day.started, next_day.completed, next_day.median_seconds) == (1, 0, None)


def test_reservations_have_places_offered_booked_and_no_shows_per_day(city, hall):
    compute(city)
    found = {
        r.day: (r.capacity, r.booked, r.bookings, r.no_shows) for r in rows(city, DailyResource)
    }
    assert found == EXPECTED_RESOURCE


def test_recomputing_a_range_replaces_its_rows_with_the_same_figures(dashboard_city):
    city = dashboard_city
    first = compute(city)
    snapshot = _snapshot(city)
    second = compute(city)
    compute(city, first=DAY, last=DAY)  # one day inside the range again
    assert first == second and _snapshot(city) == snapshot


def test_a_later_recompute_sees_a_conversation_that_finished_meanwhile(city, bulky):
    compute(city)
    with tenant_scope(city):
        from procedures.models import Conversation

        active = Conversation.objects.get(status="active", started_at=at(DAY, 10))
        state = active.state | {"history": ["name", "kind"], "step_id": "photo"}
        Conversation.objects.filter(pk=active.pk).update(state=state)
    compute(city, first=DAY, last=DAY)
    steps = {s.step_id: (s.reached, s.stopped) for s in rows(city, DailyStep, day=DAY)}
    assert steps["photo"] == (5, 2) and steps["name"] == (7, 1)


def test_another_municipalitys_activity_is_not_counted(city, other_town, dashboard_city):
    compute(city)
    aggregates_compute(municipality=other_town, first=FIRST, last=LAST)
    theirs = rows(other_town, DailyFriends)
    assert [(r.friends, r.follows, r.blocks) for r in theirs] == [(0, 0, 0)] * 3
    for model in (BroadcastBlocks, DailyProcedure, DailyStep, DailyResource):
        assert rows(other_town, model) == []


def test_the_nightly_task_computes_the_last_days_up_to_yesterday(dashboard_city):
    with time_machine.travel(at(NEXT + timedelta(days=1), 2, 30), tick=False):
        compute_daily_aggregates()
    days = [r.day for r in rows(dashboard_city, DailyFriends)]
    assert days == [NEXT - timedelta(days=n) for n in range(6, -1, -1)]


def test_the_backfill_command_fills_a_range_of_one_municipality(dashboard_city, other_town, capsys):
    call_command(
        "compute_dashboards",
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-21",
        "--municipality",
        "demo-city",
    )
    days = [r.day for r in rows(dashboard_city, DailyFriends)]
    assert days[0] == date(2026, 10, 1) and days[-1] == NEXT and len(days) == 52
    assert rows(other_town, DailyFriends) == []
    assert "demo-city 2026-10-01..2026-10-31" in capsys.readouterr().out


def _snapshot(city) -> dict:
    fields = {
        DailyFriends: ("day", "friends", "follows", "blocks"),
        BroadcastBlocks: ("broadcast_id", "day", "recipients", "blocks"),
        DailyProcedure: (
            "procedure_id",
            "day",
            "started",
            "completed",
            "median_seconds",
            "submissions",
        ),
        DailyStep: ("procedure_id", "day", "step_id", "position", "reached", "stopped"),
        DailyResource: ("resource_id", "day", "capacity", "booked", "bookings", "no_shows"),
    }
    with tenant_scope(city):
        return {
            model.__name__: sorted(model.objects.values_list(*names))
            for model, names in fields.items()
        }


def test_beat_runs_the_aggregation_every_night(settings):
    from celery.schedules import crontab

    entry = settings.CELERY_BEAT_SCHEDULE["dashboard-aggregates"]
    assert entry["task"] == compute_daily_aggregates.name
    assert entry["schedule"] == crontab(hour=2, minute=30)


def test_a_funnel_over_two_versions_adds_up_by_step_in_the_latest_order(city, bulky):
    from procedures.models import Conversation, ProcedureVersion
    from reports.dashboards.selectors import DateRange, funnel
    from tests.reports.dashboards.fixtures import DOCUMENT
    from tests.reports.dashboards.fixtures import _conversation as conversation

    steps = list(DOCUMENT["steps"])
    address = {"id": "address", "type": "text", "label": {"ja": "住所"}, "prompt": {"ja": "住所"}}
    second = {**DOCUMENT, "steps": [*steps[:2], address, *steps[2:]]}
    with tenant_scope(city):
        version = ProcedureVersion.objects.create(
            municipality=city, procedure=bulky, number=2, document=second
        )
        conversation(
            city, bulky, version, at(DAY, 12), "expired", ["name", "kind"], "address", None, ""
        )
        assert Conversation.objects.filter(version=version).count() == 1
    compute(city)
    found = {s.step_id: (s.reached, s.stopped) for s in rows(city, DailyStep, day=DAY)}
    assert found == {
        "name": (8, 2),
        "kind": (6, 1),
        "address": (1, 1),
        "photo": (4, 1),
        "confirm": (3, 1),
    }
    with tenant_scope(city):
        shown = funnel(procedure=bulky, period=DateRange(DAY, DAY), started=8)
    assert [(s.step_id, s.label, s.reached) for s in shown] == [
        ("name", "氏名", 8),
        ("kind", "品目", 6),
        ("address", "住所", 1),
        ("photo", "写真", 4),
        ("confirm", "確認（内容の表示と送信）", 3),
    ]
