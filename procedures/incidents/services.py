"""Writes for incident reports: a report beside each new ``report``-kind submission, routed
to a department by category and area; categories, areas and settings saved with their
checks.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from shapely import Point
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from govtech.models import Department, Municipality
from procedures.incidents.models import (
    Report,
    ReportArea,
    ReportCategory,
    ReportPhoto,
    ReportPhotoKind,
    ReportSettings,
)
from procedures.models import Submission

GEOMETRY_TYPES = ("Polygon", "MultiPolygon")


def report_settings_of(municipality: Municipality) -> ReportSettings:
    """The municipality's report settings; unsaved defaults when it has none."""
    found = ReportSettings.objects.with_scope(municipality=municipality).first()
    return found or ReportSettings(municipality=municipality)


# --- a new report -----------------------------------------------------------------------------


def submission_is_report(submission: Submission) -> bool:
    document = submission.version.document if submission.version else submission.procedure.draft
    return document.get("kind") == "report"


def report_register(*, submission: Submission, now: datetime) -> Report:
    """The report of a new ``report``-kind submission: its place (the first location step
    answered), its category (the one whose procedure it is), its reporter's photos, and
    the department it is routed to (written onto the submission). Called by
    ``submission_create`` in its transaction."""
    document = submission.version.document if submission.version else submission.procedure.draft
    latitude, longitude, address = _place(document, submission.answers)
    category = ReportCategory.objects.filter(procedure_id=submission.procedure_id).first()
    department, area = report_route(
        municipality=submission.municipality,
        category=category,
        latitude=latitude,
        longitude=longitude,
    )
    report = Report.objects.create(
        municipality_id=submission.municipality_id,
        submission=submission,
        category=category,
        latitude=latitude,
        longitude=longitude,
        address=address,
        area=area,
        created_at=now,
    )
    ReportPhoto.objects.bulk_create(
        ReportPhoto(
            municipality_id=submission.municipality_id,
            report=report,
            kind=ReportPhotoKind.RESIDENT,
            upload=upload,
            content_type=upload.content_type,
            created_at=upload.created_at,
        )
        for upload in submission.uploads.all()
    )
    if department is not None and department.pk != submission.department_id:
        submission.department = department
        submission.save(update_fields=["department"])
    return report


def _place(document: dict, answers: dict[str, Any]) -> tuple[float | None, float | None, str]:
    for step in document.get("steps", []):
        if step.get("type") != "location":
            continue
        value = answers.get(step.get("id"))
        if not isinstance(value, dict):
            continue
        latitude, longitude = value.get("latitude"), value.get("longitude")
        if latitude is None or longitude is None:
            return None, None, str(value.get("address") or "")
        return float(latitude), float(longitude), str(value.get("address") or "")
    return None, None, ""


def report_route(
    *,
    municipality: Municipality,
    category: ReportCategory | None,
    latitude: float | None,
    longitude: float | None,
) -> tuple[Department | None, ReportArea | None]:
    """Who handles a report of ``category`` at this place: the first area (by priority;
    the category's own before every category's) containing it, else the category's
    department, else the municipality's default. ``(None, None)`` leaves the procedure's."""
    if latitude is not None and longitude is not None:
        point = Point(longitude, latitude)
        areas = ReportArea.objects.filter(Q(category=category) | Q(category__isnull=True))
        ordered = sorted(
            areas.select_related("department"),
            key=lambda area: (area.priority, area.category_id is None, area.pk),
        )
        for area in ordered:
            if _shape(json.dumps(area.geometry, sort_keys=True)).covers(point):
                return area.department, area
    if category is not None and category.department_id is not None:
        return category.department, None
    settings = report_settings_of(municipality)
    if settings.default_department_id is not None:
        return settings.default_department, None
    return None, None


@lru_cache(maxsize=256)
def _shape(geometry_json: str) -> BaseGeometry:
    return shape(json.loads(geometry_json))


# --- categories, areas, settings ---------------------------------------------------------------


def geometry_from_geojson(text: str) -> dict[str, Any]:
    """The Polygon or MultiPolygon in ``text`` (a geometry, a Feature, or a
    FeatureCollection of one polygon feature), checked; ValidationError saying what is
    wrong otherwise."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ValidationError(_("This is not JSON: %(error)s") % {"error": error}) from error
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if len(features) != 1:
            raise ValidationError(
                _("Give one area: the collection holds %(n)d features.") % {"n": len(features)}
            )
        data = features[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in GEOMETRY_TYPES:
        raise ValidationError(_("The area must be a GeoJSON Polygon or MultiPolygon."))
    try:
        geometry = shape(data)
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise ValidationError(
            _("The polygon's coordinates cannot be read: %(error)s") % {"error": error}
        ) from error
    min_x, min_y, max_x, max_y = geometry.bounds
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        raise ValidationError(
            _("Coordinates must be longitude, latitude (GeoJSON order), in degrees.")
        )
    if geometry.is_empty or not geometry.is_valid:
        raise ValidationError(_("The polygon crosses itself or is empty."))
    return {"type": data["type"], "coordinates": data["coordinates"]}
