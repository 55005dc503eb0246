"""Export jobs: created by staff (or a schedule), claimed and written by a worker, deleted
when expired. Every function runs inside the job's tenant scope.

A job is claimed with a conditional update (pending → running), so a second delivery of
the task writes nothing. The rows are read ``BATCH`` at a time and written to a temporary
file as they come; progress (and a heartbeat) is stored after each batch; the file then
goes to storage. A job whose heartbeat stopped (its worker was killed) is run again,
once, then given up.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.files import File
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from govtech.access import staff_context_for
from govtech.models import User
from govtech.publish import publish_task_on_commit
from govtech.services import audit_log
from procedures.casework.selectors import InboxFilters
from procedures.models import Procedure, Submission
from reports.exports.columns import build_columns, row_cells
from reports.exports.pdf import write_pdf_zip
from reports.exports.selectors import (
    export_rows,
    export_versions,
    exportable_submissions,
    filters_as_params,
    may_export,
    parse_export_filters,
    window_submissions,
)
from reports.exports.writers import CsvEncoder, csv_chunks, write_xlsx
from reports.models import ExportFormat, ExportJob, ExportStatus

RUN_TASK = "reports.run_export_job"
EXPIRY = timedelta(days=7)
# No heartbeat for this long: the worker is gone (a batch takes seconds, not minutes).
STALLED_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 2
EXTENSIONS = {"csv_utf8": "csv", "csv_cp932": "csv", "xlsx": "xlsx", "pdf_zip": "zip"}


class ExportRefused(Exception):
    """The job's creator may no longer export these submissions."""


def export_job_create(
    *,
    actor: User,
    procedure: Procedure,
    filters: InboxFilters,
    format: str,
    omit_personal: bool,
) -> ExportJob:
    """Store an export job and run it after commit. The caller has checked that ``actor``
    reviews ``procedure``; the worker checks again with the actor's roles at run time.
    Audited as ``reports.export.requested``."""
    with transaction.atomic():
        job = ExportJob.objects.create(
            municipality_id=procedure.municipality_id,
            created_by=actor,
            procedure=procedure,
            filters=filters_as_params(filters),
            format=format,
            omit_personal=omit_personal,
        )
        audit_log(actor, "reports.export.requested", job, _audit_data(job))
        publish_task_on_commit(RUN_TASK, job.pk, municipality_id=job.municipality_id)
    return job


def _audit_data(job: ExportJob) -> dict[str, Any]:
    return {
        "procedure": job.procedure.key,
        "format": job.format,
        "filters": job.filters,
        "omit_personal": job.omit_personal,
    }


