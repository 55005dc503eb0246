"""Runs residents' conversations: routes each input to the right procedure and stores the result.

The engine (procedures.engine) is pure; this module gives it a memory. Every transport
calls ``resident_input`` with the Resident it identified: the LINE webhook (delivery,
through the resident's Friend) and the terminal ``chat`` command (a resident by handle).
"""

import copy
import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from govtech.models import Municipality
from govtech.services import audit_log
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.engine.steps import ReservationStep, localize, parse_postback, postback
from procedures.models import (
    OPEN_CONVERSATION_STATUSES,
    Conversation,
    ProcedureVersion,
    Submission,
)
from procedures.reservations import chat as reservation_chat
from procedures.reservations.selectors import engine_availability
from procedures.reservations.services import (
    BookingRefused,
    BookingRequest,
    SlotFull,
    booking_attach_submission,
    booking_create,
)
from procedures.residents.models import Resident
from procedures.selectors import live_procedures, procedure_for_keyword
from procedures.services import DocumentRejected, publishable_errors, submission_create

MENU_LIMIT = 12  # quick replies allow 13; one place stays free for help


def idle_timeout() -> timedelta:
    return timedelta(minutes=getattr(settings, "CONVERSATION_IDLE_MINUTES", 24 * 60))


@dataclass
class Reply:
    """What to send back, and what happened (for the transport's logs and tests)."""

    prompts: list[engine.Prompt]
    conversation: Conversation | None = None
    submission: Submission | None = None


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


def _reservation_steps(definition: dict) -> list[dict]:
    return [step for step in definition.get("steps", []) if step.get("type") == "reservation"]


def _availability(definition: dict, now: datetime) -> dict:
    """What the definition's reservation steps may offer (nothing to load for others)."""
    keys = [step["resource"] for step in _reservation_steps(definition)]
    return engine_availability(keys=keys, now=now) if keys else {}


def _begin(
    municipality: Municipality,
    resident: Resident,
    version: ProcedureVersion,
    lang: str,
    now: datetime,
    is_test: bool,
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
        updated_at=now,
    )
    return Reply(result.prompts, conversation)


def _menu(lang: str) -> Reply:
    """What a resident outside any procedure gets: the procedures they can start."""
    with override(lang):
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


def _book(conversation: Conversation, answers: dict, now: datetime) -> list:
    """Take the places the answers ask for (raises BookingRefused / SlotFull)."""
    bookings = []
    for step in _reservation_steps(conversation.definition):
        answer = answers.get(step["id"])
        if not isinstance(answer, dict) or conversation.is_test:
            continue  # a designer's test run never takes real places
        resource = reservation_chat.resource_or_refuse(key=step["resource"])
        request = BookingRequest(
            resource=resource,
            starts_at=datetime.fromisoformat(answer["start"]),
            party_size=int(answer.get("party_size", 1)),
            resident=conversation.resident,
        )
        bookings.append(booking_create(request=request, now=now))
    return bookings


def _refused(
    conversation: Conversation, result: engine.Result, refused: BookingRefused, now: datetime
) -> engine.Result:
    """The slot filled meanwhile: say so, list the nearest free slots, ask the step again."""
    step = _reservation_steps(conversation.definition)[0]
    answer = result.state.answers.get(step["id"]) or {}
    alternatives = refused.alternatives if isinstance(refused, SlotFull) else []
    with override(result.state.lang):
        reason = reservation_chat.refusal_text(str(refused), alternatives)
    retry = engine.ask_again(
        conversation.definition,
        result.state,
        step_id=step["id"],
        reason=reason,
        now=now,
        pending={"date": answer["start"][:10]} if answer.get("start") else None,
        availability=_availability(conversation.definition, now),
    )
    last = retry.prompts[-1] if retry.prompts else None
    if answer.get("start") and isinstance(last, engine.TextPrompt):
        with override(result.state.lang):
            wait = reservation_chat.waitlist_choice(
                step["resource"], answer["start"], int(answer.get("party_size", 1))
            )
        # The slot list offers the full slot's waitlist too; this button (with the party
        # size already chosen) replaces it.
        listed = ReservationStep.pick_full_slot_data(step["id"], answer["start"])
        others = tuple(choice for choice in last.choices if choice.data != listed)
        retry.prompts[-1] = dataclasses.replace(last, choices=(wait, *others))
    return retry


