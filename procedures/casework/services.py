"""Casework writes: what reviewers do to a submission and what residents answer.

Every service locks the submission row once (``select_for_update``), checks the
workflow, writes one ``CaseEvent`` for the timeline, audits what staff did and, when the
resident is to be told, writes the notice into the outbox in the same transaction
(``resident_notify``; sent after commit, once per event). A service called twice for the
same click (a double submit) finds the status already changed and refuses the second:
``expected`` is the status the reviewer saw.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from govtech.models import User
from govtech.services import ServiceError, audit_log
from procedures import engine
from procedures.casework import workflow
from procedures.casework.answers import answer_rows, changed_fields, question_steps, step_labels
from procedures.casework.models import (
    CaseEvent,
    CaseEventKind,
    CorrectionRequest,
    CorrectionStatus,
    ProcedureWorkflow,
    SubmissionRevision,
)
from procedures.casework.postbacks import case_postback
from procedures.engine.steps import localize
from procedures.incidents.services import report_status_follow
from procedures.languages import resident_override
from procedures.models import Conversation, Procedure, ResidentUpload, Submission
from procedures.residents.models import Notice, Resident
from procedures.residents.services import resident_notify


class CaseRefused(ServiceError):
    """The workflow does not allow it (or the submission changed meanwhile)."""


# --- helpers ---------------------------------------------------------------------------


def _lock(submission: Submission) -> Submission:
    return (
        Submission.objects.select_for_update(of=("self",))
        .select_related("procedure", "resident", "version", "report")
        .get(pk=submission.pk)
    )


def _event(
    submission: Submission,
    kind: str,
    *,
    actor: User | None,
    now: datetime,
    data: Mapping[str, Any] | None = None,
) -> CaseEvent:
    return CaseEvent.objects.create(
        municipality_id=submission.municipality_id,
        submission=submission,
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        data=dict(data or {}),
        created_at=now,
    )


def _touch(submission: Submission, now: datetime, *fields: str) -> None:
    submission.last_activity_at = now
    submission.save(update_fields=[*fields, "last_activity_at"])


def _check_expected(submission: Submission, expected: str | None) -> None:
    if expected is not None and submission.status != expected:
        raise CaseRefused(
            _("This submission was changed meanwhile (it is now “%(status)s”). Please reload.")
            % {"status": submission.get_status_display()}
        )


def _procedure_title(submission: Submission, lang: str) -> str:
    return localize(submission.definition.get("title"), lang, submission.procedure.key)


def _tell(submission: Submission, event: CaseEvent, prompts: list[engine.Prompt]) -> Notice | None:
    """Write the notice of ``event`` to the outbox (once per event) and link it."""
    notice = resident_notify(
        resident=submission.resident,
        prompts=prompts,
        once_key=f"case:{submission.pk}:event:{event.pk}",
    )
    if notice is not None:
        event.notice = notice
        event.save(update_fields=["notice"])
    return notice


def _open_button(submission: Submission) -> engine.Choice:
    # Translators: residents read this.
    report = _("See this report")
    # Translators: residents read this.
    application = _("See this application")
    label = report if workflow.kind_of(submission) else application
    return engine.Choice(label, case_postback("open", submission.pk))


# --- opening a case --------------------------------------------------------------------------


def submission_uploads_attach(*, submission: Submission, answers: Mapping[str, Any]) -> None:
    """Attach the resident's not yet attached uploads that ``answers`` refer to."""
    refs = []
    for value in answers.values():
        if isinstance(value, dict) and "content_type" in value:
            try:
                refs.append(uuid.UUID(str(value.get("ref"))))
            except ValueError:
                continue  # not one of our uploads
    ResidentUpload.objects.filter(
        pk__in=refs, resident_id=submission.resident_id, submission__isnull=True
    ).update(submission=submission)


