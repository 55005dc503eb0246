"""The builder page's editing state ↔ the portable document (pure functions).

The browser edits the document as it is, except for the two rule fields a designer never
types as JSON: each step's ``when`` travels as a ``condition`` editor model and the
document's ``fee`` as a ``fee_rule`` model. The conversion both ways happens here, on the
server (procedures.builder.conditions / fees), so there is one implementation of it.
"""

from __future__ import annotations

import copy
from typing import Any

from procedures.builder.conditions import condition_to_logic, logic_to_condition
from procedures.builder.fees import fee_to_logic, logic_to_fee


def editor_state(document: dict[str, Any]) -> dict[str, Any]:
    """What the builder page edits: the document with ``when``/``fee`` as editor models."""
    state = copy.deepcopy(document)
    if not isinstance(state.get("steps"), list):
        state["steps"] = []  # a broken draft still opens, so it can be repaired
    for step in state["steps"]:
        step["condition"] = logic_to_condition(step.pop("when", None))
    state["fee_rule"] = logic_to_fee(state.pop("fee", None))
    return state


def _clean_texts(texts: Any) -> Any:
    """Drop empty translations, so an untouched language field adds nothing."""
    if not isinstance(texts, dict):
        return texts
    return {lang: text for lang, text in texts.items() if isinstance(text, str) and text.strip()}


TEXT_FIELDS = ("label", "prompt", "help", "message", "error")


def _step_from_state(step: dict[str, Any]) -> dict[str, Any]:
    step = copy.deepcopy(step)
    when = condition_to_logic(step.pop("condition", None))
    for field in TEXT_FIELDS:
        if field in step:
            step[field] = _clean_texts(step[field])
            if not step[field]:
                del step[field]
    if step.get("validation") == {}:
        del step["validation"]
    if when is not None:
        step["when"] = when
    return step


def document_from_state(state: dict[str, Any]) -> dict[str, Any]:
    """The portable document for a builder state. ValueError for a malformed rule model."""
    document = copy.deepcopy(state)
    fee = fee_to_logic(document.pop("fee_rule", None))
    document["steps"] = [_step_from_state(step) for step in document.get("steps", [])]
    for field in ("title", "description", "completion"):
        if field in document:
            document[field] = _clean_texts(document[field])
            if not document[field] and field != "title":
                del document[field]
    if fee is not None:
        document["fee"] = fee
    if document.get("category") == "":
        del document["category"]
    return document
