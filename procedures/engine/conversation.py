"""What a conversation is: its state (a JSON round trip), its outcomes, and lookups over
the definition it runs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from procedures import logic
from procedures.engine.prompts import Prompt
from procedures.engine.steps import PRIMARY_LANGUAGE
from procedures.languages import procedure_language

STATUSES = ("active", "confirming", "editing", "submitted", "cancelled", "ended", "expired")
OPEN_STATUSES = frozenset({"active", "confirming", "editing"})
AWAITING = ("answer", "confirm", "edit_pick", "resume", "")


@dataclass
class ConversationState:
    """Where one resident is in one procedure. JSON round-trip: to_dict / from_dict."""

    procedure_key: str
    status: str
    step_id: str | None
    lang: str
    updated_at: str
    started_at: str
    answers: dict[str, Any] = field(default_factory=dict)
    # Question steps answered or skipped, in order: the stack `back` pops.
    history: list[str] = field(default_factory=list)
    awaiting: str = ""  # what the last prompt asked for, one of AWAITING
    resume_offered: bool = False
    pending: Any = None  # a multi_choice selection being tapped together
    revision: int = 0  # bumped on every change of answers; stale 送信 buttons are refused
    # A correction (engine.correct): the fields a reviewer asked to correct, and the
    # answers as submitted (for はじめから, and so that an answer depending on a field not
    # re-answered yet is kept meanwhile). Empty for an ordinary conversation.
    correcting: list[str] = field(default_factory=list)
    submitted: dict[str, Any] = field(default_factory=dict)
    # The resident's own language (``lang`` is the procedure's texts' language, which may
    # differ when the procedure lacks theirs): the engine's own words are read in it.
    # Empty in states stored before it existed: ``lang`` then.
    resident_lang: str = ""

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConversationState:
        """Rebuild a state; unknown keys are ignored, a bad status raises ValueError."""
        names = {f.name for f in fields(cls)}
        state = cls(**copy.deepcopy({k: v for k, v in data.items() if k in names}))
        if state.status not in STATUSES or state.awaiting not in AWAITING:
            raise ValueError(f"invalid conversation state: {state.status!r}/{state.awaiting!r}")
        return state


@dataclass(frozen=True)
class SubmitRequested:
    """The resident tapped 送信: store a Submission, then send `completion_prompts`."""

    answers: dict[str, Any]
    fee: int | None


@dataclass(frozen=True)
class Cancelled:
    pass


@dataclass(frozen=True)
class Ended:
    step_id: str


Outcome = SubmitRequested | Cancelled | Ended


@dataclass
class Result:
    state: ConversationState
    prompts: list[Prompt]
    outcome: Outcome | None = None
    # Why the same question is asked again (the input was refused), already translated;
    # also the first prompt. Empty when the input was taken. The web form shows it by the
    # field instead of as a message.
    notice: str = ""


class _Procedure:
    """Lookups over one definition."""

    def __init__(
        self, definition: Mapping[str, Any], availability: Mapping[str, Any] | None = None
    ):
        self.doc = definition
        self.availability: Mapping[str, Any] = availability or {}
        self.steps: list[Mapping[str, Any]] = list(definition.get("steps", []))
        self.index = {step["id"]: i for i, step in enumerate(self.steps)}

    def step(self, step_id: str | None) -> Mapping[str, Any] | None:
        return self.steps[self.index[step_id]] if step_id in self.index else None

    def language(self, lang: str) -> str:
        """The texts' language for a resident of ``lang``: theirs, else the first listed."""
        return procedure_language(lang, list(self.doc.get("languages") or [PRIMARY_LANGUAGE]))


def _applicable(step: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    return "when" not in step or logic.is_true(step["when"], answers)


def _applicability_answers(state: ConversationState) -> Mapping[str, Any]:
    """What `when` conditions read: the answers, and during a correction the submitted
    answers of the fields not re-answered yet (so their dependents are not dropped early)."""
    waiting = {
        step_id: state.submitted[step_id]
        for step_id in state.correcting
        if step_id not in state.history and step_id in state.submitted
    }
    return {**waiting, **state.answers}


def compute_fee(definition: Mapping[str, Any], answers: Mapping[str, Any]) -> int | None:
    """The fee in int yen, or None when the document has no `fee`."""
    if "fee" not in definition:
        return None
    return logic.evaluate_fee(definition["fee"], answers)