def search_text_of(submission: Submission, answers: Mapping[str, Any]) -> str:
    """What the inbox's text filter looks in: reference, resident name, answers as text."""
    rows = answer_rows(submission.definition, answers, lang="ja")
    parts = [submission.reference, submission.resident.display_name, *(row.text for row in rows)]
    return "\n".join(part for part in parts if part)[:20000]


def case_open(*, submission: Submission, now: datetime) -> None:
    """A new submission becomes a case: revision 1, the 'submitted' event, its due date
    (the procedure's target days) and search text. Called by ``submission_create`` in its
    transaction."""
    flow = workflow.workflow_for(submission.procedure)
    SubmissionRevision.objects.create(
        municipality_id=submission.municipality_id,
        submission=submission,
        number=1,
        answers=submission.answers,
        fee=submission.fee,
        created_at=now,
    )
    _event(submission, CaseEventKind.SUBMITTED, actor=None, now=now)
    if flow.target_days:
        submission.due_at = now + timedelta(days=flow.target_days)
    submission.search_text = search_text_of(submission, submission.answers)
    _touch(submission, now, "due_at", "search_text")


# --- staff actions -------------------------------------------------------------------------------


def case_transition(
    *,
    actor: User | None,
    submission: Submission,
    to: str,
    reason: str = "",
    notify: bool = True,
    expected: str | None = None,
    now: datetime | None = None,
    attachments: Sequence[engine.Prompt] = (),
    via: Mapping[str, Any] | None = None,
) -> CaseEvent:
    """Move ``submission`` to status ``to`` as the workflow allows, telling the resident
    the procedure's message for ``to`` (unless ``notify`` is off or it has none), followed
    by ``attachments`` (e.g. a report's "after" photo; sent even without a message). A
    report's status also closes or reopens the report (``report_status_follow``).

    Raises CaseRefused for a transition the workflow does not allow, a missing reason
    (却下), 返戻 (that is ``case_request_correction``), or a status that changed since the
    reviewer saw ``expected``. A returned submission taken back cancels its open request.
    Incident reports merged into this one take the same status, and their reporters get
    the message too. ``via`` says who acted when no staff member did (a back-office API
    token: ``{"api_token": id, "label": …}``); it goes into the event and the audit entry.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(submission)
        _check_expected(locked, expected)
        flow, kind = workflow.workflow_for(locked.procedure), workflow.kind_of(locked)
        if to == workflow.RETURNED:
            raise CaseRefused(_("To return a submission, choose the fields to correct."))
        if to not in workflow.next_statuses(flow, locked.status, kind):
            raise CaseRefused(
                _("A submission that is “%(status)s” cannot be moved to that status.")
                % {"status": workflow.status_label(locked.status, kind)}
            )
        if to in workflow.REASON_REQUIRED and not reason.strip():
            raise CaseRefused(_("Please write the reason; the resident will read it."))
        previous, locked.status = locked.status, to
        if previous == workflow.RETURNED:
            _cancel_corrections(locked)
        _touch(locked, now, "status", "correction_due_at")
        event = _event(
            locked,
            CaseEventKind.STATUS,
            actor=actor,
            now=now,
            data={"from": previous, "to": to, "reason": reason.strip(), **_via(via)},
        )
        if notify:
            _tell_status(locked, event, flow, to, reason.strip(), attachments)
        _merged_reports_follow(
            locked,
            actor=actor,
            to=to,
            reason=reason.strip(),
            notify=notify,
            now=now,
            attachments=attachments,
        )
        report_status_follow(submission=locked, status=to, now=now)
        audit_log(
            actor,
            "procedures.submission.status_changed",
            locked,
            {
                "from": previous,
                "to": to,
                "reason": reason.strip(),
                "notified": bool(event.notice_id),
                **_via(via),
            },
            actor_label=str((via or {}).get("label", "")),
        )
    submission.status = to
    return event


def _via(via: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"via": dict(via)} if via else {}


def _merged_reports_follow(
    main: Submission,
    *,
    actor: User | None,
    to: str,
    reason: str,
    notify: bool,
    now: datetime,
    attachments: Sequence[engine.Prompt] = (),
) -> None:
    """Incident reports merged into ``main`` (``procedures.incidents.duplicates``) take its
    new status (closed with it), each with its own event, and each reporter gets their
    procedure's message for it, with the same after photo. Nothing for a submission that
    is not a report: no query then."""
    if main.definition.get("kind") != "report":
        return
    followers = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("procedure", "resident", "version")
        .filter(report__merged_into__submission=main)
        .order_by("pk")
    )
    for follower in followers:
        previous, follower.status = follower.status, to
        if previous == workflow.RETURNED:
            _cancel_corrections(follower)
        _touch(follower, now, "status", "correction_due_at")
        data = {"from": previous, "to": to, "reason": reason, "main": main.reference}
        event = _event(follower, CaseEventKind.STATUS, actor=actor, now=now, data=data)
        report_status_follow(submission=follower, status=to, now=now)
        if notify:
            flow = workflow.workflow_for(follower.procedure)
            _tell_status(follower, event, flow, to, reason, attachments)


def _cancel_corrections(submission: Submission) -> None:
    submission.corrections.filter(status=CorrectionStatus.OPEN).update(
        status=CorrectionStatus.CANCELLED
    )
    submission.correction_due_at = None


def _tell_status(
    submission: Submission,
    event: CaseEvent,
    flow,
    to: str,
    reason: str,
    attachments: Sequence[engine.Prompt] = (),
) -> None:
    lang = submission.resident.language
    text = workflow.status_text(
        flow,
        to,
        lang=lang,
        reference=submission.reference,
        procedure=_procedure_title(submission, lang),
        reason=reason,
        kind=workflow.kind_of(submission),
    )
    # The photo before the text: quick replies (the button) show on the last message only.
    prompts: list[engine.Prompt] = list(attachments)
    if text:
        with resident_override(lang):
            prompts.append(engine.TextPrompt(text, (_open_button(submission),)))
    if prompts:
        _tell(submission, event, prompts)


def case_assign(
    *, actor: User, submission: Submission, assignee: User | None, now: datetime | None = None
) -> CaseEvent | None:
    """Make ``assignee`` (or nobody) responsible for the submission. ``assignee`` must be
    able to review it (see ``procedures.casework.selectors.assignable_staff``); the caller
    checks. None when nothing changes."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(submission)
        if locked.assignee_id == (assignee.pk if assignee else None):
            return None
        locked.assignee = assignee
        _touch(locked, now, "assignee")
        data = {
            "to": assignee.email if assignee else "",
            "to_id": assignee.pk if assignee else None,
        }
        event = _event(locked, CaseEventKind.ASSIGNED, actor=actor, now=now, data=data)
        audit_log(actor, "procedures.submission.assigned", locked, data)
    submission.assignee = assignee
    return event


