"""Reads of survey results: the surveys a staff member may read, the submissions that
count under the page's filters, a survey's public page. Callers run inside a tenant
scope (the console's, or the public view's ``tenant_scope``).

Who reads results is who reviews the inbox (``REVIEW_ROLES``): admins, and reviewers of
the survey's department (``procedures_for_exporter``, the exports' own rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet

from delivery.broadcasts.models import AttributeField, AttributeKind
from govtech.access import StaffContext
from govtech.models import Municipality
from procedures.casework.selectors import REVIEW_ROLES, InboxFilters, inbox_base
from procedures.models import Procedure, ProcedureKind, Submission, SubmissionStatus
from reports.exports.selectors import procedures_for_exporter, version_documents
from reports.surveys.models import SurveyPublication
from reports.surveys.questions import Question, survey_questions


@dataclass(frozen=True)
class SurveyFilters:
    """The results page's filters, from its query string (all optional)."""

    submitted_from: date | None = None
    submitted_to: date | None = None
    version: int | None = None
    attributes: tuple[tuple[str, str], ...] = ()

    def as_params(self) -> dict[str, str]:
        params = {
            "submitted_from": self.submitted_from.isoformat() if self.submitted_from else "",
            "submitted_to": self.submitted_to.isoformat() if self.submitted_to else "",
            "version": str(self.version or ""),
            **{f"attr_{key}": value for key, value in self.attributes},
        }
        return {key: value for key, value in params.items() if value}


def may_read_results(staff: StaffContext) -> bool:
    return staff.has_any(REVIEW_ROLES)


def surveys_for_staff(*, staff: StaffContext) -> QuerySet[Procedure]:
    """Survey procedures (public comments are surveys too) whose results the staff member
    may read; none for other roles."""
    if not may_read_results(staff):
        return Procedure.objects.none()
    return procedures_for_exporter(staff=staff).filter(draft__kind=ProcedureKind.SURVEY)


def surveys_with_counts(*, staff: StaffContext) -> QuerySet[Procedure]:
    """The surveys of ``surveys_for_staff`` with their number of counted answers. One query."""
    counted = Q(submissions__is_test=False) & ~Q(submissions__status=SubmissionStatus.WITHDRAWN)
    return surveys_for_staff(staff=staff).annotate(answers=Count("submissions", filter=counted))


def filter_attributes() -> list[AttributeField]:
    """The resident attributes a page may filter by: those with one value from a list
    (and a key that reads as one JSON key in a lookup: no "__")."""
    fields = AttributeField.objects.filter(kind=AttributeKind.CHOICE).order_by("key")
    return [field for field in fields if "__" not in field.key]


def parse_survey_filters(
    params: Mapping[str, str], attributes: list[AttributeField]
) -> SurveyFilters:
    """Filters from query parameters: ``submitted_from``/``submitted_to`` (YYYY-MM-DD),
    ``version`` (a number), ``attr_<key>`` (one of the attribute's values). What does
    not parse, or names no such attribute or value, is ignored."""
    chosen = tuple(
        (field.key, params[f"attr_{field.key}"])
        for field in attributes
        if params.get(f"attr_{field.key}") in field.option_values
    )
    version = params.get("version", "")
    return SurveyFilters(
        submitted_from=_day(params.get("submitted_from")),
        submitted_to=_day(params.get("submitted_to")),
        version=int(version) if version.isdigit() else None,
        attributes=chosen,
    )


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def counted_submissions(
    *, staff: StaffContext, procedure: Procedure, filters: SurveyFilters
) -> QuerySet[Submission]:
    """The answers that count under ``filters``: real (not test), not withdrawn, of the
    staff member's departments (the inbox's rule), in the date range (Japan days)."""
    inbox = InboxFilters(
        procedure=procedure.pk,
        submitted_from=filters.submitted_from,
        submitted_to=filters.submitted_to,
    )
    queryset = inbox_base(staff=staff, filters=inbox).exclude(status=SubmissionStatus.WITHDRAWN)
    if filters.version:
        queryset = queryset.filter(version__number=filters.version)
    for key, value in filters.attributes:
        queryset = queryset.filter(**{f"resident__attributes__{key}": value})
    return queryset


def survey_versions(*, procedure: Procedure) -> tuple[list[Question], list[int]]:
    """The survey's questions across its published versions, and the version numbers."""
    documents = version_documents(procedure_id=procedure.pk)
    return survey_questions([doc for _pk, _n, doc in documents]), [n for _pk, n, _d in documents]


def publication_of(*, procedure: Procedure) -> SurveyPublication:
    """The survey's publication settings (unsaved defaults: not public) when none exist."""
    found = SurveyPublication.objects.filter(procedure=procedure).select_related("changed_by")
    return found.first() or SurveyPublication(
        municipality_id=procedure.municipality_id, procedure=procedure
    )


def public_survey(*, municipality: Municipality, key: str) -> tuple[Procedure, int] | None:
    """A published survey of ``municipality`` whose results are public, and its minimum
    count; None otherwise (unpublished, not a survey, not public, or no such key)."""
    publication = (
        SurveyPublication.objects.filter(
            municipality=municipality,
            is_public=True,
            procedure__key=key,
            procedure__live_version__isnull=False,
            procedure__draft__kind=ProcedureKind.SURVEY,
        )
        .select_related("procedure")
        .first()
    )
    if publication is None:
        return None
    return publication.procedure, publication.minimum_count


def public_submissions(*, procedure: Procedure) -> QuerySet[Submission]:
    """Every answer that counts on the public page: real, not withdrawn."""
    return Submission.objects.filter(procedure=procedure, is_test=False).exclude(
        status=SubmissionStatus.WITHDRAWN
    )
