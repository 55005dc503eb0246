"""The builder's console pages and JSON endpoints: roles, tenants, version check, audit."""

import json

import pytest
from django.urls import reverse

from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from procedures.builder.state import editor_state
from procedures.engine.steps import registered_types, step_type
from procedures.models import Procedure
from procedures.services import procedure_create, procedure_publish
from tests.factories import DepartmentFactory
from tests.procedures.docs import pet_registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def procedure(city, designer):
    return procedure_create(actor=designer, municipality=city, document=pet_registration())


def url(name, procedure, *args):
    return reverse(f"admin:procedures_procedure_{name}", args=[procedure.pk, *args])


def post_json(client, address, body):
    return client.post(address, json.dumps(body), content_type="application/json")


def save(client, procedure, state, revision):
    return post_json(
        client, url("builder_save", procedure), {"state": state, "expected_revision": revision}
    )


# --- access ----------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "builder"),
    ("post", "builder_save"),
    ("post", "builder_preview"),
    ("post", "builder_convert"),
    ("post", "builder_try"),
    ("get", "publish"),
    ("get", "versions"),
]


@pytest.mark.parametrize("method, name", ENDPOINTS)
@pytest.mark.parametrize("role", ["reviewer", "broadcaster"])
def test_reviewers_and_broadcasters_are_refused_by_the_builder(
    client, request, procedure, role, method, name
):
    client.force_login(request.getfixturevalue(role))

    response = getattr(client, method)(url(name, procedure))

    assert response.status_code == 403


@pytest.mark.parametrize("method, name", ENDPOINTS)
def test_an_outsider_gets_404_as_for_a_missing_procedure(client, outsider, procedure, method, name):
    client.force_login(outsider)

    response = getattr(client, method)(url(name, procedure))

    assert response.status_code == 404


def test_reviewers_cannot_start_a_new_procedure(client, reviewer):
    client.force_login(reviewer)

    assert client.get(reverse("admin:procedures_procedure_builder_new")).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client, procedure):
    response = client.get(url("builder", procedure))

    assert response.status_code == 302
    assert "/login" in response["Location"]


# --- the page --------------------------------------------------------------------------------


def test_designer_opens_the_builder_with_the_draft_as_editing_state(client, designer, procedure):
    client.force_login(designer)

    response = client.get(url("builder", procedure))

    assert response.status_code == 200
    config = response.context["builder_config"]
    assert config["revision"] == procedure.draft_revision
    assert config["state"] == editor_state(procedure.draft)
    palette = {kind["name"] for kind in config["types"]}
    assert palette == {name for name in registered_types() if step_type(name).available}
    assert {"text", "number", "choice", "consent", "confirm"} <= palette
    body = response.content.decode()
    assert "line/render.js" in body and "builder/builder.js" in body
    assert "保存" in body  # Japanese by default


def test_the_change_form_opens_the_builder_unless_advanced_is_asked(client, designer, procedure):
    client.force_login(designer)
    change = reverse("admin:procedures_procedure_change", args=[procedure.pk])

    assert client.get(change)["Location"] == url("builder", procedure)
    assert client.get(change + "?advanced=1").status_code == 200


def test_designer_saves_the_draft_and_the_save_is_audited(client, designer, procedure, city):
    client.force_login(designer)
    state = editor_state(procedure.draft)
    state["steps"][0]["prompt"]["ja"] = "お名前を入力してください"

    response = save(client, procedure, state, procedure.draft_revision)

    assert response.status_code == 200
    procedure.refresh_from_db()
    assert response.json()["revision"] == procedure.draft_revision == 2
    assert procedure.draft["steps"][0]["prompt"]["ja"] == "お名前を入力してください"
    with tenant_scope(city):
        assert AuditLogEntry.objects.filter(
            action="procedures.procedure.draft_saved", actor=designer
        ).exists()


def test_a_condition_from_the_editor_is_saved_as_json_logic(client, designer, procedure):
    client.force_login(designer)
    state = editor_state(procedure.draft)
    state["steps"][2]["condition"] = {
        "mode": "simple",
        "combine": "all",
        "rules": [{"step": "change", "op": "is", "value": "death"}],
    }
    state["fee_rule"] = {"mode": "fixed", "amount": 300, "quantity": ""}

    assert save(client, procedure, state, procedure.draft_revision).status_code == 200

    procedure.refresh_from_db()
    assert procedure.draft["steps"][2]["when"] == {"==": [{"var": "change"}, "death"]}
    assert procedure.draft["fee"] == 300


