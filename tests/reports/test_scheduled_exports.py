"""Scheduled exports: beat turns the window since the last run into one job, once."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from reports.exports.schedules import latest_run_time
from reports.models import ExportJob, ScheduledExport
from reports.tasks import run_scheduled_exports
from tests.reports.conftest import TOKYO, submit

MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=TOKYO)  # a Tuesday


@pytest.fixture(autouse=True)
def _eager(eager_celery):
    return eager_celery


@pytest.fixture
def daily(city, kodomo, pets, admin_user):
    with tenant_scope(city):
        return ScheduledExport.objects.create(
            municipality=city,
            department=kodomo,
            procedure=pets,
            format="csv_utf8",
            frequency="daily",
            time_of_day=time(9, 0),
            created_by=admin_user,
        )


def _jobs(city) -> list[ExportJob]:
    with tenant_scope(city):
        return list(ExportJob.objects.order_by("window_start"))


def _beat(at: datetime, capture) -> int:
    with time_machine.travel(at, tick=False), capture(execute=True):
        return run_scheduled_exports()


def test_the_first_run_exports_the_last_day_and_a_second_run_in_the_window_nothing(
    city, daily, pets, django_capture_on_commit_callbacks
):
    submit(pets, 3, {"owner": "昨日の申請"}, when=MORNING - timedelta(hours=12))
    submit(pets, 3, {"owner": "一昨日の申請"}, when=MORNING - timedelta(days=2))
    assert _beat(MORNING, django_capture_on_commit_callbacks) == 1
    assert _beat(MORNING + timedelta(minutes=5), django_capture_on_commit_callbacks) == 0

    [job] = _jobs(city)
    nine = MORNING.replace(hour=9)
    assert (job.window_start, job.window_end) == (nine - timedelta(days=1), nine)
    assert (job.status, job.row_count, job.schedule_id) == ("done", 1, daily.pk)
    with tenant_scope(city), job.file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    assert "昨日の申請" in text and "一昨日の申請" not in text
    with tenant_scope(city):
        assert AuditLogEntry.objects.filter(action="reports.export.scheduled").count() == 1


def test_the_next_window_starts_where_the_last_ended_even_after_beat_was_down(
    city, daily, django_capture_on_commit_callbacks
):
    _beat(MORNING, django_capture_on_commit_callbacks)
    assert _beat(MORNING + timedelta(days=3), django_capture_on_commit_callbacks) == 1
    first, second = _jobs(city)
    assert second.window_start == first.window_end
    assert second.window_end == first.window_end + timedelta(days=3)


def test_the_same_window_is_never_exported_twice_even_when_the_schedule_forgets(
    city, daily, django_capture_on_commit_callbacks
):
    _beat(MORNING, django_capture_on_commit_callbacks)
    with tenant_scope(city):  # as if a parallel run had not saved last_window_end yet
        ScheduledExport.objects.filter(pk=daily.pk).update(last_window_end=None)
    assert _beat(MORNING, django_capture_on_commit_callbacks) == 0
    assert len(_jobs(city)) == 1


def test_a_weekly_schedule_is_due_on_its_weekday_at_its_time(daily):
    daily.frequency, daily.weekday = "weekly", 0  # Mondays 9:00
    assert latest_run_time(daily, MORNING) == datetime(2026, 11, 23, 9, 0, tzinfo=TOKYO)
    monday_early = datetime(2026, 11, 23, 8, 59, tzinfo=TOKYO)
    assert latest_run_time(daily, monday_early) == datetime(2026, 11, 16, 9, 0, tzinfo=TOKYO)


def test_a_scheduled_export_is_on_the_exports_page_of_reviewers_of_its_department(
    client, city, reviewer, daily, django_capture_on_commit_callbacks
):
    _beat(MORNING, django_capture_on_commit_callbacks)
    [job] = _jobs(city)
    client.force_login(reviewer)
    with time_machine.travel(MORNING, tick=False):
        body = client.get(reverse("admin:reports_exports")).content.decode()
        assert reverse("admin:reports_export_download", args=[job.pk]) in body
        response = client.get(reverse("admin:reports_export_download", args=[job.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content)
    response.close()  # last: on PostgreSQL it ends the test's database connection
