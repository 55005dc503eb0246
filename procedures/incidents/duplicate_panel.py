"""The case page's 「重複の可能性」 panel of a report (templates/incidents/_duplicates.html):
the report it is merged into, the reports merged into it, and its possible duplicates
with their distance, limited to what the staff member may open."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from govtech.access import StaffContext
from procedures.casework import workflow
from procedures.incidents.duplicates import PossibleDuplicate, duplicate_settings, report_duplicates
from procedures.incidents.models import Report, ReportSettings
from procedures.models import Submission
from procedures.selectors import submissions_for_reviewer


@dataclass
class DuplicatePanel:
    report: Report
    settings: ReportSettings
    main: Submission | None = None
    merged: list[Submission] = field(default_factory=list)
    candidates: list[PossibleDuplicate] = field(default_factory=list)

    @property
    def can_merge(self) -> bool:
        """Whether this report may still be merged into another or take others in."""
        merged = self.report.merged_into_id is not None
        return not merged and self.report.submission.status not in workflow.DONE


def duplicate_panel(submission: Submission, *, staff: StaffContext) -> DuplicatePanel | None:
    """The panel of ``submission``'s report; None when it is not a report. Five queries
    at most, whatever the number of reports around it."""
    report = (
        Report.objects.filter(submission=submission)
        .select_related("merged_into__submission")
        .first()
    )
    if report is None:
        return None
    report.submission = submission
    settings = duplicate_settings(report.municipality_id)
    panel = DuplicatePanel(report=report, settings=settings)
    visible = submissions_for_reviewer(staff=staff)
    if report.merged_into is not None:
        main = report.merged_into.submission
        panel.main = main if visible.filter(pk=main.pk).exists() else None
        return panel
    panel.merged = list(
        visible.filter(report__merged_into=report).select_related("procedure").order_by("pk")
    )
    panel.candidates = _visible(report_duplicates(report=report, settings=settings), visible)
    return panel


def _visible(candidates: list[PossibleDuplicate], visible: Any) -> list[PossibleDuplicate]:
    if not candidates:
        return []
    allowed = set(
        visible.filter(pk__in=[c.report.submission_id for c in candidates]).values_list(
            "pk", flat=True
        )
    )
    return [c for c in candidates if c.report.submission_id in allowed]