def test_two_saves_from_the_same_revision_the_second_is_refused(
    client, designer, admin_user, procedure
):
    first_state = editor_state(procedure.draft)
    first_state["title"]["ja"] = "一人目の変更"
    second_state = editor_state(procedure.draft)
    second_state["title"]["ja"] = "二人目の変更"
    loaded = procedure.draft_revision

    client.force_login(designer)
    first = save(client, procedure, first_state, loaded)
    client.force_login(admin_user)
    second = save(client, procedure, second_state, loaded)

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["conflict"] is True
    procedure.refresh_from_db()
    assert procedure.draft["title"]["ja"] == "一人目の変更"


def test_a_malformed_save_is_refused_without_changing_the_draft(client, designer, procedure):
    client.force_login(designer)
    state = editor_state(procedure.draft)
    state["steps"][0]["condition"] = {"mode": "simple", "rules": [{"step": "x", "op": "??"}]}

    response = save(client, procedure, state, procedure.draft_revision)

    assert response.status_code == 400
    procedure.refresh_from_db()
    assert procedure.draft_revision == 1


def test_save_answers_with_located_problems_of_the_draft(client, designer, procedure):
    client.force_login(designer)
    state = editor_state(procedure.draft)
    state["steps"][1]["options"] = [
        {"value": "same", "label": {"ja": "A"}},
        {"value": "same", "label": {"ja": "B"}},
    ]

    problems = save(client, procedure, state, procedure.draft_revision).json()["problems"]

    assert any(p["step_id"] == "change" and p["step_index"] == 1 for p in problems)


# --- preview and conversion -------------------------------------------------------------------


def test_preview_shows_a_choice_step_as_the_webhook_would_send_it(client, designer, procedure):
    client.force_login(designer)
    state = editor_state(procedure.draft)

    response = post_json(
        client, url("builder_preview", procedure), {"state": state, "index": 1, "lang": "en"}
    )

    messages = response.json()["messages"]
    assert messages[0]["type"] == "text"
    assert messages[0]["text"] == "What changed?"
    labels = [item["action"]["label"] for item in messages[-1]["quickReply"]["items"]]
    assert labels[:2] == ["Address", "Death"]


def test_preview_of_the_confirmation_shows_a_flex_summary(client, designer, procedure):
    client.force_login(designer)
    state = editor_state(procedure.draft)

    response = post_json(
        client, url("builder_preview", procedure), {"state": state, "index": 3, "lang": "ja"}
    )

    (message,) = response.json()["messages"]
    assert message["type"] == "flex"
    assert "飼い主の氏名" in json.dumps(message, ensure_ascii=False)


def test_preview_of_an_unfinished_step_explains_instead_of_failing(client, designer, procedure):
    client.force_login(designer)
    state = editor_state(procedure.draft)
    state["steps"][1]["options"] = []
    del state["steps"][1]["options"]

    response = post_json(
        client, url("builder_preview", procedure), {"state": state, "index": 1, "lang": "ja"}
    )

    assert response.status_code == 200
    assert response.json()["messages"] == [] and response.json()["error"]


def test_convert_switches_between_the_editor_and_raw_json_logic(client, designer, procedure):
    client.force_login(designer)
    model = {"mode": "simple", "combine": "any", "rules": [{"step": "a", "op": "gt", "value": 1}]}

    logic = post_json(client, url("builder_convert", procedure), {"model": model}).json()
    back = post_json(client, url("builder_convert", procedure), logic).json()

    assert logic == {"logic": {">": [{"var": "a"}, 1]}}
    assert back["model"]["rules"] == model["rules"]


# --- publish and history ----------------------------------------------------------------------


def test_publish_page_points_each_error_at_its_step(client, designer, procedure):
    draft = pet_registration()
    draft["steps"][1]["options"].append({"value": "address", "label": {"ja": "重複"}})
    draft["steps"][2]["when"] = {"==": [{"var": "nowhere"}, 1]}
    with tenant_scope(procedure.municipality):
        Procedure.objects.filter(pk=procedure.pk).update(draft=draft)
    client.force_login(designer)

    response = client.post(url("publish", procedure), {"change_note": "試し"})

    assert response.status_code == 200
    grouped = {g["step"]["id"]: g for g in response.context["grouped"] if g["step"]}
    assert [p["path"] for p in grouped["change"]["problems"]] == ["steps[1].options[2].value"]
    assert "nowhere" in grouped["photo"]["problems"][0]["message"]
    assert grouped["owner"]["problems"] == []
    assert response.context["error_count"] == 2
    procedure.refresh_from_db()
    assert procedure.live_version is None


