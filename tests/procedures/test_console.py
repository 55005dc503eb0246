"""Console pages of procedures and submissions: roles, tenants, audit."""

import json

import pytest
from django.urls import reverse

from govtech.models import AuditLogEntry, Role
from govtech.services import staff_set_roles
from govtech.tenancy import tenant_scope
from procedures.engine import TextInput
from procedures.runtime import resident_input
from procedures.services import procedure_create, procedure_publish
from tests.factories import DepartmentFactory
from tests.factories import resident as resident_of
from tests.procedures.docs import pet_registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def procedure(city, designer):
    department = DepartmentFactory(municipality=city, code="kankyo", name="環境課")
    created = procedure_create(
        actor=designer, municipality=city, document=pet_registration(), department=department
    )
    procedure_publish(actor=designer, procedure=created)
    return created


@pytest.fixture
def submission(city, procedure):
    resident = resident_of(city, "line:test:U1")
    for text in ["犬の届出", "山田太郎", "1", "スキップ", "送信"]:
        reply = resident_input(municipality=city, resident=resident, inp=TextInput(text))
    assert reply.submission is not None
    return reply.submission


def test_designer_publishes_from_the_list(client, designer, city):
    created = procedure_create(actor=designer, municipality=city, document=pet_registration())
    client.force_login(designer)
    response = client.post(
        reverse("admin:procedures_procedure_changelist"),
        {"action": "publish", "_selected_action": [created.pk]},
    )
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.live_version is not None


@pytest.mark.parametrize("viewer", ["reviewer", "broadcaster"])
def test_reviewers_and_broadcasters_cannot_change_procedures(client, request, viewer, procedure):
    client.force_login(request.getfixturevalue(viewer))
    url = reverse("admin:procedures_procedure_change", args=[procedure.pk])
    assert client.post(url, {"department": "", "draft": "{}"}).status_code == 403


def test_procedure_list_shows_status_and_submission_count(client, designer, procedure, submission):
    client.force_login(designer)
    body = client.get(reverse("admin:procedures_procedure_changelist")).content.decode()
    assert "犬の登録事項変更届" in body
    assert "公開中" in body


def test_reviewer_sees_submission_answers_and_the_view_is_audited(
    client, reviewer, submission, city
):
    client.force_login(reviewer)
    url = reverse("admin:procedures_submission_change", args=[submission.pk])
    body = client.get(url).content.decode()
    assert "山田太郎" in body and "飼い主の氏名" in body
    with tenant_scope(city):
        entry = AuditLogEntry.objects.get(action="procedures.submission.viewed")
    assert entry.actor == reviewer and entry.target_id == str(submission.pk)


def test_reviewer_of_another_department_does_not_see_the_submission(
    client, reviewer, city, submission
):
    other = DepartmentFactory(municipality=city, code="doro", name="道路課")
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[other]
    )
    client.force_login(reviewer)
    body = client.get(reverse("admin:procedures_submission_changelist")).content.decode()
    assert submission.reference not in body
    url = reverse("admin:procedures_submission_change", args=[submission.pk])
    assert client.get(url).status_code == 404


def test_reviewers_list_leaves_out_test_submissions_unless_asked_for(
    client, reviewer, city, procedure, submission
):
    tried = resident_of(city, "line:test:U2")
    for text in ["犬の届出", "試し花子", "1", "スキップ", "送信"]:
        reply = resident_input(municipality=city, resident=tried, inp=TextInput(text))
    with tenant_scope(city):
        type(reply.submission).objects.filter(pk=reply.submission.pk).update(
            is_test=True, reference="TEST-DC-2026-000001"
        )
    client.force_login(reviewer)
    url = reverse("admin:procedures_submission_changelist")
    real, test = f">{submission.reference}<", ">TEST-DC-2026-000001<"
    body = client.get(url).content.decode()
    assert real in body and test not in body
    body = client.get(url, {"tests": "1"}).content.decode()
    assert real in body and test in body


def test_designer_cannot_read_submissions(client, designer, submission):
    client.force_login(designer)
    assert client.get(reverse("admin:procedures_submission_changelist")).status_code == 403


def test_outsider_gets_404_for_the_citys_submission_and_procedure(
    client, outsider, submission, procedure
):
    client.force_login(outsider)
    for name, obj in [("submission", submission), ("procedure", procedure)]:
        url = reverse(f"admin:procedures_{name}_change", args=[obj.pk])
        assert client.get(url).status_code == 404
    body = client.get(reverse("admin:procedures_submission_changelist")).content.decode()
    assert submission.reference not in body


def test_moving_a_procedure_to_another_department_moves_its_submissions(
    client, city, admin_user, procedure, submission
):
    other = DepartmentFactory(municipality=city, code="seikatsu", name="生活環境課")
    with tenant_scope(city):
        routed = submission.__class__.objects.create(
            municipality=city,
            procedure=procedure,
            version=submission.version,
            resident=submission.resident,
            reference="R-ROUTED",
            answers={},
            department=DepartmentFactory(municipality=city, code="doboku", name="土木課"),
        )
    client.force_login(admin_user)
    url = reverse("admin:procedures_procedure_change", args=[procedure.pk]) + "?advanced=1"
    response = client.post(
        url,
        {
            "department": other.pk,
            "draft": json.dumps(procedure.draft, ensure_ascii=False),
            "expected_revision": procedure.draft_revision,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    with tenant_scope(city):
        procedure.refresh_from_db()
        submission.refresh_from_db()
        routed.refresh_from_db()
        entry = AuditLogEntry.objects.get(action="procedures.procedure.department_changed")
    assert procedure.department == other and submission.department == other
    assert routed.department.name == "土木課"  # routed elsewhere: stays
    assert entry.data["submissions_moved"] == 1
