"""Back-office API reads: what a token reaches. Callers run inside the token's
municipality scope (``BackOfficeView``), so another municipality's rows never match; a
token limited to departments reaches only their procedures, submissions, bookings (of
their resources) and reports. Test submissions are never shown.

Each list is one query per page (what a row shows is joined in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F, QuerySet
from django.utils import timezone

from procedures.casework.models import CaseEvent
from procedures.incidents.models import Report
from procedures.models import Procedure, ResidentUpload, Submission
from procedures.reservations.models import Booking
from reports.backoffice.models import ApiToken


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))  # Asia/Tokyo


def token_procedures(*, token: ApiToken) -> QuerySet[Procedure]:
    """Published procedures the token reaches, with their live version."""
    procedures = Procedure.objects.filter(live_version__isnull=False)
    if token.department_ids:
        procedures = procedures.filter(department__in=token.department_ids)
    return procedures.select_related("live_version", "department").order_by("key")


def token_procedure(*, token: ApiToken, key: str) -> Procedure | None:
    return token_procedures(token=token).filter(key=key).first()


def token_submissions(*, token: ApiToken) -> QuerySet[Submission]:
    """Every residents' submission the token reaches (not designers' tests)."""
    submissions = Submission.objects.filter(is_test=False)
    if token.department_ids:
        submissions = submissions.filter(department__in=token.department_ids)
    return submissions


@dataclass(frozen=True)
class SubmissionFilters:
    procedure: str = ""
    status: str = ""
    submitted_from: date | None = None
    submitted_to: date | None = None
    updated_since: datetime | None = None


def api_submissions(*, token: ApiToken, filters: SubmissionFilters) -> QuerySet[Submission]:
    """The token's submissions under ``filters`` (procedure key, status, submitted between
    two days in Japan time inclusive, last activity at or after a moment)."""
    submissions = token_submissions(token=token)
    if filters.procedure:
        submissions = submissions.filter(procedure__key=filters.procedure)
    if filters.status:
        submissions = submissions.filter(status=filters.status)
    if filters.submitted_from:
        submissions = submissions.filter(submitted_at__gte=_midnight(filters.submitted_from))
    if filters.submitted_to:
        end = _midnight(filters.submitted_to + timedelta(days=1))
        submissions = submissions.filter(submitted_at__lt=end)
    if filters.updated_since:
        submissions = submissions.filter(last_activity_at__gte=filters.updated_since)
    return submissions.select_related("procedure", "version", "department", "report").defer(
        "answers",
        "search_text",
        "procedure__draft",
        "procedure__base_document",
        "version__document",
    )


def api_submission(*, token: ApiToken, reference: str) -> Submission | None:
    """One submission of the token's by reference; None for a missing one, another
    department's or another municipality's alike."""
    return (
        token_submissions(token=token)
        .select_related("procedure", "version", "department", "resident", "report__category")
        .filter(reference=reference)
        .first()
    )


def submission_events(*, submission: Submission) -> list[CaseEvent]:
    """The submission's timeline, oldest first."""
    return list(submission.events.order_by("created_at", "pk"))


def submission_attachments(*, submission: Submission) -> list[ResidentUpload]:
    return list(submission.uploads.order_by("created_at", "pk"))


def submission_attachment(*, submission: Submission, upload_id: str) -> ResidentUpload | None:
    return submission.uploads.filter(pk=upload_id).first()


@dataclass(frozen=True)
class BookingFilters:
    resource: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None


def api_bookings(*, token: ApiToken, filters: BookingFilters) -> QuerySet[Booking]:
    """Bookings of the resources the token reaches, by slot start (``starts_at``)."""
    bookings = Booking.objects.all()
    if token.department_ids:
        bookings = bookings.filter(resource__department__in=token.department_ids)
    if filters.resource:
        bookings = bookings.filter(resource__key=filters.resource)
    if filters.status:
        bookings = bookings.filter(status=filters.status)
    if filters.date_from:
        bookings = bookings.filter(slot__starts_at__gte=_midnight(filters.date_from))
    if filters.date_to:
        end = _midnight(filters.date_to + timedelta(days=1))
        bookings = bookings.filter(slot__starts_at__lt=end)
    return bookings.select_related("resource", "slot", "resident", "submission").annotate(
        starts_at=F("slot__starts_at")
    )


@dataclass(frozen=True)
class ReportFilters:
    category: str = ""
    status: str = ""
    # A box: south, west, north, east (degrees).
    bbox: tuple[float, float, float, float] | None = None


def api_reports(*, token: ApiToken, filters: ReportFilters) -> QuerySet[Report]:
    """Reports (通報) the token reaches, with their category, status and place."""
    reports = Report.objects.filter(submission__is_test=False)
    if token.department_ids:
        reports = reports.filter(submission__department__in=token.department_ids)
    if filters.category:
        reports = reports.filter(category__key=filters.category)
    if filters.status:
        reports = reports.filter(submission__status=filters.status)
    if filters.bbox:
        south, west, north, east = filters.bbox
        reports = reports.filter(
            latitude__gte=south, latitude__lte=north, longitude__gte=west, longitude__lte=east
        )
    return reports.select_related("category", "submission", "merged_into__submission").defer(
        "submission__answers", "submission__search_text"
    )
