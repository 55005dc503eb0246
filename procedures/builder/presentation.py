"""How diffs, located errors and versions read on the builder's pages (pure)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext as _

from procedures.builder.ui import language_choices, type_labels
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
    if text:
        return f"{text} ({kind})"
    if step.get("type") in UNNAMED_TYPES:
        return str(kind)  # one confirmation per procedure: its type names it
    return f"{kind} [{step.get('id', '')}]"


UNNAMED_TYPES = frozenset({"confirm"})
TEXT_PROBLEMS = frozenset({"missing_text", "missing_translation", "unlisted_language"})
OPTION_LABEL = re.compile(r"options\[(\d+)\]\.label$")


def problem_message(problem: FormatError) -> str:
    """The problem in a clerk's words: fields and languages by their names, not keys.

    The portable format's messages name JSON keys ("label", "en") for people editing the
    document by hand; the builder's pages name what the designer sees on screen.
    """
    if problem.code not in TEXT_PROBLEMS:
        return problem.message
    path, lang = problem.path, ""
    if problem.code == "unlisted_language":
        path, lang = path.rsplit(".", 1)
    field = _field_name(path)
    languages = {row["code"]: row["name"] for row in language_choices()}
    if problem.code == "missing_text":
        return _("“%(field)s” is empty.") % {"field": field}
    if problem.code == "missing_translation":
        lang = _missing_language(problem.message, languages)
        return _("“%(field)s” has no %(language)s translation yet.") % {
            "field": field,
            "language": languages.get(lang, lang),
        }
    return _(
        "“%(field)s” has a %(language)s text, but %(language)s is not one of the"
        " procedure's languages."
    ) % {"field": field, "language": languages.get(lang, lang)}


def _field_name(path: str) -> str:
    option = OPTION_LABEL.search(path)
    if option:
        return _("Option %(number)s") % {"number": int(option.group(1)) + 1}
    key = path.rsplit(".", 1)[-1]
    return field_labels().get(key, key)


def _missing_language(message: str, languages: dict[str, str]) -> str:
    """The language a missing-translation problem is about (FormatError has no field
    for it; the message quotes it last)."""
    quoted = re.findall(r"[\"“「]([a-z]{2}(?:-[A-Za-z]+)?)[\"”」]", message)
    return quoted[-1] if quoted else ""


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
                "message": problem_message(problem),
                "severity": problem.severity,
                "located": problem.located(),
            }
        )
    return rows


def problems_by_step(rows: list[dict[str, Any]], document: dict) -> list[dict[str, Any]]:
    """The steps of a document, each with its problems (the publish page's inline errors)."""
    general = [row for row in rows if row["step_index"] is None]
    grouped = [_group(None, None, _("The procedure"), general)]
    for number, step in enumerate(document.get("steps", [])):
        mine = [row for row in rows if row["step_index"] == number]
        grouped.append(_group(step, number + 1, step_name(step), mine))
    return grouped


def _group(step, number, name, problems) -> dict[str, Any]:
    """One step's problems, split into what blocks publishing and what is only a note."""
    errors = [row for row in problems if row["severity"] == "error"]
    return {
        "step": step,
        "number": number,
        "name": name,
        "problems": problems,
        "errors": errors,
        "warnings": [row for row in problems if row["severity"] != "error"],
        "has_errors": bool(errors),
    }
