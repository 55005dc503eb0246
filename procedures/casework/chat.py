"""The resident's side of casework in the chat: 「申請状況」, one application's answers,
修正する (a correction conversation), 取り下げる, and replies to a reviewer's message.

Buttons carry ``gt|case|<action>|<submission id>`` and are checked again when tapped:
a submission that is not the resident's own is "not found", exactly as a missing one,
so a forged postback reveals nothing. Outside 修正する, the resident's open
conversation is left as it is.

Replies are explicit. Tapping 返信する opens a reply window on the Resident
(``replying_to``, ``replying_until``, ``REPLY_WINDOW``): their next text or photo goes
to the reviewer (``case_reply_receive``) and closes it. Not "any text after a reviewer's
message", because residents also type keywords and answers to open procedures; a
keyword (of a procedure, of bookings or of 「申請状況」), any button, やめる or the end
of the window closes it without sending anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from govtech.models import Municipality
from procedures import engine
from procedures.casework import workflow
from procedures.casework.answers import answer_rows, step_labels
from procedures.casework.models import CaseEvent, CorrectionRequest, CorrectionStatus
from procedures.casework.postbacks import case_postback, parse_case_postback
from procedures.casework.selectors import resident_submissions
from procedures.casework.services import (
    CaseRefused,
    case_reply_receive,
    case_resubmit,
    case_withdraw,
)
from procedures.engine import parsing
from procedures.engine.steps import localize
from procedures.languages import resident_override
from procedures.models import Conversation, ResidentUpload, Submission
from procedures.reservations.chat import LIST_WORDS as BOOKING_WORDS
from procedures.reservations.schedule import TOKYO
from procedures.residents.models import Resident
from procedures.selectors import procedure_for_keyword
from procedures.steptypes import availability_for

# What a resident types to see their applications (compared after parsing.normalize_key).
LIST_WORDS = frozenset({"申請状況", "申請の状況", "myapplications", "applications", "status"})
LIST_LIMIT = 10  # a Flex carousel holds 12 bubbles; ten applications are plenty to scan
REPLY_WINDOW = timedelta(minutes=30)
# Typed while a reply window is open: the reply is not sent (the engine's cancel words).
REPLY_CANCEL_WORDS = frozenset({"やめる", "止める", "キャンセル", "中止", "cancel", "quit", "stop"})
LAST_MESSAGE_LIMIT = 120  # characters of the last message shown on a card

CaseReply = tuple[list[engine.Prompt], Conversation | None]


def handle(
    *,
    municipality: Municipality,
    resident: Resident,
    inp: engine.Input,
    lang: str,
    now: datetime,
    channel: str,
    conversation: Conversation | None,
) -> CaseReply | None:
    """Prompts (and the conversation to report) for a casework input; None when the
    input is not one (a closed reply window is closed on the way)."""
    with resident_override(lang):
        if _replying(resident, now):
            replied = _reply_or_close(resident, inp, now)
            if replied is not None:
                return replied, conversation
        if _is_list_word(inp):
            return _list(resident, lang), conversation
        parsed = parse_case_postback(inp.data) if isinstance(inp, engine.PostbackInput) else None
        if parsed is None:
            return None
        action, submission_id = parsed
        if action == "list":
            return _list(resident, lang), conversation
        submission = _own_submission(resident, submission_id)
        if submission is None:
            return [engine.TextPrompt(_("We could not find that application."))], conversation
        if action == "fix":
            return _fix(municipality, resident, submission, lang, now, channel, conversation)
        return _ACTIONS[action](resident, submission, lang, now), conversation


def _is_list_word(inp: engine.Input) -> bool:
    return isinstance(inp, engine.TextInput) and parsing.normalize_key(inp.text) in LIST_WORDS


def _own_submission(resident: Resident, submission_id: int | None) -> Submission | None:
    if submission_id is None:
        return None
    return (
        Submission.objects.filter(pk=submission_id, resident=resident, is_test=False)
        .select_related("procedure", "version")
        .first()
    )


def _title(submission: Submission, lang: str) -> str:
    return localize(submission.definition.get("title"), lang, submission.procedure.key)


def _named(submission: Submission, lang: str) -> dict[str, str]:
    return {"procedure": _title(submission, lang), "reference": submission.reference}


def _open_correction(submission: Submission) -> CorrectionRequest | None:
    return submission.corrections.filter(status=CorrectionStatus.OPEN).first()


def _withdrawable(submission: Submission) -> bool:
    return (
        submission.status in workflow.WITHDRAWABLE
        and workflow.workflow_for(submission.procedure).allow_withdraw
    )


def _buttons(
    submission: Submission, *, correcting: bool, details: bool = True
) -> tuple[engine.Choice, ...]:
    """内容を見る (unless the details are shown), 修正する, 取り下げる: what applies."""
    buttons = []
    if details:
        buttons.append(engine.Choice(_("See details"), case_postback("open", submission.pk)))
    if correcting:
        buttons.append(engine.Choice(_("Correct"), case_postback("fix", submission.pk)))
    if _withdrawable(submission):
        buttons.append(engine.Choice(_("Withdraw"), case_postback("withdraw", submission.pk)))
    return tuple(buttons)


# --- 「申請状況」 -----------------------------------------------------------------------------


def _list(resident: Resident, lang: str) -> list[engine.Prompt]:
    """The resident's applications, newest first, one card each: a constant number of
    queries whatever their number."""
    submissions = resident_submissions(resident_id=resident.pk, limit=LIST_LIMIT)
    prefetch_related_objects(submissions, "procedure__workflow")  # one query, not one a card
    if not submissions:
        return [engine.TextPrompt(_("You have not sent any applications yet."))]
    ids = [submission.pk for submission in submissions]
    last = _last_messages(ids)
    correcting = set(
        CorrectionRequest.objects.filter(
            submission_id__in=ids, status=CorrectionStatus.OPEN
        ).values_list("submission_id", flat=True)
    )
    cards = tuple(
        engine.Card(
            _title(submission, lang),
            _card_lines(submission, last.get(submission.pk, "")),
            _buttons(submission, correcting=submission.pk in correcting),
        )
        for submission in submissions
    )
    return [engine.CardsPrompt(_("Your applications (newest first)"), cards)]


def _last_messages(submission_ids: Iterable[int]) -> dict[int, str]:
    """The text of the last message each submission's resident was sent about it."""
    events = (
        CaseEvent.objects.filter(submission_id__in=list(submission_ids), notice__isnull=False)
        .select_related("notice")
        .order_by("created_at", "pk")
    )
    last: dict[int, str] = {}
    for event in events:
        prompts = event.notice.prompts if event.notice else []
        text = str(prompts[0].get("text") or prompts[0].get("title") or "") if prompts else ""
        if text:
            last[event.submission_id] = text
    return last