def case_note(
    *, actor: User, submission: Submission, text: str, now: datetime | None = None
) -> CaseEvent:
    """An internal note on the timeline; residents never see it."""
    text = text.strip()
    if not text:
        raise CaseRefused(_("The note is empty."))
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(submission)
        _touch(locked, now)
        event = _event(locked, CaseEventKind.NOTE, actor=actor, now=now, data={"text": text})
        audit_log(actor, "procedures.submission.noted", locked, {"event": event.pk})
    return event


def case_message(
    *, actor: User, submission: Submission, text: str, now: datetime | None = None
) -> CaseEvent:
    """A reviewer's own message to the resident about this submission, with a 返信する
    button; the resident's reply lands on the timeline (``case_reply_receive``)."""
    text = text.strip()
    if not text:
        raise CaseRefused(_("The message is empty."))
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(submission)
        _touch(locked, now)
        event = _event(locked, CaseEventKind.MESSAGE_OUT, actor=actor, now=now, data={"text": text})
        lang = locked.resident.language
        with resident_override(lang):
            # Translators: residents read this.
            header = _("About your application “%(procedure)s” (reference %(reference)s):") % {
                "procedure": _procedure_title(locked, lang),
                "reference": locked.reference,
            }
            buttons = (
                # Translators: residents read this.
                engine.Choice(_("Reply"), case_postback("reply", locked.pk)),
                _open_button(locked),
            )
            _tell(locked, event, [engine.TextPrompt(f"{header}\n\n{text}", buttons)])
        audit_log(actor, "procedures.submission.messaged", locked, {"event": event.pk})
    return event


