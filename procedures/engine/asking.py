"""What the resident is shown for a state: the introduction, the question with its
command buttons, the summary with 送信 / 修正, the list of answers to change, the offer
to resume. The same prompts are rebuilt to re-ask, and to read typed button labels.

Engine-internal (as `reading` and `conversation`'s `_Procedure`): the machine calls these;
the transport and services use the public names of `procedures.engine`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from procedures.engine.conversation import (
    ConversationState,
    Result,
    _applicable,
    _Procedure,
    compute_fee,
)
from procedures.engine.prompts import (
    Choice,
    ConfirmationPrompt,
    EditFieldPrompt,
    Prompt,
    SummaryRow,
    TextPrompt,
)
from procedures.engine.steps import StepContext, localize, postback, step_type


def _context(proc: _Procedure, state: ConversationState, now: datetime, extra=()) -> StepContext:
    return StepContext(
        proc.doc, state.lang, now, state.answers, tuple(extra), state.pending, proc.availability
    )


def _introduction(proc: _Procedure, lang: str) -> list[Prompt]:
    description = localize(proc.doc.get("description"), lang)
    if not description:
        return []
    return [TextPrompt(f"{localize(proc.doc.get('title'), lang)}\n{description}")]


def _command_choices(state: ConversationState, *, skip_step: Mapping[str, Any] | None = None):
    choices = []
    if skip_step is not None and not skip_step.get("required", True):
        choices.append(Choice(_("Skip"), postback("s", skip_step["id"])))
    if state.history or state.status in {"editing", "confirming"}:
        choices.append(Choice(_("Back"), postback("x", "back")))
    if state.history:
        choices.append(Choice(_("Start over"), postback("x", "restart")))
    choices.append(Choice(_("Help"), postback("x", "help")))
    choices.append(Choice(_("Cancel"), postback("x", "cancel")))
    return choices


def _question(proc: _Procedure, state: ConversationState, now: datetime) -> list[Prompt]:
    step = proc.step(state.step_id)
    assert step is not None  # noqa: S101 - callers only ask existing steps
    extras = _command_choices(state, skip_step=step)
    return step_type(step["type"]).prompt(step, _context(proc, state, now, extras))


def _answered_fields(proc: _Procedure, state: ConversationState) -> list[Mapping[str, Any]]:
    return [step for step in proc.steps if step["id"] in state.history]


def _editable_fields(proc: _Procedure, state: ConversationState) -> list[Mapping[str, Any]]:
    """What 修正 offers: every answered field, or during a correction only the fields
    being corrected and the steps their new answers made applicable."""
    answered = _answered_fields(proc, state)
    if not state.correcting:
        return answered
    return [
        step
        for step in answered
        if step["id"] in state.correcting or not _applicable(step, state.submitted)
    ]


def _field_label(step: Mapping[str, Any], lang: str) -> str:
    return localize(step.get("label"), lang) or localize(step.get("prompt"), lang) or step["id"]


def _confirmation(proc: _Procedure, state: ConversationState, now: datetime) -> Prompt:
    ctx = _context(proc, state, now)
    rows = []
    for step in _answered_fields(proc, state):
        value = state.answers.get(step["id"])
        shown = _("(not answered)")
        if value is not None:
            shown = step_type(step["type"]).summarize(step, value, ctx)
        rows.append(SummaryRow(step["id"], _field_label(step, state.lang), shown))
    confirm_step = proc.step(state.step_id) or {}
    return ConfirmationPrompt(
        title=step_type("confirm").question(confirm_step, ctx),
        rows=tuple(rows),
        submit=Choice(_("Submit"), postback("c", "submit", str(state.revision))),
        edit=Choice(_("Edit"), postback("c", "edit")),
        fee=compute_fee(proc.doc, state.answers),
        choices=tuple(_command_choices(state)),
    )


def _edit_prompt(proc: _Procedure, state: ConversationState) -> Prompt:
    choices = [
        Choice(_field_label(step, state.lang)[:40], postback("e", step["id"]))
        for step in _editable_fields(proc, state)
    ]
    choices.append(Choice(_("Back to the summary"), postback("x", "back")))
    return EditFieldPrompt(_("Which answer would you like to change?"), tuple(choices))


def _resume_prompts(proc: _Procedure, state: ConversationState) -> list[Prompt]:
    title = localize(proc.doc.get("title"), state.lang)
    text = _("You have an unfinished procedure: %(title)s. Continue where you left off?")
    choices = (
        Choice(_("Continue"), postback("r", "resume")),
        Choice(_("Start over"), postback("r", "restart")),
        Choice(_("Cancel"), postback("x", "cancel")),
    )
    return [TextPrompt(text % {"title": title}, choices)]


def _current_prompts(proc: _Procedure, state: ConversationState, now: datetime) -> list[Prompt]:
    awaiting = state.awaiting
    if awaiting == "answer" and proc.step(state.step_id) is not None:
        return _question(proc, state, now)
    if awaiting == "confirm":
        return [_confirmation(proc, state, now)]
    if awaiting == "edit_pick":
        return [_edit_prompt(proc, state)]
    if awaiting == "resume":
        return _resume_prompts(proc, state)
    return []


def _reask(proc, state, now, reason: str | None = None) -> Result:
    prompts = _current_prompts(proc, state, now)
    if reason:
        prompts.insert(0, TextPrompt(reason))
    return Result(state, prompts, notice=reason or "")