def test_designer_publishes_with_a_note_and_sees_the_history(client, designer, procedure, city):
    client.force_login(designer)

    response = client.post(url("publish", procedure), {"change_note": "初版"})

    assert response.status_code == 302
    assert response["Location"] == url("versions", procedure)
    procedure.refresh_from_db()
    assert procedure.live_version.change_note == "初版"
    history = client.get(url("versions", procedure))
    assert "初版" in history.content.decode()
    with tenant_scope(city):
        assert AuditLogEntry.objects.filter(action="procedures.procedure.published").exists()


def test_publish_page_shows_the_diff_against_the_live_version(client, designer, procedure):
    procedure_publish(actor=designer, procedure=procedure)
    client.force_login(designer)
    state = editor_state(procedure.draft)
    state["steps"][0]["prompt"]["ja"] = "氏名をどうぞ"
    save(client, procedure, state, procedure.draft_revision)

    response = client.get(url("publish", procedure))

    (row,) = response.context["diff"]
    assert row["step_id"] == "owner" and row["kind"] == "changed"
    assert "氏名をどうぞ" in row["new"]


def test_history_compares_two_versions_and_rolls_back(client, designer, procedure, city):
    first = procedure_publish(actor=designer, procedure=procedure, change_note="v1")
    with tenant_scope(city):
        draft = {**procedure.draft, "title": {"ja": "新しい題名"}}
        Procedure.objects.filter(pk=procedure.pk).update(draft=draft)
    procedure.refresh_from_db()
    procedure_publish(actor=designer, procedure=procedure, change_note="v2")
    client.force_login(designer)

    compared = client.get(url("versions", procedure), {"old": 1, "new": 2})
    shown = client.get(url("version", procedure, 1))
    rolled = client.post(url("version_rollback", procedure, 1))

    assert [row["where"] for row in compared.context["diff"]] == ["タイトル"]
    assert shown.status_code == 200 and "犬の登録事項変更届" in shown.content.decode()
    assert rolled.status_code == 302
    procedure.refresh_from_db()
    assert procedure.live_version.number == 3
    assert procedure.live_version.restored_from == first
    with tenant_scope(city):
        assert AuditLogEntry.objects.filter(action="procedures.procedure.rolled_back").exists()


def test_a_version_of_another_procedure_number_is_404(client, designer, procedure):
    client.force_login(designer)

    assert client.get(url("version", procedure, 7)).status_code == 404
    assert client.post(url("version_rollback", procedure, 7)).status_code == 404


# --- list and new ----------------------------------------------------------------------------


def test_designer_creates_a_procedure_from_scratch(client, designer, city):
    department = DepartmentFactory(municipality=city, code="shimin", name="市民課")
    client.force_login(designer)

    response = client.post(
        reverse("admin:procedures_procedure_builder_new"),
        {"key": "juminhyo", "title": "住民票の写し郵送請求", "department": department.pk},
    )

    with tenant_scope(city):
        created = Procedure.objects.get(key="juminhyo")
    assert response["Location"] == url("builder", created)
    assert created.department == department
    assert created.draft["title"] == {"ja": "住民票の写し郵送請求"}
    assert created.live_version is None


def test_a_taken_key_is_refused_on_the_new_form(client, designer, procedure):
    client.force_login(designer)

    response = client.post(
        reverse("admin:procedures_procedure_builder_new"), {"key": procedure.key, "title": "x"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["key"]


def test_the_list_links_designers_to_the_builder_and_a_new_procedure(
    client, designer, procedure, django_assert_max_num_queries
):
    client.force_login(designer)

    with django_assert_max_num_queries(20):
        body = client.get(reverse("admin:procedures_procedure_changelist")).content.decode()

    assert url("builder", procedure) in body
    assert reverse("admin:procedures_procedure_builder_new") in body
    assert "下書き" in body


def test_the_list_shows_reviewers_no_builder_links(client, reviewer, procedure):
    client.force_login(reviewer)

    body = client.get(reverse("admin:procedures_procedure_changelist")).content.decode()

    assert url("builder", procedure) not in body


@pytest.mark.parametrize("depth", [80, 5_000])
def test_a_save_nested_too_deeply_is_a_400_not_a_500(client, designer, procedure, depth):
    client.force_login(designer)
    body = '{"state": ' + "[" * depth + "]" * depth + ', "expected_revision": 1}'
    response = client.post(url("builder_save", procedure), body, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["error"] or "入れ子" in response.json()["error"]
