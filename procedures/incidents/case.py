"""The report part of the casework case page: category (changeable, optionally re-routed),
the reporter's and the after photos with the public approval toggle, the public note.
Read by ``procedures.casework.presenters.case_context`` for a report's submission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from procedures.casework.media import photo_link
from procedures.incidents.models import Report, ReportCategory, ReportPhoto, ReportPhotoKind
from procedures.incidents.photos import after_photo_url
from procedures.models import Submission


@dataclass(frozen=True)
class ReportPhotoRow:
    photo: ReportPhoto
    thumb_url: str
    full_url: str

    @property
    def is_after(self) -> bool:
        return self.photo.kind == ReportPhotoKind.AFTER


def report_case_context(submission: Submission) -> dict[str, Any]:
    """``report`` (its category joined in), the categories to choose from, its photos."""
    report: Report = submission.report
    photos = [_row(submission, photo) for photo in report.photos.select_related("approved_by")]
    return {
        "report": report,
        "report_categories": list(ReportCategory.objects.order_by("position", "pk")),
        "report_photos": photos,
    }


def _row(submission: Submission, photo: ReportPhoto) -> ReportPhotoRow:
    if photo.upload_id is not None:
        link = photo_link(submission, photo.upload_id)
        return ReportPhotoRow(photo, link.thumb_url, link.full_url)
    return ReportPhotoRow(
        photo, after_photo_url(photo, preview=True), after_photo_url(photo, preview=False)
    )
