"""Possible duplicates of a report, and merging one report into another.

A possible duplicate of a report is another report of the same category, within the
municipality's ``duplicate_radius_m`` metres and sent within ``duplicate_days`` days of it
(before or after), that is not merged into anything. The database narrows the candidates
to a bounding box around the place (latitude and longitude ranges, served by the
``report_place`` index); the exact great-circle distance (haversine) decides in Python.

Merging is staff's decision, never automatic: the duplicate then follows the main report
(its submission takes the main one's status at once and on every later change, see
``procedures.casework.services.case_transition``) and its reporter is told of each change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govtech.models import User
from govtech.services import ServiceError, audit_log
from procedures import engine
from procedures.casework import workflow
from procedures.casework.models import CaseEvent, CaseEventKind, CorrectionStatus
from procedures.incidents.models import Report, ReportSettings
from procedures.languages import resident_override
from procedures.models import Submission
from procedures.residents.services import resident_notify

EARTH_RADIUS_M = 6_371_000  # the mean radius; the error is well under 1 % at these distances
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180  # along a meridian: 111,195 m


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a box holding every point within
    ``radius_m`` of the place. A degree of longitude shrinks with the cosine of the
    latitude; near a pole the box takes every longitude. (Japan is far from the
    antimeridian: the box is not wrapped around it.)"""
    d_lat = radius_m / METRES_PER_DEGREE
    cosine = math.cos(math.radians(lat))
    d_lon = 180.0 if cosine < 1e-6 else min(180.0, d_lat / cosine)
    return lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon


@dataclass(frozen=True)
class PossibleDuplicate:
    report: Report
    distance_m: float

    @property
    def submission(self) -> Submission:
        return self.report.submission


def report_duplicates(
    *, report: Report, settings: ReportSettings | None = None
) -> list[PossibleDuplicate]:
    """Reports that may be the same incident as ``report``, nearest first: same category,
    within the radius and the window of days, not merged into another, not ``report``
    itself. None for a report without a place or category. Two queries at most (the
    settings, the candidates with their submissions); the caller filters by what the
    staff member may see."""
    if report.latitude is None or report.longitude is None or report.category_id is None:
        return []
    settings = settings or duplicate_settings(report.municipality_id)
    radius, days = settings.duplicate_radius_m, timedelta(days=settings.duplicate_days)
    min_lat, max_lat, min_lon, max_lon = bounding_box(report.latitude, report.longitude, radius)
    candidates = (
        Report.objects.filter(
            category_id=report.category_id,
            merged_into__isnull=True,
            latitude__range=(min_lat, max_lat),
            longitude__range=(min_lon, max_lon),
            created_at__range=(report.created_at - days, report.created_at + days),
        )
        .exclude(pk=report.pk)
        .select_related("submission", "submission__procedure")
    )
    found = []
    for candidate in candidates:
        assert candidate.latitude is not None and candidate.longitude is not None  # noqa: S101
        distance = haversine_m(
            report.latitude, report.longitude, candidate.latitude, candidate.longitude
        )
        if distance <= radius:
            found.append(PossibleDuplicate(candidate, distance))
    return sorted(found, key=lambda d: (d.distance_m, d.report.created_at))


def duplicate_settings(municipality_id: int) -> ReportSettings:
    """The municipality's report settings (its radius and days); unsaved defaults if none."""
    found = ReportSettings.objects.filter(municipality_id=municipality_id).first()
    return found or ReportSettings(municipality_id=municipality_id)


# --- merging -------------------------------------------------------------------------------


class MergeRefused(ServiceError):
    """These two reports cannot be merged (said why)."""


def _locked_pair(duplicate: Report, main: Report) -> tuple[Submission, Submission]:
    # Both submissions locked in one statement, in primary key order: two reviewers
    # merging the same pair the other way round cannot deadlock.
    rows = Submission.objects.select_for_update(of=("self",)).select_related(
        "resident", "procedure", "version"
    )
    locked = {
        s.pk: s
        for s in rows.filter(pk__in=[duplicate.submission_id, main.submission_id]).order_by("pk")
    }
    return locked[duplicate.submission_id], locked[main.submission_id]


def _check_merge(duplicate: Report, main: Report, dup_sub: Submission, main_sub: Submission):
    if duplicate.pk == main.pk:
        raise MergeRefused(_("A report cannot be merged into itself."))
    if duplicate.merged_into_id is not None:
        raise MergeRefused(_("This report is already merged into another one."))
    if main.merged_into_id is not None:
        raise MergeRefused(
            _("That report is itself merged into another one: merge into that one instead.")
        )
    if duplicate.merged.exists():
        raise MergeRefused(
            _("Other reports are merged into this one: merge that report into this one instead.")
        )
    if dup_sub.status in workflow.DONE or main_sub.status in workflow.DONE:
        raise MergeRefused(_("A closed report cannot be merged."))


