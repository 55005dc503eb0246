"""What the public may see of incident reports: shared by the public report page and
Open311, so both follow the same rules.

- Only reports of public categories; none merged into another (the main one stands for
  them), no designer's test, none withdrawn by the reporter.
- The place snapped to a grid of the municipality's ``public_precision_m`` metres (the
  centre of the cell): neighbouring reports share a point, no exact spot is published.
- The reporter never: no name, no answers, no reference number (a resident quotes it when
  calling the city, so it must stay theirs), no photo staff did not approve.

Every function reads in the current tenant scope.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils.translation import pgettext_lazy

from govtech.models import Municipality
from procedures.incidents.models import Report, ReportCategory, ReportPhoto, ReportSettings
from procedures.models import SubmissionStatus

METRES_PER_DEGREE = 111_320.0
MIN_PRECISION_M = 10

# The public's four statuses, and which submission statuses each covers. Withdrawn is none.
PUBLIC_STATUSES: dict[str, tuple[str, ...]] = {
    "received": (SubmissionStatus.SUBMITTED,),
    "in_progress": (
        SubmissionStatus.IN_REVIEW,
        SubmissionStatus.RETURNED,
        SubmissionStatus.ACCEPTED,
    ),
    "completed": (SubmissionStatus.COMPLETED,),
    "rejected": (SubmissionStatus.REJECTED,),
}
PUBLIC_STATUS_LABELS = {
    "received": pgettext_lazy("public report status", "Received"),
    "in_progress": pgettext_lazy("public report status", "In progress"),
    "completed": pgettext_lazy("public report status", "Completed"),
    "rejected": pgettext_lazy("public report status", "Cannot be handled"),
}
CLOSED_STATUSES = (SubmissionStatus.COMPLETED, SubmissionStatus.REJECTED)
SHOWN_STATUSES = tuple(status for statuses in PUBLIC_STATUSES.values() for status in statuses)


@dataclass(frozen=True)
class PublicReport:
    """One report as the public sees it."""

    id: int
    category_key: str
    category_name: str
    status: str  # a key of PUBLIC_STATUSES
    is_open: bool
    created_at: datetime
    updated_at: datetime | None
    closed_at: datetime | None
    latitude: float | None
    longitude: float | None
    note: str
    photo_ids: tuple[int, ...]

    @property
    def status_label(self) -> str:
        return str(PUBLIC_STATUS_LABELS[self.status])


def public_settings(municipality: Municipality) -> ReportSettings | None:
    """The municipality's report settings when it publishes reports, else None."""
    found = ReportSettings.objects.with_scope(municipality=municipality).first()
    return found if found is not None and found.public_enabled else None


def public_categories() -> QuerySet[ReportCategory]:
    return ReportCategory.objects.filter(is_public=True)


def public_reports() -> QuerySet[Report]:
    """The reports the public may see, newest first, with what ``present`` reads
    (category, submission's status, approved photos) in three queries a page."""
    approved = ReportPhoto.objects.filter(is_public=True).only("id", "report_id")
    return (
        Report.objects.filter(
            category__is_public=True,
            merged_into__isnull=True,
            submission__is_test=False,
            submission__status__in=SHOWN_STATUSES,
        )
        .select_related("category")
        .only(
            "id",
            "category__key",
            "category__name",
            "submission__status",
            "submission__last_activity_at",
            "created_at",
            "closed_at",
            "latitude",
            "longitude",
            "public_note",
        )
        .select_related("submission")
        .prefetch_related(Prefetch("photos", queryset=approved, to_attr="public_photos"))
        .order_by("-created_at", "-id")
    )


def filter_public_reports(
    reports: QuerySet[Report], *, category_keys=(), statuses=()
) -> QuerySet[Report]:
    """``reports`` of these category keys and public statuses (each: any when empty)."""
    if category_keys:
        reports = reports.filter(category__key__in=list(category_keys))
    if statuses:
        covered = [s for key in statuses for s in PUBLIC_STATUSES.get(key, ())]
        reports = reports.filter(submission__status__in=covered)
    return reports


def public_status_of(submission_status: str) -> str:
    for key, statuses in PUBLIC_STATUSES.items():
        if submission_status in statuses:
            return key
    raise ValueError(f"{submission_status} is never public")


def rounded_point(
    latitude: float | None, longitude: float | None, precision_m: int
) -> tuple[float | None, float | None]:
    """The centre of the ``precision_m``-metre grid cell the point lies in (latitude
    cells first; a longitude cell's width follows its latitude row, so cells stay about
    square). Reports in one cell share one point. None stays None."""
    if latitude is None or longitude is None:
        return None, None
    size = max(precision_m, MIN_PRECISION_M)
    lat_step = size / METRES_PER_DEGREE
    row = math.floor(latitude / lat_step)
    lat = (row + 0.5) * lat_step
    lng_step = size / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    lng = (math.floor(longitude / lng_step) + 0.5) * lng_step
    return round(lat, 6), round(lng, 6)


def present(report: Report, *, precision_m: int) -> PublicReport:
    """``report`` (from ``public_reports``) as the public sees it."""
    latitude, longitude = rounded_point(report.latitude, report.longitude, precision_m)
    status = report.submission.status
    category = report.category
    return PublicReport(
        id=report.pk,
        category_key=category.key if category else "",
        category_name=category.name if category else "",
        status=public_status_of(status),
        is_open=status not in CLOSED_STATUSES,
        created_at=report.created_at,
        updated_at=report.submission.last_activity_at,
        closed_at=report.closed_at,
        latitude=latitude,
        longitude=longitude,
        note=report.public_note,
        photo_ids=tuple(photo.pk for photo in getattr(report, "public_photos", ())),
    )


def public_photo(photo_id: int) -> ReportPhoto | None:
    """An approved photo of a public report, or None (missing, not approved, or its
    report not public: all the same to the caller)."""
    return (
        ReportPhoto.objects.filter(
            pk=photo_id, is_public=True, report__in=public_reports().values("pk")
        )
        .select_related("upload")
        .first()
    )
