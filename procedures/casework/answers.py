"""A submission's answers as people read them: labelled by the pinned version's steps."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from procedures.engine import StepContext, step_type
from procedures.engine.steps import localize


@dataclass(frozen=True)
class AnswerRow:
    step_id: str
    step_type: str
    label: str
    text: str
    value: Any


def _label(step: Mapping[str, Any], lang: str) -> str:
    return localize(step.get("label") or step.get("prompt"), lang, step["id"])


def answer_text(
    definition: Mapping[str, Any], step: Mapping[str, Any], value: Any, lang: str
) -> str:
    """One answer as the resident's summary shows it (a choice's label, a date in words)."""
    ctx = StepContext(definition, lang, timezone.now())
    try:
        return step_type(step["type"]).summarize(step, value, ctx)
    except (KeyError, TypeError, ValueError):
        return json.dumps(value, ensure_ascii=False)


def answer_rows(
    definition: Mapping[str, Any], answers: Mapping[str, Any], *, lang: str = "ja"
) -> list[AnswerRow]:
    """The answered steps in document order, each with its label and readable text; answers
    to steps the document no longer has (never, for a pinned version) come last by key."""
    steps = [step for step in definition.get("steps", []) if step.get("id") in answers]
    rows = [
        AnswerRow(
            step["id"],
            step["type"],
            _label(step, lang),
            answer_text(definition, step, answers[step["id"]], lang),
            answers[step["id"]],
        )
        for step in steps
    ]
    known = {step["id"] for step in steps}
    rows += [
        AnswerRow(key, "", key, json.dumps(value, ensure_ascii=False), value)
        for key, value in sorted(answers.items())
        if key not in known
    ]
    return rows


def question_steps(definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The steps a resident answers (what a reviewer may ask to correct)."""
    return [
        step
        for step in definition.get("steps", [])
        if step.get("type") and step_type(step["type"]).role == "question"
    ]


def step_labels(definition: Mapping[str, Any], lang: str) -> dict[str, str]:
    """Each step's label (or prompt) in ``lang``, by step id."""
    return {step["id"]: _label(step, lang) for step in definition.get("steps", []) if "id" in step}


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Keys whose answer differs between two revisions (added, removed or changed)."""
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
