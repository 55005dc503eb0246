"""What a web page shows for a conversation's state, built from the engine's own prompts.

The question's options are the buttons the chat would show (their postback data is the
value posted back), the summary is the engine's ConfirmationPrompt, and the texts are the
engine's, in the conversation's language. Nothing here changes state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from procedures import engine, logic
from procedures.engine.steps import localize, parse_postback
from procedures.steptypes import availability_for
from procedures.webform.fields import WebField, web_field

# Postback kinds that answer the question (a tap, a multi_choice tick); the others are
# the chat's command buttons, which the page offers as its own buttons.
ANSWER_KINDS = {"a", "t"}


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    checked: bool = False


@dataclass
class QuestionPage:
    step: Mapping[str, Any]
    field: WebField
    heading: str
    texts: list[str]  # what the prompt says beyond the heading (a slot list's day, …)
    hint: str
    messages: list[str]  # message steps shown before this question
    options: list[Option] = dataclasses.field(default_factory=list)
    # 「別の日」: a button of its own, not an option
    others: list[Option] = dataclasses.field(default_factory=list)
    value: Any = None
    minimum: str | None = None
    maximum: str | None = None
    can_go_back: bool = False
    optional: bool = False
    error: str = ""

    @property
    def described_by(self) -> str:
        """Ids of the optional note, the hint and the error shown, for aria-describedby."""
        shown = (
            ("answer-optional", self.optional),
            ("answer-hint", bool(self.hint)),
            ("answer-error", bool(self.error)),
        )
        return " ".join(name for name, present in shown if present)

    @property
    def shown(self) -> dict[str, str]:
        """What the field shows: the answer given (a location by its parts)."""
        if isinstance(self.value, dict):
            return {key: "" if v is None else str(v) for key, v in self.value.items()}
        return {"answer": "" if self.value is None else str(self.value)}

    def refill(self, posted: Mapping[str, Any], error: str) -> None:
        """Show what was just posted, with the reason it was refused."""
        self.error = error
        if self.step["type"] == "image":  # a file is never posted back; the kept one stays
            return
        self.value = {key: str(posted.get(key, "")) for key in ("address", "latitude", "longitude")}
        if self.step["type"] != "location":
            self.value = str(posted.get("answer", ""))
        chosen = set(posted.getlist("answer")) if hasattr(posted, "getlist") else set()
        self.options = [Option(o.value, o.label, o.value in chosen) for o in self.options]


@dataclass
class SummaryPage:
    title: str
    rows: list[engine.SummaryRow]
    submit: str
    fee: int | None
    messages: list[str]


def availability(definition: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return availability_for(definition.get("steps", []), now=now)


def _answer_choices(step_id: str, prompts: list[engine.Prompt]) -> list[engine.Choice]:
    found = []
    for prompt in prompts:
        for choice in getattr(prompt, "choices", ()):
            parts = parse_postback(choice.data) or []
            if len(parts) >= 2 and parts[0] in ANSWER_KINDS and parts[1] == step_id:
                found.append(choice)
    return found


def _is_other(choice: engine.Choice) -> bool:
    """A button that changes what the question shows (「別の日」), not an answer."""
    parts = parse_postback(choice.data) or []
    return parts[2:] == ["d:"]


def _is_waitlist(choice: engine.Choice) -> bool:
    """A full slot: its waitlist is joined in the chat, not on the web (no option here)."""
    parts = parse_postback(choice.data) or []
    return len(parts) >= 3 and parts[2].startswith("w:")


def _preceding_messages(
    definition: Mapping[str, Any], state: engine.ConversationState, step_id: str, now: datetime
) -> list[str]:
    """The message steps the chat shows right before this step (applicable ones only)."""
    steps = list(definition.get("steps", []))
    index = next((i for i, step in enumerate(steps) if step.get("id") == step_id), 0)
    texts: list[str] = []
    ctx = engine.StepContext(definition, state.lang, now, state.answers)
    for step in reversed(steps[:index]):
        kind = engine.step_type(step["type"])
        if kind.role != "message":
            break
        if "when" not in step or logic.is_true(step["when"], state.answers):
            texts.insert(0, kind.question(step, ctx))
    return texts


def _prompt_texts(prompts: list[engine.Prompt], heading: str) -> list[str]:
    """Lines of the question's prompt that the heading does not already say. The chat's
    waitlist hints are left out: the waitlist is joined in the chat, not on the web."""
    waitlist = {
        _("On full days you can join the waitlist."),
        _("For a full time you can join the waitlist."),
    }
    lines: list[str] = []
    for prompt in prompts:
        for line in str(getattr(prompt, "text", "")).splitlines():
            if line.strip() and line.strip() != heading and line not in waitlist:
                lines.append(line)
    return lines


def question_page(
    definition: Mapping[str, Any],
    state: engine.ConversationState,
    *,
    now: datetime,
    offer: Mapping[str, Any],
) -> QuestionPage:
    """The page of the question the conversation is on (``state.awaiting == "answer"``)."""
    step = next(s for s in definition.get("steps", []) if s.get("id") == state.step_id)
    prompts = engine.current_prompts(definition, state, now=now, availability=offer)
    heading = localize(step.get("prompt"), state.lang) or localize(step.get("label"), state.lang)
    choices = _answer_choices(step["id"], prompts)
    selected = set(state.pending or []) if step["type"] == "multi_choice" else set()
    page = QuestionPage(
        step=step,
        field=web_field(step["type"]),
        heading=heading,
        texts=_prompt_texts(prompts, heading) if step["type"] == "reservation" else [],
        hint=localize(step.get("help"), state.lang),
        messages=_preceding_messages(definition, state, step["id"], now),
        options=[
            Option(c.data, c.label.removeprefix("✓ "), _chosen(c, step, state, selected))
            for c in choices
            if not _is_other(c) and not _is_waitlist(c)
        ],
        others=[Option(c.data, c.label) for c in choices if _is_other(c)],
        value=state.answers.get(step["id"]),
        can_go_back=bool(state.history) or state.status == "editing",
        optional=not step.get("required", True),
    )
    _date_limits(page, prompts)
    return page


def _tick_value(choice: engine.Choice) -> str:
    return "|".join((parse_postback(choice.data) or [])[2:])


def _chosen(
    choice: engine.Choice, step: Mapping[str, Any], state: engine.ConversationState, ticked: set
) -> bool:
    """Whether the option shows as chosen: ticked so far, or the answer given before."""
    value = _tick_value(choice)
    if step["type"] == "multi_choice":
        return value in ticked
    answer = state.answers.get(step["id"])
    if isinstance(answer, bool):
        answer = "yes" if answer else "no"
    return answer is not None and value == str(answer)


def _date_limits(page: QuestionPage, prompts: list[engine.Prompt]) -> None:
    for prompt in prompts:
        if isinstance(prompt, engine.DatePickerPrompt) and prompt.mode == "date":
            page.minimum, page.maximum = prompt.min, prompt.max


def summary_page(
    definition: Mapping[str, Any],
    state: engine.ConversationState,
    *,
    now: datetime,
    offer: Mapping[str, Any],
) -> SummaryPage:
    """The check-your-answers page (``state.awaiting == "confirm"``)."""
    prompts = engine.current_prompts(definition, state, now=now, availability=offer)
    summary = next(p for p in prompts if isinstance(p, engine.ConfirmationPrompt))
    return SummaryPage(
        title=summary.title,
        rows=list(summary.rows),
        submit=summary.submit.data,
        fee=summary.fee,
        messages=_preceding_messages(definition, state, state.step_id or "", now),
    )


def end_message(definition: Mapping[str, Any], state: engine.ConversationState) -> str:
    step: Mapping[str, Any] = next(
        (s for s in definition.get("steps", []) if s.get("id") == state.step_id), {}
    )
    return localize(step.get("message") or step.get("prompt"), state.lang)
