"""Runs residents' conversations: routes each input to the right procedure and stores the result.

The engine (procedures.engine) is pure; this module gives it a memory. Every transport
calls ``resident_input`` with the Resident it identified: the LINE webhook (delivery,
through the resident's Friend) and the terminal ``chat`` command (a resident by handle).

An input goes through ``HANDLERS`` in order; the first that answers wins. What a step
type needs from the database (a reservation's slots, its booking at submit) and what a
procedure kind does after submit (a profile writes the resident's attributes) are hooks
in ``procedures.steptypes``: nothing here names a step type or a kind.
"""

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from govtech.models import Municipality
from govtech.services import ServiceError, audit_log
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.casework import chat as case_chat
from procedures.engine.steps import localize, parse_postback, postback
from procedures.languages import resident_override
from procedures.models import (
    OPEN_CONVERSATION_STATUSES,
    Conversation,
    DraftTrial,
    Procedure,
    ProcedureVersion,
    Submission,
)
from procedures.reservations import chat as reservation_chat
from procedures.residents import chat as resident_chat
from procedures.residents.models import Resident
from procedures.residents.registry import input_answerer
from procedures.selectors import live_procedures, procedure_for_keyword
from procedures.services import DocumentRejected, publishable_errors, submission_create
from procedures.steptypes import (
    SubmitRefused,
    availability_for,
    bound_steps,
    submit_effects_run,
)

MENU_LIMIT = 12  # quick replies allow 13; one place stays free for help


def idle_timeout() -> timedelta:
    return timedelta(minutes=getattr(settings, "CONVERSATION_IDLE_MINUTES", 24 * 60))


@dataclass
class Reply:
    """What to send back, and what happened (for the transport's logs and tests)."""

    prompts: list[engine.Prompt]
    conversation: Conversation | None = None
    submission: Submission | None = None
    notice: str = ""  # why the input was refused (engine.Result.notice); empty if taken


def start_postback(key: str) -> str:
    """Postback data of a button that starts procedure ``key`` (rich menu, menu choices)."""
    return postback("start", key)


def _started_key(inp: engine.Input) -> str | None:
    if isinstance(inp, engine.PostbackInput):
        parts = parse_postback(inp.data)
        if parts and len(parts) == 2 and parts[0] == "start":
            return parts[1]
    return None


def _open_conversation(resident: Resident) -> Conversation | None:
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("version")
        .filter(resident=resident, status__in=OPEN_CONVERSATION_STATUSES)
        .first()
    )


def _save(conversation: Conversation, result: engine.Result, now: datetime) -> None:
    conversation.state = result.state.to_dict()
    conversation.status = result.state.status
    conversation.updated_at = now
    conversation.save(update_fields=["state", "status", "updated_at"])


def _availability(definition: dict, now: datetime) -> dict:
    """What the definition's bound steps may offer (nothing to load for the others)."""
    return availability_for(definition.get("steps", []), now=now)


def _begin(
    municipality: Municipality,
    resident: Resident,
    version: ProcedureVersion,
    lang: str,
    now: datetime,
    is_test: bool,
    channel: str = "",
) -> Reply:
    result = engine.start(
        version.document, lang=lang, now=now, availability=_availability(version.document, now)
    )
    conversation = Conversation.objects.create(
        municipality=municipality,
        resident=resident,
        procedure_id=version.procedure_id,
        version=version,
        status=result.state.status,
        state=result.state.to_dict(),
        language=result.state.lang,
        is_test=is_test,
        channel=channel,
        updated_at=now,
    )
    return Reply(result.prompts, conversation)


def _menu(lang: str) -> Reply:
    """What a resident outside any procedure gets: the procedures they can start."""
    with resident_override(lang):
        choices = tuple(
            engine.Choice(
                localize(p.live_version.document.get("title"), lang)[:20],
                start_postback(p.key),
            )
            for p in live_procedures()[:MENU_LIMIT]
            if p.live_version is not None  # always: live_procedures() filters on it
        )
        text = (
            _("Please choose what you would like to do.")
            if choices
            else _("There are no procedures available in LINE yet.")
        )
    return Reply([engine.TextPrompt(text, choices)])