def case_request_correction(
    *,
    actor: User,
    submission: Submission,
    fields: Iterable[str],
    reason: str,
    expected: str | None = None,
    deadline: datetime | None = None,
    now: datetime | None = None,
) -> CorrectionRequest:
    """返戻: ask the resident to correct ``fields`` (step ids of the pinned version) for
    ``reason`` by ``deadline`` (default: the workflow's days to correct). The resident gets
    a message with a 修正する button that opens a conversation asking only those fields.

    Raises CaseRefused when the workflow does not allow returning it now, no field or no
    reason is given, or a field is not a question of the version the resident answered.
    """
    now = now or timezone.now()
    fields = list(dict.fromkeys(fields))
    reason = reason.strip()
    with transaction.atomic():
        locked = _lock(submission)
        _check_expected(locked, expected)
        flow = workflow.workflow_for(locked.procedure)
        _check_correction(locked, flow, fields, reason)
        deadline = deadline or now + timedelta(days=flow.correction_days)
        request = CorrectionRequest.objects.create(
            municipality_id=locked.municipality_id,
            submission=locked,
            fields=fields,
            reason=reason,
            deadline=deadline,
            requested_by=actor,
            created_at=now,
        )
        previous = locked.status
        locked.status, locked.correction_due_at = workflow.RETURNED, deadline
        _touch(locked, now, "status", "correction_due_at")
        data = {
            "from": previous,
            "fields": fields,
            "reason": reason,
            "deadline": deadline.isoformat(),
            "request": request.pk,
        }
        event = _event(locked, CaseEventKind.CORRECTION_REQUESTED, actor=actor, now=now, data=data)
        _tell(locked, event, correction_prompts(locked, request))
        audit_log(actor, "procedures.submission.returned", locked, data)
    submission.status = workflow.RETURNED
    return request


def _check_correction(submission: Submission, flow, fields: list[str], reason: str) -> None:
    kind = workflow.kind_of(submission)
    if workflow.RETURNED not in workflow.next_statuses(flow, submission.status, kind):
        raise CaseRefused(
            _("A submission that is “%(status)s” cannot be returned.")
            % {"status": submission.get_status_display()}
        )
    if not fields:
        raise CaseRefused(_("Choose at least one field for the resident to correct."))
    if not reason:
        raise CaseRefused(_("Please write the reason; the resident will read it."))
    askable = {step["id"] for step in question_steps(submission.definition)}
    unknown = [field for field in fields if field not in askable]
    if unknown:
        raise CaseRefused(_("Unknown fields: %(fields)s") % {"fields": ", ".join(unknown)})


