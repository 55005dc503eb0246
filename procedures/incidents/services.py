"""Writes for incident reports: a report beside each new ``report``-kind submission, routed
to a department by category and area; what staff change on a report (its category, the
photos the public may see, the public note, closing it with the status). Categories,
areas and settings are saved by ``procedures.incidents.categories``; after photos are
``procedures.incidents.photos``.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from shapely import Point
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from govtech.models import Department, Municipality, User
from govtech.services import audit_log
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


# --- what staff do to a report ------------------------------------------------------------------

CLOSING_STATUSES = frozenset({"completed", "rejected"})


def report_status_follow(*, submission: Submission, status: str, now: datetime) -> None:
    """A report's submission moved to ``status``: 完了 and 対応不可 close the report (the
    public page and Open311 show it closed since ``now``), any other status reopens it.
    Nothing for a submission without a report. Called by ``case_transition`` in its
    transaction, with the submission locked."""
    closed_at = now if status in CLOSING_STATUSES else None
    Report.objects.filter(submission_id=submission.pk).update(closed_at=closed_at)


def report_recategorize(
    *, actor: User, report: Report, category: ReportCategory | None, reroute: bool
) -> Report:
    """Staff say what the report is really about. With ``reroute``, the report goes to
    the department the new category and its place route it to (the submission's
    department changes, so it leaves the inbox of reviewers of the old one). Audited;
    nothing happens when the category is unchanged and no re-routing is asked."""
    with transaction.atomic():
        report = Report.objects.select_for_update().select_related("submission").get(pk=report.pk)
        before = report.category_id
        report.category = category
        data: dict[str, Any] = {"from": before, "to": category.pk if category else None}
        if reroute:
            department, area = report_route(
                municipality=report.submission.municipality,
                category=category,
                latitude=report.latitude,
                longitude=report.longitude,
            )
            report.area = area
            if department is not None:
                data["department"] = [report.submission.department_id, department.pk]
                Submission.objects.filter(pk=report.submission_id).update(department=department)
                report.submission.department = department
        if before == report.category_id and not reroute:
            return report
        report.save(update_fields=["category", "area"])
        audit_log(actor, "procedures.report.recategorized", report, data)
    return report


def report_photo_publish(*, actor: User, photo: ReportPhoto, public: bool, now: datetime) -> None:
    """Approve a report's photo for the public page (or take the approval back). Staff
    look first: a resident's photo may show a face or a number plate. Audited."""
    with transaction.atomic():
        changed = ReportPhoto.objects.filter(pk=photo.pk).exclude(is_public=public)
        values = {"is_public": public, "approved_by": actor if public else None}
        if not changed.update(**values, approved_at=now if public else None):
            return
        action = "procedures.report.photo_published" if public else "procedures.report.photo_hidden"
        audit_log(actor, action, photo.report, {"photo": photo.pk, "kind": photo.kind})


def report_public_note_save(*, actor: User, report: Report, text: str) -> None:
    """What the public page says about the report. Audited when it changes."""
    text = text.strip()
    with transaction.atomic():
        if (
            not Report.objects.filter(pk=report.pk)
            .exclude(public_note=text)
            .update(public_note=text)
        ):
            return
        audit_log(actor, "procedures.report.public_note_changed", report, {"text": text})
    report.public_note = text
