"""Scheduled exports: beat asks each active schedule whether a window has closed; the
window since the last run becomes one ExportJob (unique per schedule and window)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from govtech.publish import publish_task_on_commit
from govtech.services import audit_log
from reports.exports.columns import TOKYO
from reports.models import ExportFrequency, ExportJob, ScheduledExport

RUN_TASK = "reports.run_export_job"


def latest_run_time(schedule: ScheduledExport, now: datetime) -> datetime:
    """The last moment at or before ``now`` when the schedule was due (Japan time)."""
    local = now.astimezone(TOKYO)
    due = local.replace(
        hour=schedule.time_of_day.hour,
        minute=schedule.time_of_day.minute,
        second=0,
        microsecond=0,
    )
    if schedule.frequency == ExportFrequency.WEEKLY:
        due -= timedelta(days=(due.weekday() - schedule.weekday) % 7)
        step = timedelta(days=7)
    else:
        step = timedelta(days=1)
    return due - step if due > local else due


def period(schedule: ScheduledExport) -> timedelta:
    return timedelta(days=7 if schedule.frequency == ExportFrequency.WEEKLY else 1)


def scheduled_export_run(*, schedule_id: int, now: datetime) -> ExportJob | None:
    """Create the job of the window that closed last, if not yet created: from the last
    window's end (or one period back, the first time) to the latest due time. Locks the
    schedule's row; a second run in the same window creates nothing (the unique
    constraint holds even without the lock). The job runs after commit."""
    with transaction.atomic():
        schedule = (
            ScheduledExport.objects.select_for_update()
            .select_related("procedure")
            .filter(pk=schedule_id, is_active=True)
            .first()
        )
        if schedule is None:
            return None
        end = latest_run_time(schedule, now)
        start = schedule.last_window_end or end - period(schedule)
        if start >= end:
            return None
        job = _job_for_window(schedule, start, end)
        if job is None:
            return None
        schedule.last_window_end = end
        schedule.save(update_fields=["last_window_end"])
        publish_task_on_commit(RUN_TASK, job.pk, municipality_id=job.municipality_id)
    return job


def _job_for_window(schedule: ScheduledExport, start: datetime, end: datetime) -> ExportJob | None:
    try:
        with transaction.atomic():
            job = ExportJob.objects.create(
                municipality_id=schedule.municipality_id,
                schedule=schedule,
                created_by=None,
                procedure=schedule.procedure,
                format=schedule.format,
                omit_personal=schedule.omit_personal,
                window_start=start,
                window_end=end,
            )
    except IntegrityError:  # another run made this window's job
        return None
    audit_log(
        None,
        "reports.export.scheduled",
        job,
        {"schedule": schedule.pk, "from": start.isoformat(), "until": end.isoformat()},
    )
    return job


def active_schedule_ids() -> list[int]:
    return list(ScheduledExport.objects.filter(is_active=True).values_list("pk", flat=True))
