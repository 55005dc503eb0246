"""Casework services: workflow transitions, notices to residents, corrections, revisions."""

from datetime import timedelta

import pytest

from govtech.models import AuditLogEntry
from procedures.casework.models import CaseEvent, CorrectionRequest, ProcedureWorkflow
from procedures.casework.services import (
    CaseRefused,
    case_assign,
    case_message,
    case_note,
    case_request_correction,
    case_transition,
    case_withdraw,
    correction_remind,
    corrections_due_for_reminder,
)
from procedures.models import Notice
from tests.procedures.casework.conftest import NOW

pytestmark = pytest.mark.django_db


def kinds(submission):
    return list(CaseEvent.objects.filter(submission=submission).values_list("kind", flat=True))


def test_a_new_submission_opens_a_case_with_revision_one_and_search_text(submission, scope):
    assert submission.revisions.get().number == 1
    assert kinds(submission) == ["submitted"]
    assert submission.reference in submission.search_text
    assert "山田太郎" in submission.search_text
    assert submission.channel == ""


def test_the_default_workflow_moves_and_tells_the_resident_once(submission, reviewer, scope):
    case_transition(actor=reviewer, submission=submission, to="in_review", expected="submitted")
    event = case_transition(
        actor=reviewer, submission=submission, to="accepted", expected="in_review"
    )
    notice = Notice.objects.get(pk=event.notice_id)
    assert (
        "承認" in notice.prompts[0]["text"]
        or "受理" in notice.prompts[0]["text"]
        or submission.reference in notice.prompts[0]["text"]
    )
    assert submission.reference in notice.prompts[0]["text"]
    assert Notice.objects.count() == 1  # 審査中 is quiet by default
    assert AuditLogEntry.objects.filter(action="procedures.submission.status_changed").count() == 2


def test_a_double_click_changes_the_status_and_tells_the_resident_once(submission, reviewer, scope):
    case_transition(actor=reviewer, submission=submission, to="accepted", expected="submitted")
    with pytest.raises(CaseRefused):
        case_transition(actor=reviewer, submission=submission, to="accepted", expected="submitted")
    assert Notice.objects.count() == 1
    assert kinds(submission).count("status") == 1


def test_the_workflow_refuses_a_transition_it_does_not_allow(submission, reviewer, scope):
    with pytest.raises(CaseRefused):
        case_transition(actor=reviewer, submission=submission, to="completed")
    submission.refresh_from_db()
    assert submission.status == "submitted"


def test_rejecting_needs_a_reason_that_the_resident_reads(submission, reviewer, scope):
    with pytest.raises(CaseRefused):
        case_transition(actor=reviewer, submission=submission, to="rejected", reason="  ")
    event = case_transition(actor=reviewer, submission=submission, to="rejected", reason="書類不備")
    assert "書類不備" in Notice.objects.get(pk=event.notice_id).prompts[0]["text"]


def test_a_procedure_workflow_can_silence_a_status_and_change_transitions(
    submission, reviewer, scope, pet_procedure
):
    ProcedureWorkflow.objects.create(
        municipality=pet_procedure.municipality,
        procedure=pet_procedure,
        transitions={"submitted": ["completed"]},
        messages={"completed": {"ja": ""}},
    )
    with pytest.raises(CaseRefused):
        case_transition(actor=reviewer, submission=submission, to="accepted")
    event = case_transition(actor=reviewer, submission=submission, to="completed")
    assert event.notice_id is None


def test_a_status_message_is_in_the_residents_language(city, pet_procedure, reviewer, scope):
    from tests.procedures.casework.conftest import submit_pet

    english = submit_pet(city, "EN", owner="John", lang="en")
    event = case_transition(actor=reviewer, submission=english, to="accepted")
    text = Notice.objects.get(pk=event.notice_id).prompts[0]["text"]
    assert "accepted" in text and "Dog registration change" in text


