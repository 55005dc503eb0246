"""The columns of an export and one submission's cells.

Columns are the union of the question steps of every version of the procedure, in a
stable order: the latest version's steps in its order, then steps only older versions
had (the newest of those first), each labelled as the latest version that has it labels
it. A multi-choice step is one column per option (the union of its options, marked with
a check), a location three (latitude, longitude, address), a photo a link to the console
photo page. Personal data is decided by step type in ``PERSONAL_STEP_TYPES`` alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.engine import StepContext, step_type
from procedures.engine.steps import localize
from procedures.models import SubmissionStatus

TOKYO = ZoneInfo("Asia/Tokyo")
LANG = "ja"
# Answers that name or locate a person, or may show one: left out on request.
PERSONAL_STEP_TYPES = frozenset(
    {"text", "name", "phone", "email", "postal_code", "location", "image"}
)
CHECK = "✓"
# The submission's values an export reads (a dict per row: no model instances).
ROW_FIELDS = (
    "pk",
    "reference",
    "status",
    "submitted_at",
    "version_id",
    "channel",
    "assignee__email",
    "fee",
    "answers",
)


@dataclass(frozen=True)
class Version:
    """What an export needs of one published version: its number and steps by id."""

    number: int
    steps: Mapping[str, Mapping[str, Any]]
    context: StepContext


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[Mapping[str, Any], Version | None], Any]
    is_link: bool = False


def question_steps(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        step
        for step in document.get("steps", [])
        if step.get("id") and _role(step.get("type", "")) == "question"
    ]


def _role(type_name: str) -> str:
    try:
        return step_type(type_name).role
    except KeyError:
        return ""


def versions_by_id(documents: Iterable[tuple[int, int, Mapping[str, Any]]]) -> dict[int, Version]:
    """``(pk, number, document)`` of each version → what rendering a cell needs."""
    now = timezone.now()
    return {
        pk: Version(
            number,
            {step["id"]: step for step in question_steps(document)},
            StepContext(document, LANG, now),
        )
        for pk, number, document in documents
    }


def union_steps(documents: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every question step of ``documents`` (oldest first) once, newest definition wins,
    multi-choice options merged; ordered as the module docstring says."""
    merged: dict[str, dict[str, Any]] = {}
    for document in reversed(documents):  # newest first: its order and labels win
        for step in question_steps(document):
            if step["id"] not in merged:
                merged[step["id"]] = dict(step)
            elif step.get("type") == merged[step["id"]].get("type") == "multi_choice":
                _merge_options(merged[step["id"]], step)
    return list(merged.values())


def _merge_options(newer: dict[str, Any], older: Mapping[str, Any]) -> None:
    known = {option["value"] for option in newer.get("options", [])}
    extra = [option for option in older.get("options", []) if option["value"] not in known]
    newer["options"] = [*newer.get("options", []), *extra]


def is_personal(step: Mapping[str, Any]) -> bool:
    return step.get("type") in PERSONAL_STEP_TYPES


def build_columns(
    documents: list[Mapping[str, Any]], *, omit_personal: bool, check: str = CHECK
) -> list[Column]:
    """The export's columns for a procedure whose versions are ``documents`` (oldest first)."""
    columns = fixed_columns()
    for step in union_steps(documents):
        if omit_personal and is_personal(step):
            continue
        columns += step_columns(step, check)
    return columns


def fixed_columns() -> list[Column]:
    statuses = dict(SubmissionStatus.choices)
    return [
        Column(_("reference number"), lambda row, v: row["reference"]),
        Column(_("status"), lambda row, v: str(statuses.get(row["status"], row["status"]))),
        Column(_("submitted at"), lambda row, v: tokyo_text(row["submitted_at"])),
        Column(_("version"), lambda row, v: v.number if v else ""),
        Column(_("channel"), lambda row, v: row["channel"]),
        Column(_("assignee"), lambda row, v: row["assignee__email"] or ""),
        Column(_("fee (yen)"), lambda row, v: "" if row["fee"] is None else row["fee"]),
    ]


def tokyo_text(moment: datetime | None) -> str:
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") if moment else ""


def step_columns(step: Mapping[str, Any], check: str) -> list[Column]:
    label, step_id = localize(step.get("label") or step.get("prompt"), LANG, step["id"]), step["id"]
    kind = step.get("type")
    if kind == "multi_choice":
        return [
            Column(
                f"{label}: {localize(option.get('label'), LANG, option['value'])}",
                _option_cell(step_id, option["value"], check),
            )
            for option in step.get("options", [])
        ]
    if kind == "location":
        parts = {"latitude": _("latitude"), "longitude": _("longitude"), "address": _("address")}
        return [
            Column(f"{label} ({name})", _location_cell(step_id, part))
            for part, name in parts.items()
        ]
    if kind == "image":
        return [Column(label, _photo_cell(step_id), is_link=True)]
    return [Column(label, _text_cell(step_id))]


def _option_cell(step_id: str, value: str, check: str):
    def cell(row: Mapping[str, Any], version: Version | None) -> str:
        chosen = row["answers"].get(step_id)
        return check if isinstance(chosen, list) and value in chosen else ""

    return cell


def _location_cell(step_id: str, part: str):
    def cell(row: Mapping[str, Any], version: Version | None) -> Any:
        answer = row["answers"].get(step_id)
        value = answer.get(part) if isinstance(answer, Mapping) else None
        return "" if value is None else value

    return cell


def photo_url(submission_pk: int, upload: str) -> str:
    """The console page showing a resident's photo (staff must sign in to open it)."""
    return f"{settings.SITE_URL}/admin/procedures/submission/{submission_pk}/photos/{upload}/"


def _photo_cell(step_id: str):
    def cell(row: Mapping[str, Any], version: Version | None) -> str:
        answer = row["answers"].get(step_id)
        answers = answer if isinstance(answer, list) else [answer]
        refs = [a["ref"] for a in answers if isinstance(a, Mapping) and a.get("ref")]
        return " ".join(photo_url(row["pk"], ref) for ref in refs)

    return cell


def _text_cell(step_id: str):
    def cell(row: Mapping[str, Any], version: Version | None) -> Any:
        value = row["answers"].get(step_id)
        if value is None:
            return ""
        step = version.steps.get(step_id) if version else None
        if step is None:  # answered in a version without this step (or a draft's test)
            return value if isinstance(value, (str, int, float)) else str(value)
        return summarize(step, value, version.context)  # type: ignore[union-attr]

    return cell


def summarize(step: Mapping[str, Any], value: Any, context: StepContext) -> Any:
    """The answer as the resident's summary shows it; numbers stay numbers."""
    if step.get("type") == "number" and isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and step.get("type") in {"text", "email", "phone"}:
        return value
    try:
        return step_type(step["type"]).summarize(step, value, context)
    except (KeyError, TypeError, ValueError, AttributeError):
        return str(value)


def row_cells(
    columns: list[Column], row: Mapping[str, Any], versions: Mapping[int, Version]
) -> list[Any]:
    version = versions.get(row["version_id"]) if row["version_id"] else None
    return [column.cell(row, version) for column in columns]