def _event(
    submission: Submission, actor: User, now: datetime, data: dict, kind: str = CaseEventKind.MERGED
) -> CaseEvent:
    return CaseEvent.objects.create(
        municipality_id=submission.municipality_id,
        submission=submission,
        kind=kind,
        actor=actor,
        data=data,
        created_at=now,
    )


def report_merge(
    *, actor: User, duplicate: Report, main: Report, now: datetime | None = None
) -> Report:
    """Merge ``duplicate`` into ``main``: it records the main report and the time, its
    submission takes the main one's status (and follows it from then on), both timelines
    say who merged what, the merge is audited and the duplicate's reporter is told that
    their report is handled together with an earlier one (through the outbox, once).

    Locks both submissions (one statement, primary key order). Raises MergeRefused for a
    report merged or merged into already, the same report, or a closed one. The caller
    checks that ``actor`` reviews both."""
    now = now or timezone.now()
    with transaction.atomic():
        dup_sub, main_sub = _locked_pair(duplicate, main)
        duplicate = Report.objects.select_for_update().get(pk=duplicate.pk)
        main = Report.objects.get(pk=main.pk)
        _check_merge(duplicate, main, dup_sub, main_sub)
        duplicate.merged_into, duplicate.merged_at = main, now
        duplicate.save(update_fields=["merged_into", "merged_at"])
        previous = dup_sub.status
        dup_sub.status, dup_sub.last_activity_at = main_sub.status, now
        if previous == workflow.RETURNED:  # its own correction is no longer asked for
            dup_sub.corrections.filter(status=CorrectionStatus.OPEN).update(
                status=CorrectionStatus.CANCELLED
            )
            dup_sub.correction_due_at = None
        dup_sub.save(update_fields=["status", "last_activity_at", "correction_due_at"])
        told = _event(
            dup_sub,
            actor,
            now,
            {"into": main_sub.reference, "from": previous, "to": dup_sub.status},
        )
        _event(main_sub, actor, now, {"duplicate": dup_sub.reference})
        _tell_merged(dup_sub, told, main_sub)
        audit_log(
            actor,
            "procedures.report.merged",
            duplicate,
            {"into": main.pk, "submission": dup_sub.pk, "main_submission": main_sub.pk},
        )
    return duplicate


def _tell_merged(submission: Submission, event: CaseEvent, main: Submission) -> None:
    lang = submission.resident.language
    with resident_override(lang):
        text = _(
            # Translators: residents read this.
            "Thank you for your report (reference %(reference)s). The same place was "
            "reported before: we handle both together and will tell you of every change."
        ) % {"reference": submission.reference}
    notice = resident_notify(
        resident=submission.resident,
        prompts=[engine.TextPrompt(text)],
        once_key=f"case:{submission.pk}:event:{event.pk}",
    )
    if notice is not None:
        event.notice = notice
        event.save(update_fields=["notice"])


def report_unmerge(*, actor: User, duplicate: Report, now: datetime | None = None) -> Report:
    """Undo a merge: the duplicate is a report of its own again (it keeps the status it
    has); both timelines record it and it is audited. Nobody is told. Raises MergeRefused
    when it is not merged."""
    now = now or timezone.now()
    with transaction.atomic():
        duplicate = Report.objects.select_for_update().get(pk=duplicate.pk)
        if duplicate.merged_into_id is None:
            raise MergeRefused(_("This report is not merged into another one."))
        main = Report.objects.select_related("submission").get(pk=duplicate.merged_into_id)
        dup_sub = Submission.objects.select_for_update(of=("self",)).get(pk=duplicate.submission_id)
        duplicate.merged_into, duplicate.merged_at = None, None
        duplicate.save(update_fields=["merged_into", "merged_at"])
        dup_sub.last_activity_at = now
        dup_sub.save(update_fields=["last_activity_at"])
        unmerged = CaseEventKind.UNMERGED
        _event(dup_sub, actor, now, {"into": main.submission.reference}, unmerged)
        _event(main.submission, actor, now, {"duplicate": dup_sub.reference}, unmerged)
        audit_log(actor, "procedures.report.unmerged", duplicate, {"from": main.pk})
    return duplicate
