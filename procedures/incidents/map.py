"""Reads for the staff map of reports (``procedures.incidents.views_map``): the reports a
staff member reviews under the map's filters, as a page of rows for the list and as
compact marker data for the map.

The marker data is one query, however many reports (think of 10,000 open ones): plain
value tuples, no model instances, and only what a marker needs (id, reference, place,
status, category, date, "has a possible duplicate"). Possible duplicates among the shown
reports are found in Python on a grid of cells as large as the duplicate radius, so each
report is compared with the few in its own and the eight neighbouring cells only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.db.models import QuerySet
from django.utils import timezone

from govtech.access import StaffContext
from procedures.incidents.duplicates import METRES_PER_DEGREE, duplicate_settings, haversine_m
from procedures.incidents.models import ReportCategory, ReportSettings
from procedures.models import Submission, SubmissionStatus
from procedures.selectors import submissions_for_reviewer

# What the map shows unless asked otherwise: reports still to be dealt with.
OPEN_STATUSES = ("submitted", "in_review", "returned", "accepted")
# Every status a marker may have, in the order the marker data indexes them (colours:
# static/incidents/report-map.css, one class per status).
MAP_STATUSES = (
    "submitted",
    "in_review",
    "returned",
    "accepted",
    "completed",
    "rejected",
    "withdrawn",
)
MARKER_LIMIT = 20_000  # the newest ones; the page says when more matched
MARKER_FIELDS = ("id", "ref", "lat", "lon", "status", "category", "date", "dup")


@dataclass(frozen=True)
class MapFilters:
    category: int | None = None
    statuses: tuple[str, ...] = OPEN_STATUSES
    sent_from: date | None = None
    sent_to: date | None = None


def report_categories() -> list[ReportCategory]:
    """The municipality's report categories, in their order (the filter's choices)."""
    return list(ReportCategory.objects.only("pk", "name", "position").order_by("position", "pk"))


def has_report_categories() -> bool:
    """Whether the municipality takes reports by category (the map is linked then)."""
    return ReportCategory.objects.exists()


def map_submissions(*, staff: StaffContext, filters: MapFilters) -> QuerySet[Submission]:
    """The report submissions the staff member reviews under ``filters``, newest first;
    merged duplicates are left out (their main report stands for them), so are tests."""
    queryset = submissions_for_reviewer(staff=staff).filter(
        report__isnull=False,
        report__merged_into__isnull=True,
        status__in=filters.statuses,
        is_test=False,
    )
    if filters.category:
        queryset = queryset.filter(report__category_id=filters.category)
    if filters.sent_from:
        queryset = queryset.filter(report__created_at__gte=_midnight(filters.sent_from))
    if filters.sent_to:
        end = _midnight(filters.sent_to + timedelta(days=1))
        queryset = queryset.filter(report__created_at__lt=end)
    return queryset.order_by("-report__created_at", "-pk")


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def map_list_rows(queryset: QuerySet[Submission]) -> QuerySet[Submission]:
    """What a row of the list shows, joined in (one query for a page)."""
    return queryset.select_related("report", "report__category").only(
        "pk",
        "reference",
        "status",
        "submitted_at",
        "report__address",
        "report__created_at",
        "report__latitude",
        "report__longitude",
        "report__category__name",
    )


def map_markers(
    *, staff: StaffContext, filters: MapFilters, categories: list[ReportCategory]
) -> dict[str, Any]:
    """The map's data as compact JSON-ready lists: ``fields`` names the columns of each
    row of ``reports``; ``statuses`` and ``categories`` are the lists a row's indexes
    point into (``categories``: ``report_categories()``). Two queries: the settings, the
    rows."""
    rows = list(
        map_submissions(staff=staff, filters=filters)
        .filter(report__latitude__isnull=False, report__longitude__isnull=False)
        .values_list(
            "pk",
            "reference",
            "report__latitude",
            "report__longitude",
            "status",
            "report__category_id",
            "report__created_at",
        )[: MARKER_LIMIT + 1]
    )
    truncated = len(rows) > MARKER_LIMIT
    rows = rows[:MARKER_LIMIT]
    settings = duplicate_settings(staff.municipality.pk) if staff.municipality else None
    flagged = possible_duplicates_among(rows, settings) if settings else set()
    statuses = list(MAP_STATUSES)
    category_index = {c.pk: i for i, c in enumerate(categories)}
    return {
        "fields": MARKER_FIELDS,
        "statuses": [[s, str(SubmissionStatus(s).label)] for s in statuses],
        "categories": [c.name for c in categories],
        "truncated": truncated,
        "reports": [
            [
                pk,
                reference,
                round(cast(float, lat), 6),  # not null: filtered in SQL
                round(cast(float, lon), 6),
                statuses.index(status),
                category_index.get(category_id, -1),
                timezone.localtime(created_at).date().isoformat(),
                1 if pk in flagged else 0,
            ]
            for pk, reference, lat, lon, status, category_id, created_at in rows
        ],
    }


def possible_duplicates_among(rows: Sequence[Sequence[Any]], settings: ReportSettings) -> set[int]:
    """The ids of the rows (id, reference, lat, lon, status, category, created_at) that
    have a possible duplicate among the others, by the rule of
    ``procedures.incidents.duplicates``: same category, within the radius and the days."""
    radius, days = settings.duplicate_radius_m, timedelta(days=settings.duplicate_days)
    if not rows or radius <= 0:
        return set()
    cell_lat = radius / METRES_PER_DEGREE
    widest = max(abs(row[2]) for row in rows)
    cell_lon = cell_lat / max(math.cos(math.radians(widest)), 1e-6)
    grid: dict[tuple[Any, int, int], list[Sequence[Any]]] = defaultdict(list)
    for row in rows:
        if row[5] is not None:
            grid[(row[5], math.floor(row[2] / cell_lat), math.floor(row[3] / cell_lon))].append(row)
    flagged: set[int] = set()
    for (category, y, x), cell in grid.items():
        near = [
            r
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
            for r in grid.get((category, y + dy, x + dx), ())
        ]
        for row in cell:
            if any(_close(row, other, radius, days) for other in near if other[0] != row[0]):
                flagged.add(row[0])
    return flagged


def _close(a: Sequence[Any], b: Sequence[Any], radius: float, days: timedelta) -> bool:
    return abs(a[6] - b[6]) <= days and haversine_m(a[2], a[3], b[2], b[3]) <= radius


def status_legend(statuses: Iterable[str]) -> list[tuple[str, str]]:
    """(status, label) of the statuses shown, for the map's legend."""
    return [(s, str(SubmissionStatus(s).label)) for s in statuses]
