"""Try it: the designer's test resident runs the draft in the LINE simulator."""

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from delivery.broadcasts.testers import trial_line_user_id
from delivery.models import Friend
from procedures.models import Conversation, Procedure, Submission
from procedures.services import procedure_create
from tests.delivery.line_world import CHANNEL_ID, SimResident, line_world  # noqa: F401
from tests.procedures.docs import pet_registration


@pytest.fixture
def procedure(city, designer):
    return procedure_create(actor=designer, municipality=city, document=pet_registration())


def try_url(procedure):
    return reverse("admin:procedures_procedure_builder_try", args=[procedure.pk])


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("line_world")
def test_try_it_pushes_the_drafts_first_question_to_the_designers_test_resident(
    client, designer, procedure, live_server
):
    client.force_login(designer)

    response = client.post(try_url(procedure))

    user_id = trial_line_user_id(user=designer)
    assert response.status_code == 302
    assert response["Location"] == f"/simulator/?channel={CHANNEL_ID}&user={user_id}"
    resident = SimResident(live_server.url, CHANNEL_ID, user_id)
    assert "飼い主の氏名を入力してください" in [m.get("text") for m in resident.received()]
    with scopes_disabled():
        conversation = Conversation.objects.get()
        friend = Friend.objects.get(line_user_id=user_id)
    assert conversation.is_test and conversation.version is None
    assert friend.is_test and friend.is_following


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("line_world")
def test_answers_in_the_simulator_finish_a_test_submission_kept_apart(
    client, designer, procedure, live_server
):
    client.force_login(designer)
    client.post(try_url(procedure))
    client.post(try_url(procedure))  # trying again starts over: one open test conversation
    resident = SimResident(live_server.url, CHANNEL_ID, trial_line_user_id(user=designer))

    for text in ["山田太郎", "1", "スキップ", "送信"]:
        resident.say(text)

    resident.received()
    assert "受付番号" in resident.texts()
    with scopes_disabled():
        submission = Submission.objects.get()
        assert submission.is_test and submission.version is None
        assert Conversation.objects.filter(status="cancelled", is_test=True).count() == 1


@pytest.mark.django_db
def test_try_it_refuses_an_invalid_draft_and_says_where(client, designer, procedure, city):
    draft = pet_registration()
    draft["steps"][1]["options"] = [{"value": "x", "label": {"ja": "A"}}] * 2
    with scopes_disabled():
        Procedure.objects.filter(pk=procedure.pk).update(draft=draft)
    client.force_login(designer)

    response = client.post(try_url(procedure), follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert any('steps[1] (id "change")' in m for m in messages)
    with scopes_disabled():
        assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_try_it_explains_when_no_simulator_channel_is_connected(client, designer, procedure):
    client.force_login(designer)

    response = client.post(try_url(procedure), follow=True)

    assert response.redirect_chain[-1][0] == reverse(
        "admin:procedures_procedure_builder", args=[procedure.pk]
    )
    assert "シミュレーター" in str(next(iter(response.context["messages"])))


@pytest.mark.django_db
def test_an_outsider_cannot_try_another_municipalitys_draft(client, outsider, procedure):
    client.force_login(outsider)

    assert client.post(try_url(procedure)).status_code == 404


@pytest.mark.django_db
def test_the_builder_offers_try_it_only_where_a_test_chat_can_run(
    client, designer, procedure, monkeypatch
):
    from procedures.builder import registry

    client.force_login(designer)
    page = reverse("admin:procedures_procedure_builder", args=[procedure.pk])
    assert 'data-testid="try-button"' in client.get(page).content.decode()
    monkeypatch.setattr(registry, "_slots", {})  # as in production: no simulator, no provider
    body = client.get(page).content.decode()
    assert 'data-testid="try-button"' not in body
    assert 'id="try-form"' in body  # the page's CSRF token still lives there