def export_job_run(*, job_id: int, now: datetime | None = None) -> bool:
    """Write the job's file. Returns False when another run claimed it first (or it is
    done): a second run is a no-op. A failure is stored on the job and re-raised."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.PENDING)
    if not claimed.update(
        status=ExportStatus.RUNNING, heartbeat_at=timezone.now(), attempts=F("attempts") + 1
    ):
        return False
    job = ExportJob.objects.select_related("procedure", "created_by").get(pk=job_id)
    try:
        _write(job, now or timezone.now())
    except Exception as error:
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportStatus.FAILED, error=str(error)[:1000], finished_at=timezone.now()
        )
        raise
    return True


def job_submissions(job: ExportJob) -> QuerySet[Submission]:
    """What the job exports: a schedule's window, or its creator's filters as they may
    review them now."""
    if job.schedule_id:
        return window_submissions(job=job)
    if job.created_by is None or not job.created_by.is_active:
        raise ExportRefused("the export's creator is gone")
    staff = staff_context_for(job.created_by, municipality_id=job.municipality_id)
    if staff.municipality is None or staff.municipality.pk != job.municipality_id:
        raise ExportRefused("the export's creator no longer works here")
    if not may_export(staff):
        raise ExportRefused("the export's creator may no longer export")
    filters = parse_export_filters({**job.filters, "procedure": str(job.procedure_id)})
    return exportable_submissions(staff=staff, filters=filters)


def _write(job: ExportJob, now: datetime) -> None:
    queryset = job_submissions(job)
    total = queryset.count()
    ExportJob.objects.filter(pk=job.pk).update(total=total)
    progress = _progress(job.pk)
    with tempfile.TemporaryFile() as handle:
        count, replaced = WRITERS[ExportFormat(job.format)](job, queryset, handle, progress)
        handle.seek(0)
        job.file.save(export_filename(job, now), File(handle), save=False)
    ExportJob.objects.filter(pk=job.pk).update(
        file=job.file.name,
        status=ExportStatus.DONE,
        row_count=count,
        progress=count,
        replaced_characters=replaced,
        finished_at=timezone.now(),
        expires_at=now + EXPIRY,
    )


def _progress(job_id: int) -> Callable[[int], None]:
    def update(count: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(progress=count, heartbeat_at=timezone.now())

    return update


def export_filename(job: ExportJob, now: datetime) -> str:
    day = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    return f"{job.procedure.key}-{day}.{EXTENSIONS[job.format]}"


def _write_csv(job, queryset, handle, progress) -> tuple[int, int]:
    encoder = CsvEncoder("cp932" if job.format == ExportFormat.CSV_CP932 else "utf-8")
    documents, versions = export_versions(procedure_id=job.procedure_id)
    columns = build_columns(documents, omit_personal=job.omit_personal, check=encoder.check)
    rows = (row_cells(columns, row, versions) for row in export_rows(queryset))
    counted = [0]

    def on_batch(count: int) -> None:
        counted[0] = count
        progress(count)

    for chunk in csv_chunks(columns, rows, encoder, batch=2000, on_batch=on_batch):
        handle.write(chunk)
    return counted[0], encoder.replaced


def _write_xlsx(job, queryset, handle, progress) -> tuple[int, int]:
    documents, versions = export_versions(procedure_id=job.procedure_id)
    columns = build_columns(documents, omit_personal=job.omit_personal)
    rows = (row_cells(columns, row, versions) for row in export_rows(queryset))
    title = job.procedure.key
    return write_xlsx(handle, columns, rows, title=title, batch=2000, on_batch=progress), 0


def _write_pdf_zip(job, queryset, handle, progress) -> tuple[int, int]:
    submissions = queryset.select_related("procedure", "version").iterator(chunk_size=100)
    count = write_pdf_zip(handle, submissions, omit_personal=job.omit_personal, on_batch=progress)
    return count, 0


WRITERS = {
    ExportFormat.CSV_UTF8: _write_csv,
    ExportFormat.CSV_CP932: _write_csv,
    ExportFormat.XLSX: _write_xlsx,
    ExportFormat.PDF_ZIP: _write_pdf_zip,
}


def export_jobs_purge_expired(*, now: datetime) -> int:
    """Delete the files of jobs past ``expires_at`` and mark them expired. Each job is
    claimed by a conditional update first, so parallel runs delete each file once."""
    purged = 0
    expired = ExportJob.objects.filter(status=ExportStatus.DONE, expires_at__lte=now)
    for job in list(expired.only("pk", "file")):
        if ExportJob.objects.filter(pk=job.pk, status=ExportStatus.DONE).update(
            status=ExportStatus.EXPIRED, file=""
        ):
            if job.file.name:
                job.file.storage.delete(job.file.name)
            purged += 1
    return purged


def export_jobs_recover(*, now: datetime) -> tuple[int, int]:
    """Jobs whose worker died mid-run (no heartbeat for ``STALLED_AFTER``): run again
    when they have attempts left, failed with a reason otherwise. Returns (requeued,
    failed). Conditional updates on the heartbeat seen, so parallel runs act once."""
    requeued = failed = 0
    stalled = ExportJob.objects.filter(
        status=ExportStatus.RUNNING, heartbeat_at__lt=now - STALLED_AFTER
    )
    for job in list(stalled.only("pk", "attempts", "heartbeat_at", "municipality_id")):
        still = ExportJob.objects.filter(
            pk=job.pk, status=ExportStatus.RUNNING, heartbeat_at=job.heartbeat_at
        )
        if job.attempts < MAX_ATTEMPTS:
            with transaction.atomic():
                if still.update(status=ExportStatus.PENDING, progress=0):
                    publish_task_on_commit(RUN_TASK, job.pk, municipality_id=job.municipality_id)
                    requeued += 1
        elif still.update(
            status=ExportStatus.FAILED,
            error=_("The export stopped twice before it was finished. Try a smaller one."),
            finished_at=now,
        ):
            failed += 1
    return requeued, failed