def _short(text: str, limit: int = LAST_MESSAGE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _card_lines(submission: Submission, last_message: str) -> tuple[str, ...]:
    submitted = timezone.localtime(submission.submitted_at, TOKYO).strftime("%Y-%m-%d")
    lines = [
        _("Reference: %(reference)s") % {"reference": submission.reference},
        _("Status: %(status)s")
        % {"status": workflow.status_label(submission.status, workflow.kind_of(submission))},
        _("Sent: %(date)s") % {"date": submitted},
    ]
    if last_message:
        lines.append(_("Last message: %(text)s") % {"text": _short(last_message)})
    return tuple(lines)


# --- one application ---------------------------------------------------------------------


def status_lines(submission: Submission, lang: str, *, last_message: bool = False) -> list[str]:
    """What 「申請状況」 says about one application: reference, status, date sent (and the
    last message sent about it), what to correct by when. The web form's status page
    shows the same lines, so both channels word a status alike."""
    with resident_override(lang):
        last = _last_messages([submission.pk]).get(submission.pk, "") if last_message else ""
        lines = list(_card_lines(submission, last))
        request = _open_correction(submission)
        if request is not None:
            lines += _correction_lines(submission, request, lang)
    return lines


def _open(resident: Resident, submission: Submission, lang: str, now: datetime):
    """The application's answers as the resident gave them, its status, what to correct."""
    request = _open_correction(submission)
    lines = status_lines(submission, lang)
    lines += [
        f"{row.label}: {_short(row.text, 200)}"
        for row in answer_rows(submission.definition, submission.answers, lang=lang)
    ]
    buttons = _buttons(submission, correcting=request is not None, details=False)
    card = engine.Card(_title(submission, lang), tuple(lines), buttons)
    back = engine.Choice(_("My applications"), case_postback("list"))
    return [
        engine.CardsPrompt(
            _("Your application %(reference)s") % _named(submission, lang), (card,), (back,)
        )
    ]


def _correction_lines(submission: Submission, request: CorrectionRequest, lang: str) -> list[str]:
    labels = step_labels(submission.definition, lang)
    deadline = timezone.localtime(request.deadline, TOKYO).strftime("%Y-%m-%d %H:%M")
    return [
        _("To correct: %(fields)s")
        % {"fields": "、".join(labels.get(f, f) for f in request.fields)},
        _("Reason: %(reason)s") % {"reason": request.reason},
        _("Please correct it by %(deadline)s.") % {"deadline": deadline},
    ]


# --- 取り下げる --------------------------------------------------------------------------------


def _withdraw(resident: Resident, submission: Submission, lang: str, now: datetime):
    if not _withdrawable(submission):
        return [engine.TextPrompt(_("This application cannot be withdrawn."))]
    question = _(
        "Withdraw your application “%(procedure)s” (reference %(reference)s)? "
        "It will no longer be processed."
    )
    choices = (
        engine.Choice(_("Yes"), case_postback("withdraw-yes", submission.pk)),
        engine.Choice(_("No"), case_postback("open", submission.pk)),
    )
    return [engine.TextPrompt(question % _named(submission, lang), choices)]


def _withdraw_yes(resident: Resident, submission: Submission, lang: str, now: datetime):
    try:
        case_withdraw(resident=resident, submission=submission, now=now)
    except CaseRefused as refused:
        return [engine.TextPrompt(str(refused))]
    done = _("Your application “%(procedure)s” (reference %(reference)s) has been withdrawn.")
    return [engine.TextPrompt(done % _named(submission, lang))]


# --- 返信する ----------------------------------------------------------------------------------


def _reply(resident: Resident, submission: Submission, lang: str, now: datetime):
    """Open the reply window: the next text or photo goes to the reviewer."""
    resident.replying_to, resident.replying_until = submission, now + REPLY_WINDOW
    resident.save(update_fields=["replying_to", "replying_until"])
    text = _(
        "Please write your reply about “%(procedure)s” (reference %(reference)s). "
        "You can also send a photo. To cancel, type やめる."
    )
    return [engine.TextPrompt(text % _named(submission, lang))]


def _replying(resident: Resident, now: datetime) -> bool:
    return bool(
        resident.replying_to_id and resident.replying_until and resident.replying_until > now
    )


def _close_window(resident: Resident) -> None:
    resident.replying_to, resident.replying_until = None, None
    resident.save(update_fields=["replying_to", "replying_until"])


def _reply_or_close(resident: Resident, inp: engine.Input, now: datetime):
    """The reply, sent on; or None (window closed) for a keyword, a button or anything
    else that is not a message to the reviewer."""
    submission = resident.replying_to
    _close_window(resident)
    if submission is None:
        return None
    if isinstance(inp, engine.TextInput) and _is_keyword(inp.text):
        if parsing.normalize_key(inp.text) in REPLY_CANCEL_WORDS:
            return [engine.TextPrompt(_("Your reply was not sent."))]
        return None
    if isinstance(inp, engine.TextInput):
        case_reply_receive(submission=submission, text=inp.text, now=now)
    elif isinstance(inp, engine.ImageInput):
        upload = _resident_upload(resident, inp.ref)
        text = "" if upload is not None else _("(a photo)")
        case_reply_receive(submission=submission, text=text, upload=upload, now=now)
    else:
        return None
    return [engine.TextPrompt(_("Sent to the person in charge."))]


def _is_keyword(text: str) -> bool:
    key = parsing.normalize_key(text)
    words = LIST_WORDS | BOOKING_WORDS | REPLY_CANCEL_WORDS
    return key in words or procedure_for_keyword(text=text) is not None


def _resident_upload(resident: Resident, ref: str) -> ResidentUpload | None:
    try:
        upload_id = uuid.UUID(ref)
    except ValueError:
        return None  # not a stored upload (the terminal's placeholder photo)
    return ResidentUpload.objects.filter(pk=upload_id, resident=resident).first()


_ACTIONS = {
    "open": _open,
    "withdraw": _withdraw,
    "withdraw-yes": _withdraw_yes,
    "reply": _reply,
}


# --- 修正する --------------------------------------------------------------------------------


def _fix(
    municipality: Municipality,
    resident: Resident,
    submission: Submission,
    lang: str,
    now: datetime,
    channel: str,
    conversation: Conversation | None,
) -> CaseReply:
    """A conversation on the submission's pinned version asking only the fields of its
    open correction request; any other unfinished conversation is dropped."""
    request = _open_correction(submission)
    if request is None or submission.version is None:
        text = _("There is nothing to correct in this application any more.")
        return [engine.TextPrompt(text)], conversation
    if conversation is not None and conversation.correcting_id == request.pk:
        return _offer_resume(conversation, now), conversation
    if conversation is not None:  # the resident moved on: the unfinished one is dropped
        conversation.status = "cancelled"
        conversation.save(update_fields=["status"])
    document = submission.version.document
    result = engine.correct(
        document,
        submission.answers,
        fields=list(request.fields),
        lang=lang,
        now=now,
        availability=availability_for(document.get("steps", []), now=now),
    )
    correction = Conversation.objects.create(
        municipality=municipality,
        resident=resident,
        procedure_id=submission.procedure_id,
        version=submission.version,
        status=result.state.status,
        state=result.state.to_dict(),
        language=result.state.lang,
        channel=channel,
        correcting=request,
        updated_at=now,
    )
    with resident_override(resident.language):
        intro = _correction_intro(submission, request, result.state.lang)
    return [intro, *result.prompts], correction


def _offer_resume(conversation: Conversation, now: datetime) -> list[engine.Prompt]:
    """修正する tapped again during the same correction: continue it or start it again."""
    document = conversation.definition
    result = engine.offer_resume(
        document,
        engine.ConversationState.from_dict(conversation.state),
        now=now,
        # As procedures.runtime.idle_timeout (which imports this module).
        idle_timeout=timedelta(minutes=getattr(settings, "CONVERSATION_IDLE_MINUTES", 24 * 60)),
        availability=availability_for(document.get("steps", []), now=now),
    )
    conversation.state, conversation.status = result.state.to_dict(), result.state.status
    conversation.updated_at = now
    conversation.save(update_fields=["state", "status", "updated_at"])
    return result.prompts


def _correction_intro(
    submission: Submission, request: CorrectionRequest, lang: str
) -> engine.Prompt:
    first = _("Let's correct your application “%(procedure)s” (reference %(reference)s).")
    lines = [first % _named(submission, lang), *_correction_lines(submission, request, lang)]
    return engine.TextPrompt("\n".join(lines))


def correction_finish(
    *, conversation: Conversation, outcome: engine.SubmitRequested, now: datetime
) -> tuple[Submission | None, list[engine.Prompt]]:
    """Resubmit a correction conversation's answers (``case_resubmit``): the submission
    and 「修正を受け付けました」, or None and why when the correction is no longer needed
    (the reviewer took the request back, or it was corrected from another device)."""
    with resident_override(conversation.resident.language):
        try:
            submission = case_resubmit(
                conversation=conversation, answers=outcome.answers, fee=outcome.fee, now=now
            )
        except CaseRefused:
            text = _("This correction is no longer needed; nothing was changed.")
            return None, [engine.TextPrompt(text)]
        done = _("Your correction has been received (reference %(reference)s).")
        return submission, [engine.CompletionPrompt(done % {"reference": submission.reference})]
