"""Console: live segment count, broadcast progress JSON; another municipality sees nothing."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.messages import render_items
from delivery.broadcasts.models import Broadcast, BroadcastStatus
from procedures.services import procedure_create, procedure_publish
from tests.delivery.test_segments import friend
from tests.procedures.docs import pet_registration


@pytest.fixture
def broadcast(channel, broadcaster):
    return broadcasts.broadcast_create(
        actor=broadcaster, channel=channel, title="お知らせ", items=[{"type": "text", "text": "x"}]
    )


RULES = {"match": "all", "conditions": [{"field": "area", "op": "is", "value": "north"}]}


def _count(client):
    return client.post(
        reverse("admin:delivery_segment_count"), json.dumps(RULES), content_type="application/json"
    )


def test_the_rule_builder_counts_matching_friends_live(client, broadcaster, channel):
    friend(channel, 1, area="north")
    friend(channel, 2, area="south")
    client.force_login(broadcaster)
    assert _count(client).json() == {"count": 1}


def test_a_malformed_rule_is_a_400_with_the_reason(client, broadcaster, channel):
    client.force_login(broadcaster)
    response = client.post(
        reverse("admin:delivery_segment_count"),
        '{"match": "most"}',
        content_type="application/json",
    )
    assert response.status_code == 400


def test_progress_reports_the_counts(client, broadcaster, broadcast):
    client.force_login(broadcaster)
    response = client.get(reverse("admin:delivery_broadcast_progress", args=[broadcast.pk]))
    assert response.json()["remaining"] == 0
    assert response.json()["status"] == "draft"


def test_the_preview_is_the_exact_multicast_payload(client, broadcaster, broadcast):
    client.force_login(broadcaster)
    response = client.get(reverse("admin:delivery_broadcast_preview", args=[broadcast.pk]))

    assert response.json()["messages"] == broadcasts.render_for(broadcast)
    assert response.json()["personal"] is False


def test_the_preview_shows_personal_variables_with_a_sample_name(client, broadcaster, channel):
    items = [
        {"type": "text", "text": "{display_name}さん、{municipality}からのお知らせです"},
        {"type": "flex", "template": "notice", "title": "粗大ごみ", "body": "受付中"},
    ]
    broadcast = broadcasts.broadcast_create(
        actor=broadcaster, channel=channel, title="個別", items=items
    )
    client.force_login(broadcaster)
    data = client.get(reverse("admin:delivery_broadcast_preview", args=[broadcast.pk])).json()

    assert data["personal"] is True
    assert data["messages"] == broadcasts.render_for(broadcast, display_name=data["sample_name"])
    assert data["messages"][0]["text"] == f"{data['sample_name']}さん、デモ市からのお知らせです"
    assert data["messages"][1]["type"] == "flex"


def test_the_broadcast_page_loads_the_shared_line_renderer(client, broadcaster, broadcast):
    client.force_login(broadcaster)
    page = client.get(reverse("admin:delivery_broadcast_change", args=[broadcast.pk]))

    html = page.content.decode()
    assert "line/render.js" in html
    assert reverse("admin:delivery_broadcast_preview", args=[broadcast.pk]) in html


def test_the_progress_bar_appears_once_sending_has_started(client, broadcaster, broadcast):
    client.force_login(broadcaster)
    page = reverse("admin:delivery_broadcast_change", args=[broadcast.pk])
    progress = reverse("admin:delivery_broadcast_progress", args=[broadcast.pk])
    assert progress not in client.get(page).content.decode()  # a draft: all zeros, not shown
    with scopes_disabled():
        Broadcast.objects.filter(pk=broadcast.pk).update(
            status=BroadcastStatus.SENDING, started_at=timezone.now()
        )
    assert progress in client.get(page).content.decode()


def test_an_outsider_sees_neither_progress_nor_friends(client, outsider, broadcast, channel):
    friend(channel, 1, area="north")
    client.force_login(outsider)
    progress = client.get(reverse("admin:delivery_broadcast_progress", args=[broadcast.pk]))
    assert progress.status_code == 404
    preview = client.get(reverse("admin:delivery_broadcast_preview", args=[broadcast.pk]))
    assert preview.status_code == 404
    assert _count(client).status_code == 404  # outsider's town has no channel


def test_the_broadcast_list_runs_a_fixed_number_of_queries(
    client, broadcaster, channel, django_assert_max_num_queries
):
    for n in range(5):
        broadcasts.broadcast_create(
            actor=broadcaster, channel=channel, title=f"b{n}", items=[{"type": "text", "text": "x"}]
        )
    client.force_login(broadcaster)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("admin:delivery_broadcast_changelist")).status_code == 200


def _draft_preview(client, body: str):
    return client.post(
        reverse("admin:delivery_broadcast_draft_preview"), body, content_type="application/json"
    )


def test_messages_are_previewed_while_composing_before_the_first_save(client, broadcaster, city):
    procedure = procedure_create(actor=None, municipality=city, document=pet_registration())
    procedure_publish(actor=None, procedure=procedure)
    items = [
        {"type": "text", "text": "{display_name}さん、{municipality}からのお知らせです"},
        {"type": "button", "text": "お申し込みは", "label": "申し込む", "procedure": "dog-change"},
    ]
    client.force_login(broadcaster)
    data = _draft_preview(client, json.dumps(items)).json()

    name = data["sample_name"]
    assert data["messages"] == render_items(items, {"municipality": "デモ市", "display_name": name})
    assert data["messages"][0]["text"] == f"{name}さん、デモ市からのお知らせです"
    assert data["personal"] is True
    with scopes_disabled():
        assert not Broadcast.objects.exists()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('[{"type": "text", "text": "x"', "JSON"),
        ("[]", "1"),
        ('[{"type": "image", "url": "http://example.jp/a.png"}]', "https://"),
        ('[{"type": "text", "text": 5}]', "1件目"),
        ('[{"type": "flex", "title": "t", "body": "b", "url": "javascript:x"}]', "https://"),
    ],
)
def test_a_message_that_cannot_be_sent_is_previewed_as_its_reason(
    client, broadcaster, body, reason
):
    client.force_login(broadcaster)
    response = _draft_preview(client, body)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_staff_without_a_broadcast_role_get_no_preview(client, designer):
    client.force_login(designer)
    assert _draft_preview(client, '[{"type": "text", "text": "x"}]').status_code == 404


def test_the_add_page_carries_the_live_preview_and_the_test_send(client, broadcaster, channel):
    client.force_login(broadcaster)
    html = client.get(reverse("admin:delivery_broadcast_add")).content.decode()

    assert "line/render.js" in html and "broadcasts/preview.js" in html
    assert reverse("admin:delivery_broadcast_draft_preview") in html
    assert 'name="_test_send"' in html
    assert 'data-testid="no-test-resident"' in html


def test_a_sent_broadcast_shows_its_saved_messages_without_live_editing(
    client, broadcaster, broadcast
):
    with scopes_disabled():
        Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENT)
    client.force_login(broadcaster)
    html = client.get(reverse("admin:delivery_broadcast_change", args=[broadcast.pk])).content
    html = html.decode()

    assert reverse("admin:delivery_broadcast_preview", args=[broadcast.pk]) in html
    assert reverse("admin:delivery_broadcast_draft_preview") not in html
    assert 'name="_test_send"' not in html
