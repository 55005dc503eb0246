"""The workflow page of a procedure: transitions grid, messages per status and language,
target days, days to correct, withdrawal; saved through the service and audited."""

from datetime import timedelta

import pytest
from django.urls import reverse

from govtech.models import AuditLogEntry
from procedures.casework import workflow
from procedures.casework.models import ProcedureWorkflow
from procedures.casework.services import CaseRefused, case_transition, procedure_workflow_save
from procedures.models import Notice
from tests.procedures.casework.conftest import NOW
from tests.procedures.casework.console_helpers import make_submission, published

pytestmark = pytest.mark.django_db


@pytest.fixture
def dogs(city, designer):
    return published(city, designer, "dogs", "犬の登録")


def url(procedure) -> str:
    return reverse("admin:procedures_submission_workflow", args=[procedure.pk])


def default_grid() -> dict[str, str]:
    return {
        f"t_{source}_{target}": "on"
        for source, targets in workflow.DEFAULT_TRANSITIONS.items()
        for target in targets
    }


def test_the_page_shows_the_default_workflow_with_default_texts_as_placeholders(
    client, designer, dogs, city_scope
):
    client.force_login(designer)
    response = client.get(url(dogs))
    body = response.content.decode()
    form = response.context["form"]
    assert form["t_submitted_in_review"].value() is True
    assert not form["t_rejected_completed"].value()
    assert 'placeholder="「{procedure}」の申請（受付番号 {reference}）を承認しました。"' in body
    assert 'name="m_accepted_ja"' in body and 'name="m_accepted_en"' in body
    assert "has been accepted" in body  # the English default, as the en placeholder
    assert AuditLogEntry.objects.filter(action="procedures.procedure.workflow_viewed").exists()


def test_saving_narrows_transitions_rewords_messages_and_is_audited(
    client, city, designer, reviewer, dogs, city_scope
):
    client.force_login(designer)
    data = default_grid()
    del data["t_submitted_accepted"]
    data.update(
        {
            "m_accepted_ja": "{procedure}（{reference}）を承認しました",
            "silent_rejected": "on",
            "target_days": "10",
            "correction_days": "7",
            "allow_withdraw": "",
        }
    )
    response = client.post(url(dogs), data, follow=True)
    assert "処理の流れを保存しました。" in response.content.decode()
    flow = ProcedureWorkflow.objects.get(procedure=dogs)
    assert "accepted" not in flow.transitions["submitted"]
    assert flow.messages == {
        "accepted": {"ja": "{procedure}（{reference}）を承認しました"},
        "rejected": {"ja": "", "en": ""},
    }
    assert (flow.target_days, flow.correction_days, flow.allow_withdraw) == (10, 7, False)
    assert AuditLogEntry.objects.filter(action="procedures.procedure.workflow_changed").count() == 1

    submission = make_submission(dogs, resident="A")
    assert submission.due_at == NOW + timedelta(days=10)
    with pytest.raises(CaseRefused):
        case_transition(actor=reviewer, submission=submission, to="accepted")
    case_transition(actor=reviewer, submission=submission, to="in_review")
    event = case_transition(actor=reviewer, submission=submission, to="accepted")
    text = Notice.objects.get(pk=event.notice_id).prompts[0]["text"]
    assert text == f"犬の登録（{submission.reference}）を承認しました"


def test_the_saved_page_shows_what_was_saved(client, designer, dogs, city_scope):
    procedure_workflow_save(
        actor=designer,
        procedure=dogs,
        transitions={"submitted": ["in_review"], "in_review": ["accepted"]},
        messages={"completed": {"ja": ""}, "accepted": {"ja": "承認：{reference}"}},
        target_days=5,
        correction_days=3,
        allow_withdraw=True,
    )
    client.force_login(designer)
    form = client.get(url(dogs)).context["form"]
    assert form["t_submitted_in_review"].value() is True
    assert not form["t_submitted_accepted"].value()
    assert form["silent_completed"].value() is True
    assert form["m_accepted_ja"].value() == "承認：{reference}"
    assert form["target_days"].value() == 5


def test_a_grid_leaving_a_status_unreachable_is_saved_with_a_warning(
    client, designer, dogs, city_scope
):
    client.force_login(designer)
    data = default_grid()
    del data["t_accepted_completed"]
    data["correction_days"] = "14"
    response = client.post(url(dogs), data, follow=True)
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1 and "完了" in warnings[0]
    assert ProcedureWorkflow.objects.get(procedure=dogs).transitions["accepted"] == []


def test_an_unknown_status_is_refused(client, designer, dogs, city_scope):
    client.force_login(designer)
    data = default_grid()
    data.update({"t_submitted_archived": "on", "correction_days": "14"})
    response = client.post(url(dogs), data)
    assert response.status_code == 200
    assert "存在しない状態です" in response.content.decode()
    assert not ProcedureWorkflow.objects.exists()


def test_the_service_refuses_unknown_statuses(designer, dogs, city_scope):
    with pytest.raises(CaseRefused):
        procedure_workflow_save(
            actor=designer,
            procedure=dogs,
            transitions={"submitted": ["archived"]},
            messages={},
            target_days=None,
            correction_days=14,
            allow_withdraw=True,
        )


def test_the_procedure_list_and_the_case_page_link_to_the_workflow(
    client, admin_user, dogs, city_scope
):
    submission = make_submission(dogs, resident="A")
    client.force_login(admin_user)
    listing = client.get(reverse("admin:procedures_procedure_changelist")).content.decode()
    assert url(dogs) in listing
    case = reverse("admin:procedures_submission_change", args=[submission.pk])
    assert url(dogs) in client.get(case).content.decode()
