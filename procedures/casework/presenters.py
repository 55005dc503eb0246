"""What the console's casework pages show, built from the selectors' rows: an inbox row
with its due badge, and the case page (answers, timeline with revision differences,
the reviewer's forms). No queries of its own beyond the selectors it calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language, get_language_info, pgettext
from django.utils.translation import gettext as _

from govtech.access import StaffContext
from procedures.casework import workflow
from procedures.casework.answers import (
    answer_rows,
    answer_text,
    changed_fields,
    question_steps,
    step_labels,
)
from procedures.casework.forms import (
    CHANNELS,
    AssignForm,
    CorrectionForm,
    MessageForm,
    NoteForm,
    StatusForm,
)
from procedures.casework.media import (
    PhotoLink,
    map_context,
    photo_link,
    submission_locations,
    submission_photos,
)
from procedures.casework.models import CaseEvent, CaseEventKind, CorrectionStatus
from procedures.casework.selectors import (
    OPEN_STATUSES,
    assignable_staff,
    case_revisions,
    case_timeline,
    resident_submissions,
    submission_bookings,
)
from procedures.incidents.case import report_case_context
from procedures.incidents.duplicate_panel import duplicate_panel
from procedures.languages import RESIDENT_LANGUAGES, staff_language_name
from procedures.models import Submission
from procedures.selectors import submissions_for_reviewer

DESIGN_ROLES = frozenset({"admin", "designer"})


def status_label(status: str, kind: str = "") -> str:
    """The status as staff read it (a report's 対応中 where an application is 審査中)."""
    return workflow.status_label(status, kind)


def language_name(code: str) -> str:
    """The language's name in the console's language (日本語, 英語…); the code if unknown."""
    if code in RESIDENT_LANGUAGES:
        return staff_language_name(code)
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def resident_name(submission: Submission) -> str:
    resident = submission.resident
    return resident.display_name or str(resident)


def channel_label(channel: str) -> str:
    """Where a submission was sent from (LINE, the web form), as the inbox filter names it."""
    return str(dict(CHANNELS).get(channel, channel)) if channel else ""


# --- inbox ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    submission: Submission
    procedure_title: str
    resident_name: str
    due: datetime | None
    overdue: bool
    next_statuses: str  # space-separated, for the bulk form's script
    status_label: str = ""
    channel_label: str = ""


def inbox_row(
    submission: Submission, *, now: datetime, titles: dict[int, str] | None = None
) -> InboxRow:
    """One row of the inbox; the procedure's workflow is joined in by the caller, its
    title comes from ``titles`` (by procedure id)."""
    returned = submission.status == workflow.RETURNED and submission.correction_due_at
    due = submission.correction_due_at if returned else submission.due_at
    overdue = bool(due and due < now and submission.status in OPEN_STATUSES)
    flow, kind = workflow.workflow_for(submission.procedure), workflow.kind_of(submission)
    return InboxRow(
        submission=submission,
        procedure_title=(titles or {}).get(submission.procedure_id) or submission.procedure.key,
        resident_name=resident_name(submission),
        due=due,
        overdue=overdue,
        next_statuses=" ".join(workflow.next_statuses(flow, submission.status, kind)),
        status_label=status_label(submission.status, kind),
        channel_label=channel_label(submission.channel),
    )


# --- the case page -------------------------------------------------------------------------


@dataclass
class Change:
    label: str
    before: str
    after: str
    before_photos: list[PhotoLink] = field(default_factory=list)
    after_photos: list[PhotoLink] = field(default_factory=list)


@dataclass
class TimelineEntry:
    event: CaseEvent
    title: str
    lines: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    notice_status: str = ""
    notice_label: str = ""
    photos: list[PhotoLink] = field(default_factory=list)


def case_context(submission: Submission, *, staff: StaffContext, now: datetime) -> dict[str, Any]:
    """Everything the case page shows of ``submission`` for ``staff``."""
    lang = get_language() or "ja"
    definition = submission.definition
    revisions = case_revisions(submission=submission)
    flow, kind = workflow.workflow_for(submission.procedure), workflow.kind_of(submission)
    rows = answer_rows(definition, submission.answers, lang=lang)
    kinds = {row.step_type for row in rows}
    return {
        "submission": submission,
        "status_label": status_label(submission.status, kind),
        "is_report": bool(kind),
        "resident_name": resident_name(submission),
        "channel_label": channel_label(submission.channel),
        "resident_language": language_name(submission.resident.language),
        "answers": rows,
        "photos": submission_photos(submission) if "image" in kinds else None,
        "map": map_context(submission_locations(submission)) if "location" in kinds else None,
        "bookings": submission_bookings(submission=submission),
        "others": _other_submissions(submission, staff),
        "timeline": _timeline(submission, definition, revisions, lang, kind),
        "revisions": revisions,
        "open_correction": submission.corrections.filter(status=CorrectionStatus.OPEN).first(),
        "overdue": inbox_row(submission, now=now).overdue,
        "can_edit_workflow": staff.has_any(DESIGN_ROLES),
        "duplicates": duplicate_panel(submission, staff=staff),  # incident reports only
        **_forms(submission, flow, definition, lang, kind),
        **(report_case_context(submission) if kind else {}),
    }


def _other_submissions(submission: Submission, staff: StaffContext) -> list[Submission]:
    """The resident's other submissions that this staff member may open."""
    others = resident_submissions(resident_id=submission.resident_id, exclude=submission.pk)
    visible = set(
        submissions_for_reviewer(staff=staff)
        .filter(pk__in=[other.pk for other in others])
        .values_list("pk", flat=True)
    )
    return [other for other in others if other.pk in visible]


def _forms(submission: Submission, flow, definition: dict, lang: str, kind: str) -> dict[str, Any]:
    following = workflow.next_statuses(flow, submission.status, kind)
    choices = [(s, status_label(s, kind)) for s in following if s != workflow.RETURNED]
    labels = step_labels(definition, lang)
    steps = [(s["id"], labels.get(s["id"], s["id"])) for s in question_steps(definition)]
    expected = {"expected": submission.status}
    return {
        "status_form": (
            StatusForm(choices=choices, initial=expected, with_photo=bool(kind))
            if choices
            else None
        ),
        "correction_form": (
            CorrectionForm(steps=steps, initial=expected)
            if workflow.RETURNED in following and steps
            else None
        ),
        "assign_form": AssignForm(
            staff=assignable_staff(submission=submission),
            initial={"assignee": submission.assignee_id},
        ),
        "note_form": NoteForm(),
        "message_form": MessageForm(),
    }


def _timeline(submission: Submission, definition: dict, revisions, lang: str, kind: str = ""):
    labels = step_labels(definition, lang)
    by_number = {revision.number: revision.answers for revision in revisions}
    steps = {step["id"]: step for step in definition.get("steps", []) if "id" in step}
    events = case_timeline(submission=submission)
    photos = _PhotoFinder(submission, needed=any(e.kind in _WITH_PHOTOS for e in events))
    entries = []
    for event in events:
        entry = TimelineEntry(event, str(CaseEventKind(event.kind).label))
        _describe(entry, event.data, labels, kind)
        entry.photos = photos.links(event.data.get("upload"))
        if event.kind == CaseEventKind.CORRECTED:
            number = event.data.get("revision") or 0
            before, after = by_number.get(number - 1, {}), by_number.get(number, {})
            entry.changes = _changes(definition, steps, labels, before, after, photos)
        if event.notice is not None:
            entry.notice_status = event.notice.status
            entry.notice_label = event.notice.get_status_display()
        entries.append(entry)
    return entries


_WITH_PHOTOS = frozenset({CaseEventKind.CORRECTED, CaseEventKind.MESSAGE_IN})


class _PhotoFinder:
    """Links to the photos a timeline shows, for uploads attached to the submission only
    (the photo views serve nothing else); one query, and only when the timeline needs it."""

    def __init__(self, submission: Submission, *, needed: bool) -> None:
        self.submission = submission
        self.attached: set[str] = (
            {str(pk) for pk in submission.uploads.values_list("pk", flat=True)} if needed else set()
        )

    def links(self, ref: Any) -> list[PhotoLink]:
        ref = ref.get("ref") if isinstance(ref, dict) else ref
        if not ref or str(ref) not in self.attached:
            return []
        return [photo_link(self.submission, str(ref))]


def _describe(entry: TimelineEntry, data: dict, labels: dict[str, str], report: str = "") -> None:
    kind = entry.event.kind
    if kind == CaseEventKind.STATUS:
        origin, target = data.get("from", ""), data.get("to", "")
        moved = (status_label(origin, report), status_label(target, report))
        entry.lines.append(" → ".join(moved))
    elif kind == CaseEventKind.ASSIGNED:
        entry.lines.append(data.get("to") or _("nobody"))
    elif kind == CaseEventKind.CORRECTION_REQUESTED:
        fields = "、".join(labels.get(f, f) for f in data.get("fields", []))
        entry.lines.append(_("Fields: %(fields)s") % {"fields": fields})
        deadline = parse_datetime(data.get("deadline") or "")
        if deadline is not None:
            entry.lines.append(_("Deadline: %(date)s") % {"date": _local(deadline)})
    elif kind == CaseEventKind.WITHDRAWN:
        entry.lines.append(
            status_label(data.get("from", ""), report) + " → " + status_label("withdrawn")
        )
    elif kind in (CaseEventKind.MERGED, CaseEventKind.UNMERGED):
        entry.lines.append(merge_line(kind, data))
        if data.get("from") and data.get("from") != data.get("to"):
            entry.lines.append(
                status_label(data["from"], report) + " → " + status_label(data["to"], report)
            )
    if kind == CaseEventKind.STATUS and data.get("main"):
        entry.lines.append(_("Following the report %(reference)s") % {"reference": data["main"]})
    if data.get("reason"):
        entry.lines.append(_("Reason: %(reason)s") % {"reason": data["reason"]})
    if isinstance(data.get("via"), dict):
        label = data["via"].get("label", "")
        entry.lines.append(_("Through the back-office API (%(token)s)") % {"token": label})
    if data.get("text"):
        entry.lines.append(data["text"])


def merge_line(kind: str, data: dict) -> str:
    """What a merge (or its undoing) says on each of the two reports' timelines."""
    if kind == CaseEventKind.MERGED:
        if data.get("into"):
            return _("Merged into %(reference)s as a duplicate") % {"reference": data["into"]}
        return _("%(reference)s was merged into this report") % {"reference": data["duplicate"]}
    if data.get("into"):
        return _("No longer merged into %(reference)s") % {"reference": data["into"]}
    return _("%(reference)s is no longer merged into this report") % {
        "reference": data["duplicate"]
    }


def _local(when: datetime) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")


def _changes(
    definition, steps, labels, before: dict, after: dict, photos: _PhotoFinder
) -> list[Change]:
    def text(key: str, answers: dict) -> str:
        if key not in answers:
            return "—"
        step = steps.get(key)
        if step is None:
            return str(answers[key])
        return answer_text(definition, step, answers[key], get_language() or "ja")

    order = list(steps)
    keys = sorted(
        changed_fields(before, after), key=lambda k: order.index(k) if k in steps else len(order)
    )
    return [
        Change(
            labels.get(key, key),
            text(key, before),
            text(key, after),
            before_photos=photos.links(before.get(key)),
            after_photos=photos.links(after.get(key)),
        )
        for key in keys
    ]


def queue_label(name: str) -> str:
    """The inbox queue's name as staff read it (新着, 自分の担当…)."""
    return {
        "new": pgettext("inbox queue", "New"),
        "mine": pgettext("inbox queue", "Mine"),
        "in_review": pgettext("inbox queue", "In review"),
        "returned": pgettext("inbox queue", "Waiting for the resident"),
        "overdue": pgettext("inbox queue", "Overdue"),
        "done": pgettext("inbox queue", "Done"),
        "all": pgettext("inbox queue", "All"),
    }[name]