def _refused(
    conversation: Conversation, result: engine.Result, refused: SubmitRefused, now: datetime
) -> engine.Result:
    """A step's hold was refused (the slot filled meanwhile): say why and ask it again,
    with the binding's own choices first."""
    retry = engine.ask_again(
        conversation.definition,
        result.state,
        step_id=refused.step_id,
        reason=refused.reason,
        now=now,
        pending=refused.pending,
        availability=_availability(conversation.definition, now),
    )
    last = retry.prompts[-1] if retry.prompts else None
    if refused.choices and isinstance(last, engine.TextPrompt):
        others = tuple(choice for choice in last.choices if choice.data not in refused.replaces)
        retry.prompts[-1] = dataclasses.replace(last, choices=(*refused.choices, *others))
    return retry


def _submit(
    conversation: Conversation, outcome: engine.SubmitRequested, lang: str, now: datetime
) -> Submission:
    """Hold what bound steps ask for, store the submission, attach the holds, run the
    kind's submit effects: one savepoint, so a refusal (SubmitRefused) stores nothing."""
    with transaction.atomic():
        held = []
        for bound in bound_steps(conversation.definition):
            answer = outcome.answers.get(bound.step["id"])
            hold = bound.binding.hold(
                conversation=conversation, step=bound.step, answer=answer, lang=lang, now=now
            )
            held.append((bound.binding, hold))
        submission = submission_create(
            conversation=conversation, answers=outcome.answers, fee=outcome.fee, now=now
        )
        for binding, hold in held:
            binding.attach(held=hold, submission=submission)
        submit_effects_run(submission)
    return submission


def _finish(conversation: Conversation, result: engine.Result, now: datetime) -> Submission | None:
    """Store the submission; what bound steps hold (a reservation's places) is taken
    first, in the same savepoint.

    When a hold is refused (someone was faster), nothing is stored: the conversation goes
    back to that step with what the binding offers instead.
    """
    if not isinstance(result.outcome, engine.SubmitRequested):
        _save(conversation, result, now)
        return None
    if conversation.correcting_id is not None:
        return _finish_correction(conversation, result, now)
    try:
        submission = _submit(conversation, result.outcome, result.state.lang, now)
    except SubmitRefused as refused:
        retry = _refused(conversation, result, refused, now)
        result.state, result.prompts, result.outcome = retry.state, retry.prompts, None
        result.notice = retry.notice
        _save(conversation, result, now)
        return None
    _save(conversation, result, now)
    result.prompts.extend(
        engine.completion_prompts(conversation.definition, result.state, submission.reference)
    )
    return submission


def _finish_correction(
    conversation: Conversation, result: engine.Result, now: datetime
) -> Submission | None:
    """A correction conversation resubmits its submission (a new revision) instead of
    storing a new one; when the correction is no longer needed, it is closed as cancelled.
    Bound steps hold nothing again: a correction changes answers, not bookings."""
    assert isinstance(result.outcome, engine.SubmitRequested)  # noqa: S101 - checked by caller
    submission, prompts = case_chat.correction_finish(
        conversation=conversation, outcome=result.outcome, now=now
    )
    if submission is None:
        result.state.status, result.outcome = "cancelled", None
    _save(conversation, result, now)
    result.prompts.extend(prompts)
    return submission


@dataclass
class InputContext:
    """One resident input on its way through ``HANDLERS`` (inside the transaction, with
    the resident's open conversation locked)."""

    municipality: Municipality
    resident: Resident
    inp: engine.Input
    lang: str
    now: datetime
    is_test: bool
    conversation: Conversation | None
    channel: str = ""  # the transport the input came through: "line", "terminal"…


def language_choice(ctx: InputContext) -> Reply | None:
    """「Language / 言語」 and the language buttons (``procedures.residents.chat``), at any
    time: an open conversation is left as it is and goes on in the procedure's language."""
    prompts = resident_chat.handle(
        municipality=ctx.municipality, resident=ctx.resident, inp=ctx.inp
    )
    return Reply(prompts, ctx.conversation) if prompts is not None else None


def bookings_menu(ctx: InputContext) -> Reply | None:
    """「予約の確認」 and the booking postbacks (change, cancel, waitlist), outside any
    conversation, which is left as it is."""
    managed = reservation_chat.handle(
        resident=ctx.resident, inp=ctx.inp, lang=ctx.lang, now=ctx.now
    )
    return Reply(managed, ctx.conversation) if managed is not None else None


def casework(ctx: InputContext) -> Reply | None:
    """「申請状況」, the buttons about one's applications (open, 修正する, 取り下げる,
    返信する) and replies to a reviewer: ``procedures.casework.chat``."""
    handled = case_chat.handle(
        municipality=ctx.municipality,
        resident=ctx.resident,
        inp=ctx.inp,
        lang=ctx.lang,
        now=ctx.now,
        channel=ctx.channel,
        conversation=ctx.conversation,
    )
    if handled is None:
        return None
    prompts, conversation = handled
    return Reply(prompts, conversation)