def test_notes_stay_internal_and_messages_reach_the_resident(submission, reviewer, scope):
    case_note(actor=reviewer, submission=submission, text="電話で確認済み")
    assert Notice.objects.count() == 0
    event = case_message(actor=reviewer, submission=submission, text="鑑札番号を教えてください")
    prompt = Notice.objects.get(pk=event.notice_id).prompts[0]
    assert "鑑札番号" in prompt["text"]
    assert prompt["choices"][0]["data"] == f"gt|case|reply|{submission.pk}"


def test_assigning_is_on_the_timeline_and_idempotent(submission, reviewer, scope):
    assert case_assign(actor=reviewer, submission=submission, assignee=reviewer) is not None
    assert case_assign(actor=reviewer, submission=submission, assignee=reviewer) is None
    assert kinds(submission).count("assigned") == 1


def test_returning_asks_for_known_fields_with_a_reason_and_a_deadline(submission, reviewer, scope):
    with pytest.raises(CaseRefused):
        case_request_correction(actor=reviewer, submission=submission, fields=[], reason="x")
    with pytest.raises(CaseRefused):
        case_request_correction(actor=reviewer, submission=submission, fields=["nope"], reason="x")
    with pytest.raises(CaseRefused):
        case_request_correction(actor=reviewer, submission=submission, fields=["owner"], reason="")
    request = case_request_correction(
        actor=reviewer, submission=submission, fields=["owner"], reason="氏名が違います", now=NOW
    )
    submission.refresh_from_db()
    assert submission.status == "returned"
    assert submission.correction_due_at == NOW + timedelta(days=14) == request.deadline
    text = Notice.objects.get().prompts[0]["text"]
    assert "飼い主の氏名" in text and "氏名が違います" in text
    assert Notice.objects.get().prompts[0]["choices"][0]["data"] == f"gt|case|fix|{submission.pk}"


def test_taking_a_return_back_cancels_the_request(submission, reviewer, scope):
    request = case_request_correction(
        actor=reviewer, submission=submission, fields=["owner"], reason="x"
    )
    case_transition(actor=reviewer, submission=submission, to="in_review")
    request.refresh_from_db()
    assert request.status == "cancelled"


def test_one_reminder_before_the_deadline(submission, reviewer, scope):
    request = case_request_correction(
        actor=reviewer, submission=submission, fields=["owner"], reason="x", now=NOW
    )
    assert corrections_due_for_reminder(now=NOW + timedelta(days=1)) == []
    later = NOW + timedelta(days=10)
    assert corrections_due_for_reminder(now=later) == [request.pk]
    assert correction_remind(request_id=request.pk, now=later) is True
    assert correction_remind(request_id=request.pk, now=later) is False
    assert corrections_due_for_reminder(now=later) == []
    assert Notice.objects.count() == 2


def test_a_resident_withdraws_only_their_own_undecided_submission(
    city, submission, reviewer, scope
):
    from tests.procedures.casework.conftest import submit_pet

    other = submit_pet(city, "U2")
    with pytest.raises(CaseRefused):
        case_withdraw(resident=other.resident, submission=submission)
    case_withdraw(resident=submission.resident, submission=submission)
    submission.refresh_from_db()
    assert submission.status == "withdrawn"
    case_transition(actor=reviewer, submission=other, to="accepted")
    with pytest.raises(CaseRefused):
        case_withdraw(resident=other.resident, submission=other)
    assert CorrectionRequest.objects.count() == 0


def test_the_beat_task_reminds_each_open_request_once(submission, reviewer, scope):
    import time_machine

    from procedures.casework.tasks import remind_corrections

    case_request_correction(
        actor=reviewer, submission=submission, fields=["owner"], reason="x", now=NOW
    )
    with time_machine.travel(NOW + timedelta(days=11), tick=False):
        assert remind_corrections() == 1
        assert remind_corrections() == 0
    assert kinds(submission).count("reminded") == 1
