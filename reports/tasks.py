"""Celery tasks of reports: export jobs, their expiry, scheduled exports, the dashboards'
daily aggregates. Each can run twice (a job is claimed before it is written; a schedule's
window is unique; a day's aggregates are replaced, not added)."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from govtech.models import Municipality
from govtech.tasks import TenantTask
from govtech.tenancy import tenant_scope
from reports.dashboards.aggregation import SETTLE_DAYS, aggregates_compute, tokyo_today
from reports.exports.jobs import export_job_run, export_jobs_purge_expired, export_jobs_recover
from reports.exports.schedules import active_schedule_ids, scheduled_export_run


@shared_task(base=TenantTask, name="reports.run_export_job", ignore_result=True)
def run_export_job(job_id: int, *, municipality_id: int) -> bool:
    """Write one export's file; a second delivery finds it claimed and does nothing."""
    return export_job_run(job_id=job_id)


@shared_task(name="reports.purge_expired_exports", ignore_result=True)
def purge_expired_exports() -> int:
    """Beat, hourly: delete the files of expired exports. Returns how many."""
    now, purged = timezone.now(), 0
    for municipality in Municipality.objects.all():
        with tenant_scope(municipality):
            purged += export_jobs_purge_expired(now=now)
    return purged


@shared_task(name="reports.recover_stalled_exports", ignore_result=True)
def recover_stalled_exports() -> int:
    """Beat, every 5 minutes: jobs whose worker died mid-run are run again (once) or
    marked failed with a reason, instead of showing "running" forever. Returns how many."""
    now, handled = timezone.now(), 0
    for municipality in Municipality.objects.all():
        with tenant_scope(municipality):
            handled += sum(export_jobs_recover(now=now))
    return handled


@shared_task(name="reports.run_scheduled_exports", ignore_result=True)
def run_scheduled_exports() -> int:
    """Beat, every 5 minutes: one job per schedule whose window has closed. Returns how
    many jobs were created; a parallel run creates none twice."""
    now, created = timezone.now(), 0
    for municipality in Municipality.objects.all():
        with tenant_scope(municipality):
            for schedule_id in active_schedule_ids():
                created += scheduled_export_run(schedule_id=schedule_id, now=now) is not None
    return created


@shared_task(name="reports.compute_daily_aggregates", ignore_result=True)
def compute_daily_aggregates(first: str | None = None, last: str | None = None) -> int:
    """Beat, nightly: every municipality's dashboard aggregates of the last
    ``SETTLE_DAYS`` days up to yesterday (Tokyo), or of ``first``..``last`` (ISO dates).
    Each municipality's range replaces its rows in one transaction, so a second run (or
    an overlapping one) leaves the same rows. Returns the municipalities computed."""
    last_day = date.fromisoformat(last) if last else tokyo_today() - timedelta(days=1)
    first_day = date.fromisoformat(first) if first else last_day - timedelta(days=SETTLE_DAYS - 1)
    municipalities = list(Municipality.objects.order_by("pk"))
    for municipality in municipalities:
        aggregates_compute(municipality=municipality, first=first_day, last=last_day)
    return len(municipalities)