def start_or_resume(ctx: InputContext) -> Reply | None:
    """A trigger keyword or a start button: start the procedure, or offer to resume the
    same one; another unfinished procedure is dropped. None when the input is neither."""
    key = _started_key(ctx.inp)
    if key is not None:
        procedure = live_procedures().filter(key=key).first()
    elif isinstance(ctx.inp, engine.TextInput):
        procedure = procedure_for_keyword(text=ctx.inp.text)
    else:
        return None
    # live_procedures() (also behind procedure_for_keyword) only yields a live_version.
    if procedure is None or procedure.live_version is None:
        return _menu(ctx.lang) if key is not None else None
    conversation = ctx.conversation
    if conversation is not None:
        same = conversation.procedure_id == procedure.pk and conversation.correcting_id is None
        if same and not conversation.is_test:
            return _resume(conversation, ctx.now)
        # The resident moved on to another procedure: the unfinished one is dropped.
        conversation.status = "cancelled"
        conversation.save(update_fields=["status"])
    return _begin(
        ctx.municipality,
        ctx.resident,
        procedure.live_version,
        ctx.lang,
        ctx.now,
        ctx.is_test,
        ctx.channel,
    )


def _resume(conversation: Conversation, now: datetime) -> Reply:
    state = engine.ConversationState.from_dict(conversation.state)
    result = engine.offer_resume(
        conversation.definition,
        state,
        now=now,
        idle_timeout=idle_timeout(),
        availability=_availability(conversation.definition, now),
    )
    _save(conversation, result, now)
    return Reply(result.prompts, conversation)


def continue_conversation(ctx: InputContext) -> Reply | None:
    """The engine takes the input as the next answer of the open conversation; at the
    end, the submission is stored. None when there is no conversation."""
    conversation = ctx.conversation
    if conversation is None:
        return None
    result = engine.advance(
        conversation.definition,
        engine.ConversationState.from_dict(conversation.state),
        ctx.inp,
        now=ctx.now,
        idle_timeout=idle_timeout(),
        availability=_availability(conversation.definition, ctx.now),
    )
    submission = _finish(conversation, result, ctx.now)
    return Reply(result.prompts, conversation, submission, result.notice)


def _answered_by(name: str) -> Callable[[InputContext], Reply | None]:
    """A handler asking the input answerer registered as ``name`` (by another app)."""

    def handler(ctx: InputContext) -> Reply | None:
        answerer = input_answerer(name)
        if answerer is None:
            return None
        prompts = answerer.answer(
            municipality=ctx.municipality,
            resident=ctx.resident,
            inp=ctx.inp,
            lang=ctx.lang,
            now=ctx.now,
        )
        return Reply(prompts, ctx.conversation) if prompts is not None else None

    handler.__name__ = name
    return handler


# A safety check's 無事 / 支援が必要 tap (disaster mode, in delivery): before anything
# else, so that an open conversation never takes it for an answer.
safety_check = _answered_by("safety_check")
# While disaster mode is on, a location or 「避難所」: the nearest shelters, open first.
shelter_guidance = _answered_by("shelter_guidance")
# A location (or a spot category) outside a conversation: the nearest spots.
spot_search = _answered_by("spot_search")
# Free text no keyword started: the FAQ's answer, or 「もしかして」.
faq = _answered_by("faq")


def fallback_menu(ctx: InputContext) -> Reply | None:
    """Anything else: the procedures the resident can start."""
    return _menu(ctx.lang)


# What a tester types in LINE to stop trying drafts (the published versions start again).
END_TRIAL_WORDS = frozenset({"テスト終了", "end test"})


def _trial_started(ctx: InputContext) -> DraftTrial | None:
    """The tester's open trial whose draft the input starts (a trigger keyword of the
    current draft, or its start button), if any."""
    key = _started_key(ctx.inp)
    typed = ctx.inp.text.strip() if isinstance(ctx.inp, engine.TextInput) else None
    trials = DraftTrial.objects.filter(resident=ctx.resident, ended_at__isnull=True)
    for trial in trials.select_related("procedure", "procedure__municipality"):
        draft = trial.procedure.draft
        keywords = (draft.get("triggers") or {}).get("keywords") or []
        if key == trial.procedure.key or (typed and typed in (k.strip() for k in keywords)):
            return trial
    return None


