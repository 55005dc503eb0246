"""The builder's translations page: completeness per language, editing one language's
texts, adding a language, and publishing that warns (never refuses) about missing ones."""

import pytest
from django.urls import reverse

from govtech.models import AuditLogEntry
from govtech.tenancy import tenant_scope
from procedures.builder.translations import completeness, text_slots, with_translations
from procedures.models import Procedure
from procedures.services import procedure_create
from tests.procedures.docs import pet_registration

pytestmark = pytest.mark.django_db


def _document() -> dict:
    """Japanese and Vietnamese; Vietnamese has the title and the owner question only."""
    document = pet_registration()
    document["languages"] = ["ja", "vi"]
    for slot in text_slots(document):  # drop the English texts of the shared document
        slot.texts.pop("en", None)
    document["title"]["vi"] = "Thay đổi đăng ký chó"
    document["steps"][0]["prompt"]["vi"] = "Tên chủ nuôi?"
    return document


@pytest.fixture
def procedure(city, designer):
    return procedure_create(actor=designer, municipality=city, document=_document())


def url(procedure, **query):
    address = reverse("admin:procedures_procedure_translations", args=[procedure.pk])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _draft(procedure) -> dict:
    with tenant_scope(procedure.municipality):
        return Procedure.objects.get(pk=procedure.pk).draft


def test_completeness_counts_each_languages_texts():
    rows = {row["code"]: row for row in completeness(_document())}

    # title, completion, 3 labels, 3 prompts, 2 options
    assert (rows["ja"]["done"], rows["ja"]["total"], rows["ja"]["complete"]) == (10, 10, True)
    assert (rows["vi"]["done"], rows["vi"]["total"], rows["vi"]["complete"]) == (2, 10, False)


def test_an_empty_value_removes_a_translation_and_unknown_paths_are_ignored():
    changed = with_translations(
        _document(), "vi", {"title": " ", "steps.1.options.0.label": "Địa chỉ", "fee": "1"}
    )

    assert "vi" not in changed["title"]
    assert changed["steps"][1]["options"][0]["label"]["vi"] == "Địa chỉ"
    assert changed["fee"] == 3000


def test_the_page_shows_x_of_y_per_language(client, designer, procedure):
    client.force_login(designer)

    response = client.get(url(procedure, lang="vi"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="completeness-vi" data-done="2" data-total="10"' in page
    assert "10件中 2件" in page  # the staff UI is Japanese first
    assert 'value="Tên chủ nuôi?"' in page
    assert "飼い主の氏名を入力してください" in page


def test_saving_writes_one_languages_texts_into_the_draft(client, designer, procedure):
    client.force_login(designer)

    response = client.post(
        url(procedure),
        {
            "lang": "vi",
            "revision": procedure.draft_revision,
            "text:steps.1.prompt": "Đã thay đổi gì?",
            "text:steps.1.options.0.label": "Địa chỉ",
        },
    )

    assert response.status_code == 302
    draft = _draft(procedure)
    assert draft["steps"][1]["prompt"]["vi"] == "Đã thay đổi gì?"
    assert draft["steps"][1]["options"][0]["label"] == {"ja": "住所", "vi": "Địa chỉ"}
    assert draft["steps"][0]["prompt"]["vi"] == "Tên chủ nuôi?"  # not posted: kept
    with tenant_scope(procedure.municipality):
        saves = AuditLogEntry.objects.filter(action="procedures.procedure.draft_saved")
        assert saves.filter(actor=designer).exists()


def test_saving_over_a_newer_draft_changes_nothing(client, designer, procedure):
    client.force_login(designer)

    client.post(url(procedure), {"lang": "vi", "revision": 0, "text:title": "Khác"})

    assert _draft(procedure)["title"]["vi"] == "Thay đổi đăng ký chó"


def test_a_language_is_added_to_the_draft(client, designer, procedure):
    client.force_login(designer)

    client.post(url(procedure), {"action": "add", "lang": "ja-x-easy", "revision": 1})

    assert _draft(procedure)["languages"] == ["ja", "vi", "ja-x-easy"]


def test_a_language_residents_cannot_choose_is_refused(client, designer, procedure):
    client.force_login(designer)

    client.post(url(procedure), {"action": "add", "lang": "xx", "revision": 1})

    assert _draft(procedure)["languages"] == ["ja", "vi"]


def test_publish_page_warns_about_missing_translations_but_allows_publishing(
    client, designer, procedure
):
    client.force_login(designer)
    publish = reverse("admin:procedures_procedure_publish", args=[procedure.pk])

    page = client.get(publish).content.decode()
    assert 'data-testid="publish-missing-translations"' in page
    assert "ベトナム語" in page
    response = client.post(publish, {"change_note": "vi partly"})

    assert response.status_code == 302
    with tenant_scope(procedure.municipality):
        assert Procedure.objects.get(pk=procedure.pk).live_version is not None


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_outsider_gets_404_as_for_a_missing_procedure(client, outsider, procedure, method):
    client.force_login(outsider)

    response = getattr(client, method)(url(procedure), {"lang": "vi", "revision": 1})

    assert response.status_code == 404
    assert _draft(procedure) == _document()


@pytest.mark.parametrize("role", ["reviewer", "broadcaster"])
def test_other_roles_are_refused(client, request, procedure, role):
    client.force_login(request.getfixturevalue(role))

    assert client.get(url(procedure)).status_code == 403
