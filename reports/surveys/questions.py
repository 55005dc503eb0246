"""The questions of a survey across its versions, as the results show them.

The questions and their order and labels are the exports' union of the versions' steps
(``reports.exports.columns.union_steps``: the latest version's order and labels, then
steps only older versions had). A choice keeps every option any version offered, so an
answer given before the choices changed is still counted under its own label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from procedures.engine.steps import localize
from reports.exports.columns import LANG, is_personal, union_steps

# How each step type is aggregated; a type not named here is only counted as answered.
KINDS = {
    "choice": "single",
    "yes_no": "single",
    "consent": "single",
    "multi_choice": "multi",
    "number": "number",
    "date": "date",
    "text": "text",
}


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    step_id: str
    step_type: str
    label: str
    kind: str  # single | multi | number | date | text | other
    options: tuple[Option, ...] = ()

    @property
    def personal(self) -> bool:
        """Answers that may name or locate someone: never on the public page."""
        return is_personal({"type": self.step_type})

    @property
    def counted(self) -> bool:
        """Whether the answers are counted per value (choices, histograms)."""
        return self.kind in ("single", "multi", "number", "date")


def survey_questions(documents: Sequence[Mapping[str, Any]]) -> list[Question]:
    """The questions of a survey whose published versions are ``documents`` (oldest first)."""
    return [_question(step, documents) for step in union_steps(list(documents))]


def _question(step: Mapping[str, Any], documents: Sequence[Mapping[str, Any]]) -> Question:
    step_type = step.get("type", "")
    return Question(
        step_id=step["id"],
        step_type=step_type,
        label=localize(step.get("label") or step.get("prompt"), LANG, step["id"]),
        kind=KINDS.get(step_type, "other"),
        options=tuple(_options(step, documents)),
    )


def _options(step: Mapping[str, Any], documents: Sequence[Mapping[str, Any]]) -> list[Option]:
    if step.get("type") == "yes_no":
        return [Option("true", _("Yes")), Option("false", _("No"))]
    if step.get("type") == "consent":
        return [Option("true", _("Agreed")), Option("false", _("Did not agree"))]
    if step.get("type") not in ("choice", "multi_choice"):
        return []
    labels: dict[str, str] = {}
    for document in reversed(documents):  # newest first: its labels win
        for other in document.get("steps", []):
            if other.get("id") == step["id"]:
                for option in other.get("options", []):
                    value = str(option.get("value"))
                    labels.setdefault(value, localize(option.get("label"), LANG, value))
    return [Option(value, label) for value, label in labels.items()]
