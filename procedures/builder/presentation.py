"""How diffs, located errors and versions read on the builder's pages (pure)."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from procedures.builder.ui import type_labels
from procedures.diff import Change
from procedures.engine.steps import localize
from procedures.format import FormatError


def field_labels() -> dict[str, str]:
    return {
        "title": _("Title"),
        "description": _("Description"),
        "kind": _("Kind"),
        "category": _("Category"),
        "languages": _("Languages"),
        "triggers": _("Trigger keywords"),
        "fee": _("Fee"),
        "completion": _("Completion message"),
        "label": _("Short name"),
        "prompt": _("Question"),
        "message": _("Message"),
        "help": _("Help text"),
        "error": _("Refusal message"),
        "required": _("Required"),
        "when": _("Condition"),
        "validation": _("Checks"),
        "options": _("Options"),
        "type": _("Type"),
    }


def step_name(step: dict[str, Any] | None, lang: str = "ja") -> str:
    """How a step is called on the pages: its short name, question, or type and id."""
    if not step:
        return ""
    text = localize(step.get("label"), lang) or localize(step.get("prompt"), lang)
    text = text or localize(step.get("message"), lang)
    kind = type_labels().get(step.get("type", ""), step.get("type", ""))
    return f"{text} ({kind})" if text else f"{kind} [{step.get('id', '')}]"


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return " / ".join(f"{lang}: {text}" for lang, text in value.items())
    return json.dumps(value, ensure_ascii=False, indent=1) if not isinstance(value, str) else value


def diff_rows(changes: list[Change], old: dict, new: dict) -> list[dict[str, str]]:
    """One row per change: which step (by name), what, before, after."""
    steps = {s.get("id"): s for s in [*old.get("steps", []), *new.get("steps", [])]}
    new_steps = {s.get("id"): s for s in new.get("steps", [])}
    labels = field_labels()
    kinds = {
        "added": _("Added"),
        "removed": _("Removed"),
        "changed": _("Changed"),
        "moved": _("Reordered"),
    }
    rows = []
    for change in changes:
        if change.kind == "moved":
            where = _("Order of the steps")
            old_text = " → ".join(step_name(steps.get(sid)) for sid in change.old)
            new_text = " → ".join(step_name(new_steps.get(sid)) for sid in change.new)
        else:
            step = new_steps.get(change.step_id) or steps.get(change.step_id)
            where = step_name(step) if change.step_id else labels.get(change.field or "", "")
            if change.step_id and change.field:
                where = f"{where} — {labels.get(change.field, change.field)}"
            old_text, new_text = _shown(change.old), _shown(change.new)
            if change.kind in {"added", "removed"}:
                old_text = new_text = ""
        rows.append(
            {
                "kind": change.kind,
                "kind_label": kinds[change.kind],
                "where": where,
                "step_id": change.step_id or "",
                "old": old_text,
                "new": new_text,
            }
        )
    return rows


def problem_rows(problems: list[FormatError], document: dict) -> list[dict[str, Any]]:
    """Located errors as the pages and the builder's JavaScript show them."""
    index = {
        step.get("id"): number
        for number, step in enumerate(document.get("steps", []))
        if isinstance(step, dict)
    }
    steps = document.get("steps", [])
    rows = []
    for problem in problems:
        number = index.get(problem.step_id)
        rows.append(
            {
                "path": problem.path,
                "step_id": problem.step_id,
                "step_index": number,
                "step_name": step_name(steps[number]) if number is not None else "",
                "message": problem.message,
                "severity": problem.severity,
                "located": problem.located(),
            }
        )
    return rows


def problems_by_step(rows: list[dict[str, Any]], document: dict) -> list[dict[str, Any]]:
    """The steps of a document, each with its problems (the publish page's inline errors)."""
    general = [row for row in rows if row["step_index"] is None]
    grouped = [{"step": None, "name": _("The procedure"), "problems": general}]
    grouped[0]["has_errors"] = any(row["severity"] == "error" for row in general)
    for number, step in enumerate(document.get("steps", [])):
        mine = [row for row in rows if row["step_index"] == number]
        grouped.append(
            {
                "step": step,
                "number": number + 1,
                "name": step_name(step),
                "problems": mine,
                "has_errors": any(row["severity"] == "error" for row in mine),
            }
        )
    return grouped