def _finish(conversation: Conversation, result: engine.Result, now: datetime) -> Submission | None:
    """Store the submission; for reservations take the places first, in the same savepoint.

    When a place is gone (someone was faster), nothing is stored: the conversation goes
    back to the reservation step with the nearest alternatives.
    """
    if not isinstance(result.outcome, engine.SubmitRequested):
        _save(conversation, result, now)
        return None
    try:
        with transaction.atomic():
            bookings = _book(conversation, result.outcome.answers, now)
            submission = submission_create(
                conversation=conversation,
                answers=result.outcome.answers,
                fee=result.outcome.fee,
                now=now,
            )
            for booking in bookings:
                booking_attach_submission(booking=booking, submission=submission)
    except BookingRefused as refused:
        retry = _refused(conversation, result, refused, now)
        result.state, result.prompts, result.outcome = retry.state, retry.prompts, None
        _save(conversation, result, now)
        return None
    _save(conversation, result, now)
    result.prompts.extend(
        engine.completion_prompts(conversation.definition, result.state, submission.reference)
    )
    return submission


def _route_start(
    municipality: Municipality,
    resident: Resident,
    inp: engine.Input,
    conversation: Conversation | None,
    lang: str,
    now: datetime,
    is_test: bool,
) -> Reply | None:
    """Handle a trigger keyword or a start button; None when the input is neither."""
    key = _started_key(inp)
    if key is not None:
        procedure = next((p for p in live_procedures() if p.key == key), None)
    elif isinstance(inp, engine.TextInput):
        procedure = procedure_for_keyword(text=inp.text)
    else:
        return None
    # live_procedures() (also behind procedure_for_keyword) only yields a live_version.
    if procedure is None or procedure.live_version is None:
        return _menu(lang) if key is not None else None
    if conversation is not None:
        if conversation.procedure_id == procedure.pk and not conversation.is_test:
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
        # The resident moved on to another procedure: the unfinished one is dropped.
        conversation.status = "cancelled"
        conversation.save(update_fields=["status"])
    return _begin(municipality, resident, procedure.live_version, lang, now, is_test)


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


def resident_input(
    *,
    municipality: Municipality,
    resident: Resident,
    inp: engine.Input,
    lang: str = "ja",
    now: datetime | None = None,
    is_test: bool = False,
) -> Reply:
    """Apply one input from a resident and return what to send back.

    One transaction; the resident's open conversation row is locked, so inputs of one
    resident are applied one at a time even if two arrive together. Conversations stay on
    the version they started with, even when a newer one is published meanwhile.
    """
    now = now or timezone.now()
    with transaction.atomic(), tenant_scope(municipality):
        conversation = _open_conversation(resident)
        managed = reservation_chat.handle(resident=resident, inp=inp, lang=lang, now=now)
        if managed is not None:
            return Reply(managed, conversation)
        routed = _route_start(municipality, resident, inp, conversation, lang, now, is_test)
        if routed is not None:
            return routed
        if conversation is None:
            return _menu(lang)
        state = engine.ConversationState.from_dict(conversation.state)
        result = engine.advance(
            conversation.definition,
            state,
            inp,
            now=now,
            idle_timeout=idle_timeout(),
            availability=_availability(conversation.definition, now),
        )
        submission = _finish(conversation, result, now)
        return Reply(result.prompts, conversation, submission)


__all__ = ["Reply", "draft_test_start", "resident_input", "start_postback"]
