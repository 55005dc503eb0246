"""Console pages of exports: the exports page (filters, format, the jobs), a job's
progress, its download, one submission's PDF 帳票.

Mounted by ExportJobAdmin ``get_urls`` behind the console's ``admin_view`` (login, staff,
tenant scope). Access: admins and reviewers (of their departments only); other roles get
403; a procedure, job or submission they may not export (another department's or
municipality's) is a 404, the same as a missing one. Every export is audited.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govtech.access import StaffContext, staff_context
from govtech.console import console
from govtech.models import User
from govtech.services import audit_log
from procedures.casework.selectors import InboxFilters
from procedures.models import Procedure, SubmissionStatus
from reports.exports.columns import build_columns, row_cells
from reports.exports.jobs import export_job_create
from reports.exports.pdf import pdf_filename, submission_pdf
from reports.exports.selectors import (
    export_rows,
    export_versions,
    exportable_submissions,
    filters_as_params,
    jobs_for_staff,
    may_export,
    parse_export_filters,
    procedures_for_exporter,
    submission_for_exporter,
)
from reports.exports.writers import CsvEncoder, csv_chunks
from reports.models import ExportFormat, ExportJob, ExportStatus

# A UTF-8 CSV of at most this many rows streams straight to the browser; anything larger,
# and every other format, is a job (a CP932 CSV too: its page reports the replaced
# characters). make bench (tests/bench/exports.py) measures the streamed CSV.
DIRECT_CSV_ROWS = 20_000


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=gettext_lazy("format"), choices=ExportFormat.choices)
    omit_personal = forms.BooleanField(
        label=gettext_lazy(
            "Leave out personal data (free text, name, phone, e-mail, postal "
            "code, location, photos)"
        ),
        required=False,
    )


# --- access --------------------------------------------------------------------------------


def _exporter(request: HttpRequest) -> StaffContext:
    staff = staff_context(request)
    if not may_export(staff):
        raise PermissionDenied
    return staff


def _procedure(staff: StaffContext, filters: InboxFilters) -> Procedure:
    if not filters.procedure:
        raise Http404
    procedure = procedures_for_exporter(staff=staff).filter(pk=filters.procedure).first()
    if procedure is None:
        raise Http404
    return procedure


def job_for_staff(request: HttpRequest, pk: int) -> ExportJob:
    staff = _exporter(request)
    job = jobs_for_staff(staff=staff, user_id=cast(User, request.user).pk).filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> TemplateResponse:
    base = {**console.each_context(request), "opts": ExportJob._meta}
    return TemplateResponse(request, template, {**base, **context})


# --- pages ---------------------------------------------------------------------------------


def exports_view(request: HttpRequest) -> HttpResponseBase:
    """GET: the form (filters from the query string, as the inbox's) and the jobs.
    POST: a small UTF-8 CSV streams at once; anything else becomes a job."""
    staff = _exporter(request)
    filters = parse_export_filters(request.GET if request.method == "GET" else request.POST)
    form = ExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        procedure = _procedure(staff, filters)
        return _export(request, staff, procedure, filters, form.cleaned_data)
    user = cast(User, request.user)
    jobs = jobs_for_staff(staff=staff, user_id=user.pk)[:30]
    return _render(
        request,
        "reports/exports.html",
        {
            "title": _("Exports"),
            "form": form,
            "filters": filters,
            "filter_params": filters_as_params(filters),
            "procedures": procedures_for_exporter(staff=staff),
            "statuses": SubmissionStatus.choices,
            "jobs": jobs,
        },
    )


def _export(request, staff, procedure, filters, choices) -> HttpResponseBase:
    filters = replace(filters, procedure=procedure.pk)
    fmt, omit = choices["format"], choices["omit_personal"]
    if fmt == ExportFormat.CSV_UTF8:
        queryset = exportable_submissions(staff=staff, filters=filters)
        if queryset.count() <= DIRECT_CSV_ROWS:
            return stream_csv(request, procedure, filters, queryset, omit_personal=omit)
    job = export_job_create(
        actor=cast(User, request.user),
        procedure=procedure,
        filters=filters,
        format=fmt,
        omit_personal=omit,
    )
    return redirect("admin:reports_export_job", job.pk)


def stream_csv(
    request, procedure, filters, queryset, *, omit_personal: bool
) -> StreamingHttpResponse:
    """The CSV written while it is sent: one batch of rows in memory at a time."""
    audit_log(
        request.user,
        "reports.export.streamed",
        procedure,
        {"filters": filters_as_params(filters), "omit_personal": omit_personal, "format": "csv"},
        request=request,
    )
    encoder = CsvEncoder("utf-8")
    documents, versions = export_versions(procedure_id=procedure.pk)
    columns = build_columns(documents, omit_personal=omit_personal)
    rows = (row_cells(columns, row, versions) for row in export_rows(queryset))
    response = StreamingHttpResponse(
        csv_chunks(columns, rows, encoder), content_type="text/csv; charset=utf-8"
    )
    day = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="{procedure.key}-{day}.csv"'
    return response


def job_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A job's progress: JSON for the page's script (``?poll=1``), else the page, which
    refreshes itself while the job runs (it works without JavaScript)."""
    job = job_for_staff(request, pk)
    if request.GET.get("poll"):
        return JsonResponse(job_state(job))
    return _render(
        request,
        "reports/job.html",
        {"title": _("Export #%(pk)s") % {"pk": job.pk}, "job": job, "state": job_state(job)},
    )


def job_state(job: ExportJob) -> dict[str, Any]:
    finished = job.status in (ExportStatus.DONE, ExportStatus.FAILED, ExportStatus.EXPIRED)
    return {
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "progress": job.progress,
        "total": job.total,
        "percent": job.percent,
        "rows": job.row_count,
        "replaced": job.replaced_characters,
        "finished": finished,
        "download": reverse("admin:reports_export_download", args=[job.pk])
        if job.status == ExportStatus.DONE
        else "",
    }


def download_view(request: HttpRequest, pk: int) -> FileResponse:
    """The job's file while it has not expired; audited (personal data leaves the system)."""
    job = job_for_staff(request, pk)
    user = cast(User, request.user)  # the console admits only signed-in staff
    expired = job.expires_at is not None and job.expires_at <= timezone.now()
    if job.status != ExportStatus.DONE or not job.file or expired:
        raise Http404
    audit_log(
        user,
        "reports.export.downloaded",
        job,
        {"procedure": job.procedure.key, "format": job.format, "rows": job.row_count},
        request=request,
    )
    name = (job.file.name or "").rsplit("/", 1)[-1]
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=name)


def submission_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One submission's 帳票 as PDF; audited."""
    staff = _exporter(request)
    submission = submission_for_exporter(staff=staff, pk=pk)
    if submission is None:
        raise Http404
    omit = request.GET.get("omit_personal") == "1"
    audit_log(
        cast(User, request.user),
        "reports.submission.pdf_exported",
        submission,
        {"omit_personal": omit},
        request=request,
    )
    response = HttpResponse(submission_pdf(submission, omit_personal=omit), "application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(submission)}"'
    return response