def draft_trial(ctx: InputContext) -> Reply | None:
    """A tester trying drafts in LINE: a trigger keyword of a draft under trial starts
    that draft (not the published version); 「テスト終了」 ends their trials. Only a test
    resident on a test identity gets here; everyone else goes on to the published ones."""
    if not (ctx.is_test and ctx.resident.is_test):
        return None
    if isinstance(ctx.inp, engine.TextInput) and ctx.inp.text.strip().lower() in END_TRIAL_WORDS:
        ended = _trials_end(DraftTrial.objects.filter(resident=ctx.resident), ctx.now)
        with resident_override(ctx.lang):
            text = (
                _("Testing has ended: keywords start the published procedures again.")
                if ended
                else _("You are not trying any draft.")
            )
        return Reply([engine.TextPrompt(text)])
    trial = _trial_started(ctx)
    if trial is None:
        return None
    try:
        return draft_test_start(
            actor=trial.started_by,
            procedure=trial.procedure,
            resident=ctx.resident,
            lang=ctx.lang,
            now=ctx.now,
        )
    except DocumentRejected:
        with resident_override(ctx.lang):
            text = _("The draft has problems to fix in the builder before it can be tried.")
        return Reply([engine.TextPrompt(text)], ctx.conversation)


def _trials_end(trials, now: datetime) -> int:
    """End the open ``trials`` and cancel their residents' open test conversations."""
    open_trials = list(trials.filter(ended_at__isnull=True))
    for trial in open_trials:
        Conversation.objects.filter(
            resident=trial.resident_id,
            procedure=trial.procedure_id,
            is_test=True,
            version__isnull=True,
            status__in=OPEN_CONVERSATION_STATUSES,
        ).update(status="cancelled")
    return trials.filter(pk__in=[t.pk for t in open_trials]).update(ended_at=now)


def draft_trial_open(*, actor, procedure, resident: Resident) -> DraftTrial:
    """Let a test resident's trigger keywords start ``procedure``'s draft from now on
    (until the trial ends). Idempotent. Raises ServiceError for a resident who is not a
    test resident: a draft never reaches anyone else."""
    if not resident.is_test:
        raise ServiceError(_("A draft can only be tried by a test resident."))
    with tenant_scope(procedure.municipality), transaction.atomic():
        trial = DraftTrial.objects.filter(
            resident=resident, procedure=procedure, ended_at__isnull=True
        ).first()
        if trial is None:
            trial = DraftTrial.objects.create(
                municipality=procedure.municipality,
                resident=resident,
                procedure=procedure,
                started_by=actor,
            )
    return trial


def draft_trials_opened(*, procedure, residents: list[Resident]) -> bool:
    """Whether any of ``residents`` is trying ``procedure``'s draft now."""
    with tenant_scope(procedure.municipality):
        trials = DraftTrial.objects.filter(procedure=procedure, resident__in=residents)
        return trials.filter(ended_at__isnull=True).exists()


def draft_trials_end(*, actor, procedure, residents: list[Resident]) -> int:
    """End the draft trials of ``procedure`` for ``residents`` (the staff member's
    testers) and cancel their open test conversations of it; how many ended. Audited."""
    with tenant_scope(procedure.municipality), transaction.atomic():
        trials = DraftTrial.objects.filter(procedure=procedure, resident__in=residents)
        ended = _trials_end(trials, timezone.now())
    audit_log(actor, "procedures.procedure.draft_trial_ended", procedure, {"ended": ended})
    return ended


# What happens to a resident's input, in order: the first handler that answers wins.
HANDLERS: tuple[Callable[[InputContext], Reply | None], ...] = (
    safety_check,
    language_choice,
    casework,
    bookings_menu,
    draft_trial,
    start_or_resume,
    continue_conversation,
    shelter_guidance,
    spot_search,
    faq,
    fallback_menu,
)


def draft_test_start(
    *, actor, procedure, resident: Resident, lang: str = "ja", now: datetime | None = None
) -> Reply:
    """Start a test conversation that runs the procedure's current draft, for a designer.

    The draft is frozen into the conversation, so later saves do not change a test in
    progress. The conversation and any submission are marked as tests. Raises
    DocumentRejected when the draft is not valid yet. Any open conversation of this
    (test) resident is dropped. A reservation step must book an active resource of the
    municipality, as for publishing (a test run never takes real places, but shows them).
    """
    if not resident.is_test:
        raise ServiceError(_("A draft can only be tried by a test resident."))
    errors = publishable_errors(procedure.draft, municipality=procedure.municipality)
    if errors:
        raise DocumentRejected(errors)
    now = now or timezone.now()
    municipality = procedure.municipality
    with transaction.atomic(), tenant_scope(municipality):
        previous = _open_conversation(resident)
        if previous is not None:
            previous.status = "cancelled"
            previous.save(update_fields=["status"])
        result = engine.start(
            procedure.draft, lang=lang, now=now, availability=_availability(procedure.draft, now)
        )
        conversation = Conversation.objects.create(
            municipality=municipality,
            resident=resident,
            procedure=procedure,
            test_document=copy.deepcopy(procedure.draft),
            status=result.state.status,
            state=result.state.to_dict(),
            language=result.state.lang,
            is_test=True,
            updated_at=now,
        )
    audit_log(actor, "procedures.procedure.draft_tested", procedure, {"resident": resident.pk})
    return Reply(result.prompts, conversation)