def correction_prompts(
    submission: Submission, request: CorrectionRequest, *, reminder: bool = False
) -> list[engine.Prompt]:
    """The message asking the resident to correct (or, as a reminder, still to correct)
    the fields, in their language, with the 修正する button."""
    lang = submission.resident.language
    with resident_override(lang):
        labels = step_labels(submission.definition, lang)
        values = {
            "procedure": _procedure_title(submission, lang),
            "reference": submission.reference,
            "fields": "、".join(labels.get(field, field) for field in request.fields),
            "reason": request.reason,
            "deadline": timezone.localtime(request.deadline).strftime("%Y-%m-%d %H:%M"),
        }
        first = (
            _(
                # Translators: residents read this.
                "Reminder: please correct your application “%(procedure)s” "
                "(reference %(reference)s)."
            )
            if reminder
            # Translators: residents read this.
            else _("Please correct your application “%(procedure)s” (reference %(reference)s).")
        )
        text = "\n".join(
            (
                first % values,
                # Translators: residents read this.
                _("To correct: %(fields)s") % values,
                # Translators: residents read this.
                _("Reason: %(reason)s") % values,
                # Translators: residents read this.
                _("Please correct it by %(deadline)s.") % values,
            )
        )
        # Translators: residents read this.
        button = engine.Choice(_("Correct"), case_postback("fix", submission.pk))
        return [engine.TextPrompt(text, (button, _open_button(submission)))]


# --- what residents do ---------------------------------------------------------------------------


def case_resubmit(
    *, conversation: Conversation, answers: dict[str, Any], fee: int | None, now: datetime
) -> Submission:
    """The resident sent their corrected answers (a conversation that ``correcting`` a
    request): a new revision, the request answered, the submission back to 審査中.

    Raises CaseRefused when the request is no longer open (taken back, or answered from
    another device meanwhile); nothing is stored then.
    """
    request = conversation.correcting
    assert request is not None  # noqa: S101 - only called for correction conversations
    with transaction.atomic():
        submission = _lock(request.submission)
        request = CorrectionRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != CorrectionStatus.OPEN or submission.status != workflow.RETURNED:
            # Translators: residents read this.
            raise CaseRefused(_("This correction is no longer needed."))
        before = submission.answers
        number = (submission.revisions.aggregate(last=Max("number"))["last"] or 0) + 1
        SubmissionRevision.objects.create(
            municipality_id=submission.municipality_id,
            submission=submission,
            number=number,
            answers=answers,
            fee=fee,
            correction=request,
            created_at=now,
        )
        request.status, request.answered_at = CorrectionStatus.ANSWERED, now
        request.save(update_fields=["status", "answered_at"])
        submission.answers, submission.fee = answers, fee
        submission.status, submission.correction_due_at = workflow.IN_REVIEW, None
        submission.search_text = search_text_of(submission, answers)
        _touch(submission, now, "answers", "fee", "status", "correction_due_at", "search_text")
        submission_uploads_attach(submission=submission, answers=answers)
        data = {
            "request": request.pk,
            "revision": number,
            "changed": changed_fields(before, answers),
        }
        _event(submission, CaseEventKind.CORRECTED, actor=None, now=now, data=data)
    return submission


def case_withdraw(
    *, resident: Resident, submission: Submission, now: datetime | None = None
) -> CaseEvent:
    """The resident withdraws their own submission, when the procedure allows it and no
    decision has been made yet. Raises CaseRefused otherwise."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(submission)
        flow = workflow.workflow_for(locked.procedure)
        if locked.resident_id != resident.pk or not flow.allow_withdraw:
            # Translators: residents read this.
            raise CaseRefused(_("This application cannot be withdrawn."))
        if locked.status not in workflow.WITHDRAWABLE:
            raise CaseRefused(
                # Translators: residents read this.
                _("This application has already been decided and cannot be withdrawn.")
            )
        previous, locked.status = locked.status, workflow.WITHDRAWN
        _cancel_corrections(locked)
        _touch(locked, now, "status", "correction_due_at")
        event = _event(
            locked, CaseEventKind.WITHDRAWN, actor=None, now=now, data={"from": previous}
        )
        audit_log(
            None,
            "procedures.submission.withdrawn",
            locked,
            {"from": previous, "resident": resident.pk},
        )
    submission.status = workflow.WITHDRAWN
    return event


def case_reply_receive(
    *,
    submission: Submission,
    text: str = "",
    upload: ResidentUpload | None = None,
    now: datetime | None = None,
) -> CaseEvent:
    """A resident's reply to a reviewer's message, onto the submission's timeline."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(submission)
        _touch(locked, now)
        data: dict[str, Any] = {"text": text.strip()[:5000]}
        if upload is not None:
            upload.submission = locked
            upload.save(update_fields=["submission"])
            data["upload"] = str(upload.pk)
        return _event(locked, CaseEventKind.MESSAGE_IN, actor=None, now=now, data=data)


