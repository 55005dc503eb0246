"""The conversation state machine: definition + state + one input → new state + prompts.

Pure: no database, no LINE, no clock (`now` is passed in), no mutation of the state it
is given. `advance` never raises on resident input — anything unexpected (an image when
text was asked, a stale button from an older message, garbage postback data) re-asks
the current question with a reason.

Flow (DESIGN.md "The conversation in LINE"):
- Steps run in document order; a step whose `when` is false is skipped, and when an
  answer changes, answers of steps that are no longer applicable are dropped.
- `message` steps are shown and passed; an `end` step finishes the conversation with its
  message (outcome `Ended`); the `confirm` step shows the summary with 送信 / 修正.
- A procedure without a `confirm` step is submitted as soon as its last applicable step
  is answered (outcome `SubmitRequested`): surveys and quick reports need no summary.
- 修正 lists the answered fields; the chosen field is asked again, then any newly
  applicable, never-asked steps, then the summary again.
- Anytime commands (typed or tapped): やめる/キャンセル/cancel, もどる/戻る/back,
  はじめから/restart, ヘルプ/help. Commands win over answers: a text step cannot take
  "やめる" as its answer.
- After `idle_timeout` without input, the next input finds the state `expired` and the
  resident is told; `offer_resume` asks 再開する / はじめから when a procedure is
  re-triggered while a conversation is still open.
- `correct` starts a correction of submitted answers on the same definition: only the
  fields a reviewer named are asked again (then any step a new answer makes applicable),
  with the same parsing and validation, then the summary; 修正 there offers only those
  fields, はじめから restarts the correction and もどる goes back through its questions.
- The texts' language (`state.lang`) is the resident's `lang` if the document lists it,
  else the document's first language (procedures.languages.procedure_language); the
  engine's own words go through gettext in the resident's product language
  (`state.resident_lang`, procedures.languages.product_language), so a Vietnamese
  resident reads やめる's answer in Vietnamese even in a procedure written in Japanese.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from procedures.engine import parsing
from procedures.engine.asking import (
    _confirmation,
    _context,
    _current_prompts,
    _edit_prompt,
    _editable_fields,
    _introduction,
    _question,
    _reask,
    _resume_prompts,
)
from procedures.engine.conversation import (
    OPEN_STATUSES,
    Cancelled,
    ConversationState,
    Ended,
    Result,
    SubmitRequested,
    _applicability_answers,
    _applicable,
    _Procedure,
    compute_fee,
)
from procedures.engine.inputs import Input, TextInput
from procedures.engine.prompts import Choice, CompletionPrompt, Prompt, TextPrompt
from procedures.engine.reading import (
    EDIT_WORDS,
    RESUME_WORDS,
    SKIP_WORDS,
    SUBMIT_WORDS,
    _command,
    _postback_parts,
    _typed_choice,
    _typed_key,
)
from procedures.engine.steps import (
    PRIMARY_LANGUAGE,
    InvalidAnswer,
    Partial,
    localize,
    postback,
    step_type,
)
from procedures.languages import resident_override

# --- public API -----------------------------------------------------------------------


def start(
    definition: Mapping[str, Any],
    *,
    lang: str = PRIMARY_LANGUAGE,
    now: datetime,
    availability: Mapping[str, Any] | None = None,
) -> Result:
    """Begin a conversation: the introduction and the first question.

    `availability` (any entry point) is what reservation steps offer, per resource key.
    """
    proc = _Procedure(definition, availability)
    state = ConversationState(
        procedure_key=str(definition.get("key", "")),
        status="active",
        step_id=None,
        lang=proc.language(lang),
        updated_at=now.isoformat(),
        started_at=now.isoformat(),
        resident_lang=lang,
    )
    with _words(state):
        intro = _introduction(proc, state.lang)
        result = _proceed(proc, state, -1, now)
    result.prompts[:0] = intro
    return result


def correct(
    definition: Mapping[str, Any],
    answers: Mapping[str, Any],
    *,
    fields: list[str],
    lang: str = PRIMARY_LANGUAGE,
    now: datetime,
    availability: Mapping[str, Any] | None = None,
) -> Result:
    """Begin correcting submitted `answers` (of this same definition): their `fields` are
    dropped and asked again in document order, with any step a new answer makes
    applicable; then the summary (or, without a confirm step, SubmitRequested with the
    full corrected answers). Fields that are not steps of the definition are ignored.
    """
    proc = _Procedure(definition, availability)
    submitted = copy.deepcopy(dict(answers))
    fields = [step_id for step_id in dict.fromkeys(fields) if step_id in proc.index]
    kept = [
        step["id"]
        for step in proc.steps
        if step_type(step["type"]).role == "question"
        and _applicable(step, submitted)
        and step["id"] not in fields
    ]
    state = ConversationState(
        procedure_key=str(definition.get("key", "")),
        status="editing",
        step_id=None,
        lang=proc.language(lang),
        updated_at=now.isoformat(),
        started_at=now.isoformat(),
        answers={key: value for key, value in submitted.items() if key not in fields},
        history=kept,
        correcting=fields,
        submitted=submitted,
        resident_lang=lang,
    )
    with _words(state):
        return _continue_editing(proc, state, now)


def advance(
    definition: Mapping[str, Any],
    state: ConversationState,
    inp: Input,
    *,
    now: datetime,
    idle_timeout: timedelta = timedelta(hours=24),
    availability: Mapping[str, Any] | None = None,
) -> Result:
    """Apply one resident input. Never raises on the input; never mutates `state`."""
    proc = _Procedure(definition, availability)
    state = ConversationState.from_dict(state.to_dict())
    with _words(state):
        if state.status not in OPEN_STATUSES:
            return _closed(proc, state, inp, now)
        if _is_expired(state, now, idle_timeout):
            return _expire(state, now)
        state.updated_at = now.isoformat()
        inp = _typed_choice(proc, state, inp, now)
        command = _command(inp)
        if command:
            return _COMMANDS[command](proc, state, now)
        return _REPLY_HANDLERS[state.awaiting or "answer"](proc, state, inp, now)


def offer_resume(
    definition: Mapping[str, Any],
    state: ConversationState,
    *,
    now: datetime,
    idle_timeout: timedelta = timedelta(hours=24),
    availability: Mapping[str, Any] | None = None,
) -> Result:
    """Ask 再開する / はじめから; a closed or expired conversation simply starts anew
    (a correction: the correction, from its submitted answers)."""
    proc = _Procedure(definition, availability)
    if state.status not in OPEN_STATUSES or _is_expired(state, now, idle_timeout):
        if state.correcting:
            return correct(
                definition,
                state.submitted,
                fields=state.correcting,
                lang=_resident_lang(state),
                now=now,
                availability=availability,
            )
        return start(definition, lang=_resident_lang(state), now=now, availability=availability)
    state = ConversationState.from_dict(state.to_dict())
    state.resume_offered = True
    state.awaiting = "resume"
    state.updated_at = now.isoformat()
    with _words(state):
        return Result(state, _resume_prompts(proc, state))


def ask_again(
    definition: Mapping[str, Any],
    state: ConversationState,
    *,
    step_id: str,
    reason: str,
    now: datetime,
    pending: Any = None,
    availability: Mapping[str, Any] | None = None,
) -> Result:
    """Reopen a submitted conversation at one step (its answer dropped), with a reason.

    For the runtime when the submission could not be stored as asked (a reservation slot
    filled meanwhile): the resident answers that step again, then sees the summary.
    """
    proc = _Procedure(definition, availability)
    state = ConversationState.from_dict(state.to_dict())
    step = proc.step(step_id)
    assert step is not None  # noqa: S101 - the runtime names a step of this definition
    with _words(state):
        state.answers.pop(step_id, None)
        state.revision += 1
        state.status = "editing" if _confirm_id(proc) else "active"
        result = _enter_question(proc, state, step, now)
        state.pending = pending
        result.prompts = [TextPrompt(reason), *_question(proc, state, now)]
        result.notice = reason
    return result


def current_prompts(
    definition: Mapping[str, Any],
    state: ConversationState,
    *,
    now: datetime,
    availability: Mapping[str, Any] | None = None,
) -> list[Prompt]:
    """What the resident is being asked in `state`, built again without any input (a web
    page shows the question it is on; nothing changes)."""
    proc = _Procedure(definition, availability)
    with translation.override(state.lang):
        return _current_prompts(proc, state, now)


def completion_prompts(
    definition: Mapping[str, Any], state: ConversationState, reference: str
) -> list[Prompt]:
    """What to send once the Submission is stored; `{reference}` is filled in."""
    with _words(state):
        default = _("Thank you. We have received your submission (reference {reference}).")
        text = localize(definition.get("completion"), state.lang, default)
    return [CompletionPrompt(text.replace("{reference}", reference))]


def _resident_lang(state: ConversationState) -> str:
    return state.resident_lang or state.lang


def _words(state: ConversationState) -> translation.override:
    """The engine's own words in the resident's language (see the module docstring)."""
    return resident_override(_resident_lang(state))


# --- walking the steps --------------------------------------------------------------------


def _proceed(proc: _Procedure, state: ConversationState, after: int, now: datetime) -> Result:
    """Run the steps after index `after` until one needs the resident (or the end)."""
    shown: list[Prompt] = []
    for step in proc.steps[after + 1 :]:
        if not _applicable(step, state.answers):
            continue
        kind = step_type(step["type"])
        if kind.role == "message":
            shown += kind.prompt(step, _context(proc, state, now))
            continue
        result = _ROLE_ENTRIES[kind.role](proc, state, step, now)
        result.prompts[:0] = shown
        return result
    result = _submit(proc, state)
    result.prompts[:0] = shown
    return result


def _enter_question(proc, state, step, now) -> Result:
    state.status = "editing" if state.status == "editing" else "active"
    state.step_id, state.awaiting = step["id"], "answer"
    state.pending = step_type(step["type"]).pending_from(state.answers.get(step["id"]))
    return Result(state, _question(proc, state, now))


def _enter_end(proc, state, step, now) -> Result:
    state.status, state.step_id, state.awaiting, state.pending = "ended", step["id"], "", None
    prompts = step_type(step["type"]).prompt(step, _context(proc, state, now))
    return Result(state, prompts, Ended(step["id"]))


def _enter_confirm(proc, state, step, now) -> Result:
    state.status, state.step_id, state.awaiting, state.pending = (
        "confirming",
        step["id"],
        "confirm",
        None,
    )
    return Result(state, [_confirmation(proc, state, now)])


_ROLE_ENTRIES: dict[str, Callable[..., Result]] = {
    "question": _enter_question,
    "end": _enter_end,
    "confirm": _enter_confirm,
}


def _submit(proc: _Procedure, state: ConversationState) -> Result:
    state.status, state.awaiting, state.pending = "submitted", "", None
    answers = copy.deepcopy(state.answers)
    return Result(state, [], SubmitRequested(answers, compute_fee(proc.doc, answers)))


def _continue_editing(proc: _Procedure, state: ConversationState, now: datetime) -> Result:
    """After an edit: ask applicable steps never asked yet, then show the summary again."""
    for step in proc.steps:
        kind = step_type(step["type"])
        if kind.role == "message" or not _applicable(step, state.answers):
            continue
        if kind.role != "question" or step["id"] not in state.history:
            return _ROLE_ENTRIES[kind.role](proc, state, step, now)
    return _submit(proc, state)


def _drop_inapplicable(proc: _Procedure, state: ConversationState) -> None:
    """Forget answers of steps whose `when` became false (in order: drops cascade)."""
    for step in proc.steps:
        if not _applicable(step, _applicability_answers(state)):
            if state.answers.pop(step["id"], None) is not None:
                state.revision += 1
            state.history = [step_id for step_id in state.history if step_id != step["id"]]


# --- commands ------------------------------------------------------------------------------


def _cancel(proc, state, now) -> Result:
    state.status, state.awaiting, state.pending, state.resume_offered = "cancelled", "", None, False
    return Result(state, [TextPrompt(_("The procedure has been cancelled."))], Cancelled())


def _restart(proc, state, now) -> Result:
    if state.correcting:  # the correction starts again, not the whole procedure
        result = correct(
            proc.doc,
            state.submitted,
            fields=state.correcting,
            lang=state.lang,
            now=now,
            availability=proc.availability,
        )
        result.prompts.insert(0, TextPrompt(_("Starting the correction again.")))
        return result
    result = start(proc.doc, lang=state.lang, now=now, availability=proc.availability)
    result.prompts.insert(0, TextPrompt(_("Starting again from the beginning.")))
    return result


def _help(proc, state, now) -> Result:
    step = proc.step(state.step_id) if state.awaiting == "answer" else None
    lines = [localize(step.get("help"), state.lang)] if step else []
    lines.append(
        _(
            "You can type these at any time: やめる (cancel), もどる (back), "
            "はじめから (start over), ヘルプ (help)."
        )
    )
    return _reask(proc, state, now, "\n".join(line for line in lines if line))


def _back(proc, state, now) -> Result:
    if state.awaiting == "resume":
        return _reask(proc, state, now, _("Please choose whether to continue or start over."))
    if state.correcting and state.awaiting == "answer" and state.step_id not in state.history:
        return _back_in_correction(proc, state, now)
    if state.status == "editing":
        return _enter_confirm(proc, state, proc.step(_confirm_id(proc)), now)
    if not state.history:
        return _reask(proc, state, now, _("This is the first question."))
    previous = proc.step(state.history.pop())
    state.status = "active"
    return _enter_question(proc, state, previous, now)


def _back_in_correction(proc, state, now) -> Result:
    """While a correction's questions are asked for the first time: the previous one of
    them again (its answer kept as it is for a back in an ordinary conversation)."""
    editable = {step["id"] for step in _editable_fields(proc, state)}
    asked = [step_id for step_id in state.history if step_id in editable]
    if not asked:
        return _reask(proc, state, now, _("This is the first question."))
    state.history.remove(asked[-1])
    return _enter_question(proc, state, proc.step(asked[-1]), now)


def _confirm_id(proc: _Procedure) -> str | None:
    return next((s["id"] for s in proc.steps if step_type(s["type"]).role == "confirm"), None)


_COMMANDS: dict[str, Callable[[_Procedure, ConversationState, datetime], Result]] = {
    "cancel": _cancel,
    "back": _back,
    "restart": _restart,
    "help": _help,
}


# --- replies by what was asked ----------------------------------------------------------------


def _on_answer(proc, state, inp, now) -> Result:
    step = proc.step(state.step_id)
    if step is None:  # the definition changed under a stored state
        return _restart(proc, state, now)
    parts = _postback_parts(inp)
    if parts and (len(parts) < 2 or parts[1] != step["id"] or parts[0] not in {"a", "t", "d", "s"}):
        return _reask(proc, state, now, _("That button belongs to an earlier message."))
    if (parts and parts[0] == "s") or _typed_key(inp) in SKIP_WORDS:
        return _skip(proc, state, step, now)
    ctx = _context(proc, state, now)
    kind = step_type(step["type"])
    try:
        value = kind.parse(step, inp, ctx)
        if isinstance(value, Partial):
            state.pending = value.value
            return _reask(proc, state, now)
        kind.validate(step, value, ctx)
    except InvalidAnswer as refused:
        return _reask(proc, state, now, localize(step.get("error"), state.lang) or refused.reason)
    return _store(proc, state, step, value, now)


def _store(proc, state, step, value, now) -> Result:
    state.answers[step["id"]] = value
    state.revision += 1
    state.pending = None
    if step["id"] not in state.history:
        state.history.append(step["id"])
    _drop_inapplicable(proc, state)
    if state.status == "editing":
        return _continue_editing(proc, state, now)
    return _proceed(proc, state, proc.index[step["id"]], now)


def _skip(proc, state, step, now) -> Result:
    if step.get("required", True):
        return _reask(proc, state, now, _("This question cannot be skipped."))
    if state.answers.pop(step["id"], None) is not None:
        state.revision += 1
    state.pending = None
    if step["id"] not in state.history:
        state.history.append(step["id"])
    _drop_inapplicable(proc, state)
    if state.status == "editing":
        return _continue_editing(proc, state, now)
    return _proceed(proc, state, proc.index[step["id"]], now)


def _on_confirm(proc, state, inp, now) -> Result:
    parts, key = _postback_parts(inp), _typed_key(inp)
    if parts[:2] == ["c", "submit"] or key in SUBMIT_WORDS:
        if parts and parts[2:] != [str(state.revision)]:
            return _reask(proc, state, now, _("Your answers have changed; please check again."))
        return _submit(proc, state)
    if parts[:2] == ["c", "edit"] or key in EDIT_WORDS:
        state.status, state.awaiting, state.step_id = "editing", "edit_pick", None
        return Result(state, [_edit_prompt(proc, state)])
    return _reask(proc, state, now, _("Please tap Submit to send, or Edit to change an answer."))


def _on_edit_pick(proc, state, inp, now) -> Result:
    parts, fields_ = _postback_parts(inp), _editable_fields(proc, state)
    chosen = None
    if parts[:1] == ["e"] and len(parts) == 2:
        chosen = next((step for step in fields_ if step["id"] == parts[1]), None)
    number = parsing.parse_integer(inp.text) if isinstance(inp, TextInput) else None
    if number is not None and 1 <= number <= len(fields_):
        chosen = fields_[number - 1]
    if chosen is None:
        return _reask(proc, state, now, _("Please choose the answer you want to change."))
    return _enter_question(proc, state, chosen, now)


def _on_resume(proc, state, inp, now) -> Result:
    parts, key = _postback_parts(inp), _typed_key(inp)
    if parts == ["r", "restart"]:
        return _restart(proc, state, now)
    if parts == ["r", "resume"] or key in RESUME_WORDS:
        state.resume_offered = False
        state.awaiting = _awaiting_for(state)
        return _reask(proc, state, now)
    return _reask(proc, state, now, _("Please choose whether to continue or start over."))


def _awaiting_for(state: ConversationState) -> str:
    if state.status == "confirming":
        return "confirm"
    if state.status == "editing" and state.step_id is None:
        return "edit_pick"
    return "answer"


_REPLY_HANDLERS: dict[str, Callable[..., Result]] = {
    "answer": _on_answer,
    "confirm": _on_confirm,
    "edit_pick": _on_edit_pick,
    "resume": _on_resume,
}


# --- expiry and finished conversations ---------------------------------------------------------


def _is_expired(state: ConversationState, now: datetime, idle_timeout: timedelta) -> bool:
    try:
        return now - datetime.fromisoformat(state.updated_at) > idle_timeout
    except (TypeError, ValueError):
        return True


def _expire(state: ConversationState, now: datetime) -> Result:
    state.status, state.awaiting, state.pending, state.resume_offered = "expired", "", None, False
    text = _(
        "This procedure was closed because there was no reply for a while. "
        "Please start again from the beginning."
    )
    return Result(state, [TextPrompt(text, (Choice(_("Start over"), postback("x", "restart")),))])


def _closed(proc, state, inp, now) -> Result:
    wants_restart = _command(inp) == "restart" or _postback_parts(inp) == ["r", "restart"]
    if wants_restart:
        return _restart(proc, state, now)
    text = _("This procedure has finished. To do it again, choose Start over.")
    return Result(state, [TextPrompt(text, (Choice(_("Start over"), postback("x", "restart")),))])
