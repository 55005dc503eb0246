"""Reads of exports: the submissions a staff member may export, the versions that give the
columns, the jobs they may see. Callers run inside a tenant scope."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from govtech.access import StaffContext
from govtech.models import Role
from procedures.casework.selectors import InboxFilters, inbox_base
from procedures.models import Procedure, ProcedureVersion, Submission
from procedures.selectors import submissions_for_reviewer
from reports.exports.columns import ROW_FIELDS, Version, versions_by_id
from reports.models import ExportJob

EXPORT_ROLES = frozenset({Role.ADMIN, Role.REVIEWER})
BATCH = 2000  # rows per database round trip (and per progress update)


def parse_export_filters(params: Mapping[str, str]) -> InboxFilters:
    """The inbox's filters from query parameters (procedure, status, submitted_from,
    submitted_to as YYYY-MM-DD, assignee, channel, and the search words as ``q``, the
    inbox's name); what does not parse is ignored."""
    assignee = params.get("assignee", "")
    return InboxFilters(
        procedure=_integer(params.get("procedure")),
        status=params.get("status", "")[:20],
        submitted_from=_day(params.get("submitted_from")),
        submitted_to=_day(params.get("submitted_to")),
        assignee=_integer(assignee),
        unassigned=assignee == "none",
        channel=params.get("channel", "")[:20],
        text=params.get("q", "")[:200],
    )


def filters_as_params(filters: InboxFilters) -> dict[str, str]:
    """The filters back as query parameters (what a job stores and a link repeats)."""
    params = {
        "procedure": str(filters.procedure or ""),
        "status": filters.status,
        "submitted_from": filters.submitted_from.isoformat() if filters.submitted_from else "",
        "submitted_to": filters.submitted_to.isoformat() if filters.submitted_to else "",
        "assignee": "none" if filters.unassigned else str(filters.assignee or ""),
        "channel": filters.channel,
        "q": filters.text,
    }
    return {key: value for key, value in params.items() if value}


def _integer(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def may_export(staff: StaffContext) -> bool:
    return staff.has_any(EXPORT_ROLES)


def procedures_for_exporter(*, staff: StaffContext) -> QuerySet[Procedure]:
    """Procedures whose submissions the staff member reviews (their departments only)."""
    procedures = Procedure.objects.order_by("key")
    if staff.is_operator or staff.is_admin or not staff.reviewer_department_ids:
        return procedures
    return procedures.filter(department__in=staff.reviewer_department_ids)


def exportable_submissions(*, staff: StaffContext, filters: InboxFilters) -> QuerySet[Submission]:
    """The submissions of ``filters`` the staff member may review, oldest first."""
    return inbox_base(staff=staff, filters=filters).order_by("submitted_at", "pk")


def window_submissions(*, job: ExportJob) -> QuerySet[Submission]:
    """A scheduled job's submissions: the procedure's, submitted in its window."""
    return Submission.objects.filter(
        procedure_id=job.procedure_id,
        is_test=False,
        submitted_at__gte=job.window_start,
        submitted_at__lt=job.window_end,
    ).order_by("submitted_at", "pk")


def version_documents(*, procedure_id: int) -> list[tuple[int, int, Any]]:
    """Every published version of the procedure as ``(pk, number, document)``, oldest first."""
    versions = ProcedureVersion.objects.filter(procedure_id=procedure_id).order_by("number")
    return list(versions.values_list("pk", "number", "document"))


def export_versions(*, procedure_id: int) -> tuple[list[Any], dict[int, Version]]:
    """The documents (for the columns) and each version's rendering context (for cells)."""
    documents = version_documents(procedure_id=procedure_id)
    return [document for _pk, _n, document in documents], versions_by_id(documents)


def export_rows(queryset: QuerySet[Submission]) -> Iterator[dict[str, Any]]:
    """The rows as dicts, fetched ``BATCH`` at a time (a server-side cursor on PostgreSQL)."""
    return queryset.values(*ROW_FIELDS).iterator(chunk_size=BATCH)


def jobs_for_staff(*, staff: StaffContext, user_id: int) -> QuerySet[ExportJob]:
    """The exports a staff member sees: their own, and the scheduled exports of the
    procedures they review."""
    if not may_export(staff):
        return ExportJob.objects.none()
    reviewed = procedures_for_exporter(staff=staff).values("pk")
    mine = Q(created_by_id=user_id, schedule__isnull=True)
    scheduled = Q(schedule__isnull=False, procedure__in=reviewed)
    return ExportJob.objects.filter(mine | scheduled).select_related("procedure")


def submission_for_exporter(*, staff: StaffContext, pk: int) -> Submission | None:
    """One submission for its PDF, when the staff member reviews it."""
    if not may_export(staff):
        return None
    queryset = submissions_for_reviewer(staff=staff).select_related("procedure", "version")
    return queryset.filter(pk=pk).first()