# --- reminders ---------------------------------------------------------------------------------


def correction_remind(*, request_id: int, now: datetime | None = None) -> bool:
    """Send the one reminder of an open correction request (claimed with a conditional
    update, so two beat runs remind once). False when already reminded or no longer open."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = CorrectionRequest.objects.filter(
            pk=request_id, status=CorrectionStatus.OPEN, reminded_at__isnull=True
        ).update(reminded_at=now)
        if not claimed:
            return False
        request = CorrectionRequest.objects.select_related(
            "submission__resident", "submission__procedure", "submission__version"
        ).get(pk=request_id)
        submission = request.submission
        event = _event(
            submission, CaseEventKind.REMINDED, actor=None, now=now, data={"request": request.pk}
        )
        _tell(submission, event, correction_prompts(submission, request, reminder=True))
    return True


def corrections_due_for_reminder(*, now: datetime) -> list[int]:
    """Open requests not yet reminded whose deadline is within a third of their period
    (at least a day ahead): when a nudge helps and there is still time to act."""
    candidates = CorrectionRequest.objects.filter(
        status=CorrectionStatus.OPEN, reminded_at__isnull=True, deadline__gt=now
    ).values_list("pk", "created_at", "deadline")
    due = []
    for pk, created_at, deadline in candidates:
        lead = max((deadline - created_at) / 3, timedelta(days=1))
        if deadline - now <= lead:
            due.append(pk)
    return due


# --- workflows ---------------------------------------------------------------------------------


def procedure_workflow_save(
    *,
    actor: User,
    procedure: Procedure,
    transitions: Mapping[str, Iterable[str]],
    messages: Mapping[str, Any],
    target_days: int | None,
    correction_days: int,
    allow_withdraw: bool,
) -> tuple[ProcedureWorkflow, list[str]]:
    """Store how ``procedure``'s submissions are worked, and audit it. Every status is
    written in ``transitions`` (an empty list: a final status), so an all-unticked grid is
    kept as such instead of falling back to the default.

    Returns the workflow and the statuses its grid leaves unreachable (allowed: the
    console warns). Raises CaseRefused for a status that does not exist.
    """
    known = set(workflow.DEFAULT_TRANSITIONS)
    named = set(transitions) | {t for targets in transitions.values() for t in targets}
    unknown = sorted((named | set(messages)) - known)
    if unknown:
        raise CaseRefused(_("Unknown statuses: %(statuses)s") % {"statuses": ", ".join(unknown)})
    grid = {
        status: [t for t in workflow.DEFAULT_TRANSITIONS if t in set(transitions.get(status, ()))]
        for status in workflow.DEFAULT_TRANSITIONS
    }
    with transaction.atomic():
        flow, _created = ProcedureWorkflow.objects.update_or_create(
            procedure=procedure,
            defaults={
                "municipality_id": procedure.municipality_id,
                "transitions": grid,
                "messages": dict(messages),
                "target_days": target_days,
                "correction_days": correction_days,
                "allow_withdraw": allow_withdraw,
            },
        )
        audit_log(
            actor,
            "procedures.procedure.workflow_changed",
            procedure,
            {
                "transitions": grid,
                "messages": dict(messages),
                "target_days": target_days,
                "correction_days": correction_days,
                "allow_withdraw": allow_withdraw,
            },
        )
    return flow, workflow.unreachable_statuses(grid, allow_withdraw=allow_withdraw)
