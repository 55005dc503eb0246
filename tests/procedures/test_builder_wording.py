"""The builder speaks the designer's language: the publish check names fields and
languages as the screen does and keeps what blocks publishing apart from notes; the
preview answers in the procedure's language and follows the conditions."""

import json

import pytest
from django.urls import reverse
from django.utils import translation

from govtech.tenancy import tenant_scope
from procedures.builder.presentation import step_name
from procedures.builder.state import editor_state
from procedures.models import Procedure
from procedures.services import procedure_create
from tests.procedures.docs import pet_registration

pytestmark = pytest.mark.django_db


def _procedure(city, designer, document):
    return procedure_create(actor=designer, municipality=city, document=document)


def _with_draft(procedure, draft):
    with tenant_scope(procedure.municipality):
        Procedure.objects.filter(pk=procedure.pk).update(draft=draft)


def _publish_page(client, procedure) -> str:
    url = reverse("admin:procedures_procedure_publish", args=[procedure.pk])
    return client.get(url).content.decode()


def test_publish_check_names_the_field_and_language_not_their_keys(client, city, designer):
    draft = pet_registration()
    del draft["steps"][0]["label"]["en"]
    procedure = _procedure(city, designer, draft)
    client.force_login(designer)

    body = _publish_page(client, procedure)

    assert "「項目名」の英語訳がまだありません。" in body
    assert "「label」" not in body and "「en」" not in body
    assert 'data-testid="publish-ready"' in body  # a missing translation does not block
    assert "確認してほしい点（公開はできます）" in body
    assert "公開前に直す必要がある点" not in body


def test_publish_check_keeps_what_blocks_apart_from_notes(client, city, designer):
    procedure = _procedure(city, designer, pet_registration())
    draft = pet_registration()
    del draft["steps"][0]["label"]["en"]  # a note
    draft["steps"][1]["prompt"]["ja"] = ""  # blocks publishing
    _with_draft(procedure, draft)
    client.force_login(designer)

    body = _publish_page(client, procedure)

    blocking, notes = body.split("確認してほしい点（公開はできます）")
    assert "公開前に直す必要がある点" in blocking
    assert "「質問」が入力されていません。" in blocking
    assert "英語訳" not in blocking
    assert "「項目名」の英語訳がまだありません。" in notes


def test_the_confirmation_step_is_named_by_its_type_not_as_a_missing_question():
    with translation.override("ja"):
        assert step_name({"id": "confirm", "type": "confirm"}) == "確認"
        assert step_name({"id": "owner", "type": "text"}) == "テキスト [owner]"


def _confirmation_preview(client, procedure, lang: str) -> str:
    url = reverse("admin:procedures_procedure_builder_preview", args=[procedure.pk])
    state = editor_state(procedure.draft)
    body = {"state": state, "index": len(state["steps"]) - 1, "lang": lang}
    response = client.post(url, json.dumps(body), content_type="application/json")
    (message,) = response.json()["messages"]
    return json.dumps(message, ensure_ascii=False)


@pytest.mark.parametrize(("lang", "answer"), [("ja", "回答の例"), ("en", "Sample answer")])
def test_preview_answers_in_the_procedures_language(client, city, designer, lang, answer):
    procedure = _procedure(city, designer, pet_registration())
    client.force_login(designer)

    summary = _confirmation_preview(client, procedure, lang)

    assert answer in summary
    assert '"sample"' not in summary


def test_preview_summary_leaves_out_a_step_whose_condition_is_not_met(client, city, designer):
    draft = pet_registration()
    draft["steps"][2]["when"] = {"==": [{"var": "change"}, "death"]}  # sample: "address"
    procedure = _procedure(city, designer, draft)
    client.force_login(designer)

    assert "写真" not in _confirmation_preview(client, procedure, "ja")

    draft["steps"][2]["when"] = {"==": [{"var": "change"}, "address"]}
    _with_draft(procedure, draft)
    procedure.refresh_from_db()
    assert "写真" in _confirmation_preview(client, procedure, "ja")