def procedure_begin(
    *,
    municipality: Municipality,
    resident: Resident,
    procedure: Procedure,
    lang: str = "ja",
    now: datetime | None = None,
    channel: str = "",
) -> Reply:
    """Start the live version of ``procedure`` for the resident, or keep their open
    conversation of it (a channel that shows the current question, such as the web form,
    needs no resume offer). Another open conversation is dropped, as in the chat. The
    procedure must be live (its ``live_version`` set)."""
    now = now or timezone.now()
    assert procedure.live_version is not None  # noqa: S101 - callers look up a live one
    with transaction.atomic(savepoint=False), tenant_scope(municipality):
        conversation = _open_conversation(resident)
        if conversation is not None:
            same = conversation.procedure_id == procedure.pk and conversation.correcting_id is None
            if same and not conversation.is_test:
                return Reply([], conversation)
            conversation.status = "cancelled"
            conversation.save(update_fields=["status"])
        return _begin(
            municipality, resident, procedure.live_version, lang, now, resident.is_test, channel
        )


def conversation_inputs(
    *,
    municipality: Municipality,
    resident: Resident,
    inputs: list[engine.Input],
    now: datetime | None = None,
    step_id: str | None = None,
) -> Reply:
    """Apply ``inputs`` in order to the resident's open conversation only: no menu,
    keyword, casework or FAQ handler sees them (a web page answers one question with
    one or more inputs, e.g. the ticks of a multi_choice then 決定). Stops at the first
    input the engine refuses (``Reply.notice``). With ``step_id`` (the step the page
    showed), nothing is applied when the conversation has moved on meanwhile (another
    tab): a typed answer never lands on another question. One transaction, the
    conversation row locked; a Reply without conversation when none is open."""
    now = now or timezone.now()
    with transaction.atomic(savepoint=False), tenant_scope(municipality):
        ctx = InputContext(municipality, resident, engine.TextInput(""), "", now, False, None)
        ctx.conversation = _open_conversation(resident)
        reply = Reply([], ctx.conversation)
        moved_on = ctx.conversation is not None and ctx.conversation.state.get("step_id")
        if step_id is not None and moved_on != step_id:
            return reply
        for inp in inputs:
            if (
                ctx.conversation is None
                or ctx.conversation.status not in OPEN_CONVERSATION_STATUSES
            ):
                break
            ctx.inp = inp
            reply = continue_conversation(ctx) or reply
            if reply.notice or reply.submission is not None:
                break
        return reply


def resident_input(
    *,
    municipality: Municipality,
    resident: Resident,
    inp: engine.Input,
    lang: str = "ja",
    now: datetime | None = None,
    is_test: bool = False,
    channel: str = "",
) -> Reply:
    """Apply one input from a resident and return what to send back.

    One transaction; the resident's open conversation row is locked, so inputs of one
    resident are applied one at a time even if two arrive together. Conversations stay on
    the version they started with, even when a newer one is published meanwhile.
    """
    now = now or timezone.now()
    # A transaction, not a savepoint: nothing here rolls back on its own. A caller that
    # wants one input's failure kept apart (delivery's event isolation) has its own.
    with transaction.atomic(savepoint=False), tenant_scope(municipality):
        ctx = InputContext(
            municipality,
            resident,
            inp,
            lang,
            now,
            is_test,
            _open_conversation(resident),
            channel,
        )
        # fallback_menu always answers, so one of them does.
        return next(reply for handler in HANDLERS if (reply := handler(ctx)) is not None)


__all__ = [
    "HANDLERS",
    "InputContext",
    "Reply",
    "conversation_inputs",
    "draft_test_start",
    "draft_trial_open",
    "draft_trials_end",
    "procedure_begin",
    "resident_input",
    "start_postback",
]
