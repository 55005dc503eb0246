"""A procedure's texts by language, for the builder's translations page: every text a
resident reads (the format's language maps), how many are translated per language, and
a document with one language's translations written in.

Which keys hold texts is the format's (procedures.format scans the same ones): the
title, description and completion message, each step's prompt, message, label, help
and error, and each option's label. A text's address is a dotted path
(``steps.2.options.0.label``) that the page uses as a field name.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from procedures.languages import staff_language_name

DOCUMENT_TEXTS = ("title", "description", "completion")
STEP_TEXTS = ("prompt", "message", "label", "help", "error")


@dataclass(frozen=True)
class TextSlot:
    """One text of the document: where it is, which step, and its language map."""

    path: str
    key: str  # title, prompt, label (an option's label: "option")
    step_number: int | None
    step_id: str | None
    texts: Mapping[str, str]


def document_languages(document: Mapping[str, Any]) -> list[str]:
    languages = document.get("languages")
    listed = (
        [code for code in languages if isinstance(code, str)] if isinstance(languages, list) else []
    )
    return listed or ["ja"]


def text_slots(document: Mapping[str, Any]) -> list[TextSlot]:
    """Every text of the document, in reading order; only texts the primary language has
    (an empty one is not there to translate yet)."""
    slots = [
        TextSlot(key, key, None, None, document[key])
        for key in DOCUMENT_TEXTS
        if isinstance(document.get(key), dict)
    ]
    steps = document.get("steps")
    for number, step in enumerate(steps if isinstance(steps, list) else [], start=1):
        if isinstance(step, dict):
            slots += _step_slots(number, step)
    primary = document_languages(document)[0]
    return [slot for slot in slots if str(slot.texts.get(primary) or "").strip()]


def _step_slots(number: int, step: Mapping[str, Any]) -> list[TextSlot]:
    base, step_id = f"steps.{number - 1}", step.get("id")
    slots = [
        TextSlot(f"{base}.{key}", key, number, step_id, step[key])
        for key in STEP_TEXTS
        if isinstance(step.get(key), dict)
    ]
    options = step.get("options")
    for index, option in enumerate(options if isinstance(options, list) else []):
        if isinstance(option, dict) and isinstance(option.get("label"), dict):
            path = f"{base}.options.{index}.label"
            slots.append(TextSlot(path, "option", number, step_id, option["label"]))
    return slots


def is_translated(slot: TextSlot, lang: str) -> bool:
    return bool(str(slot.texts.get(lang) or "").strip())


def completeness(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per listed language: its name, how many texts it has of how many, complete or not."""
    slots = text_slots(document)
    rows = []
    for position, code in enumerate(document_languages(document)):
        done = sum(1 for slot in slots if is_translated(slot, code))
        rows.append(
            {
                "code": code,
                "name": staff_language_name(code),
                "primary": position == 0,
                "done": done,
                "total": len(slots),
                "complete": done == len(slots),
            }
        )
    return rows


def missing_translations(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The languages (not the primary one) some texts lack: what publishing warns about."""
    return [row for row in completeness(document) if not row["primary"] and not row["complete"]]


def with_translations(
    document: Mapping[str, Any], lang: str, values: Mapping[str, str]
) -> dict[str, Any]:
    """A copy of ``document`` with the texts at ``values``' paths set in ``lang`` (an empty
    value removes that translation); paths that are not texts of the document are
    ignored. ``lang`` is added to ``languages`` when missing."""
    changed = copy.deepcopy(dict(document))
    known = {slot.path for slot in text_slots(changed)}
    for path, value in values.items():
        if path not in known:
            continue
        texts = _at(changed, path)
        if value.strip():
            texts[lang] = value.strip()
        else:
            texts.pop(lang, None)
    return with_language(changed, lang)


def with_language(document: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """A copy of ``document`` listing ``lang`` (after the languages it has)."""
    changed = copy.deepcopy(dict(document))
    languages = document_languages(changed)
    changed["languages"] = languages if lang in languages else [*languages, lang]
    return changed


def _at(document: dict[str, Any], path: str) -> dict[str, str]:
    node: Any = document
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node
