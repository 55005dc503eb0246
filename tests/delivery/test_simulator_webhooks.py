"""Residents' actions become signed webhook events, as LINE sends them."""

from __future__ import annotations

import base64
import json
import re

import pytest
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhooks import (
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)

from delivery.simulator import services
from delivery.simulator.models import SimulatorMessageContent, SimulatorTranscriptEntry
from tests.delivery.conftest import LINE_API_PATH, SIMULATOR_URLS, line_json

pytestmark = [pytest.mark.urls(SIMULATOR_URLS), pytest.mark.django_db(transaction=True)]

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def say(client, sim_channel, **body):
    response = client.post(
        "/simulator/api/say/",
        {"channel_id": sim_channel.channel_id, **body},
        content_type="application/json",
    )
    return response


def parse(sim_channel, received):
    """The SDK's own parser: it verifies the signature and builds typed events."""
    return WebhookParser(sim_channel.channel_secret).parse(
        received["body"], received["signature"], as_payload=True
    )


def test_text_is_posted_as_a_signed_message_event(client, sim_channel, sim_resident, sim_webhook):
    response = say(client, sim_channel, user_id=sim_resident.user_id, text="粗大ごみ")

    assert response.status_code == 200
    assert response.json()["webhook_status"] == 200
    payload = parse(sim_channel, sim_webhook.last)
    assert payload.destination == sim_channel.bot_user_id
    [event] = payload.events
    assert isinstance(event, MessageEvent)
    assert isinstance(event.message, TextMessageContent)
    assert event.message.text == "粗大ごみ"
    assert event.message.quote_token
    assert event.source.user_id == sim_resident.user_id
    assert event.mode == "active"
    assert event.delivery_context.is_redelivery is False
    assert ULID.match(event.webhook_event_id)
    assert event.reply_token
    assert sim_webhook.last["user_agent"].startswith("LineBotWebhook/")
    assert response.json()["event"] == json.loads(sim_webhook.last["body"])["events"][0]


def test_signature_does_not_verify_with_another_channels_secret(
    client, sim_channel, sim_other_channel, sim_resident, sim_webhook
):
    say(client, sim_channel, user_id=sim_resident.user_id, text="x")

    with pytest.raises(InvalidSignatureError):
        parse(sim_other_channel, sim_webhook.last)


def test_postback_from_a_datetimepicker_carries_params(
    client, sim_channel, sim_resident, sim_webhook
):
    say(
        client,
        sim_channel,
        user_id=sim_resident.user_id,
        postback={"data": "step=date", "params": {"date": "2026-12-01"}},
    )

    [event] = parse(sim_channel, sim_webhook.last).events
    assert isinstance(event, PostbackEvent)
    assert event.postback.data == "step=date"
    assert event.postback.params == {"date": "2026-12-01"}
    assert event.reply_token


def test_location_is_posted_with_coordinates(client, sim_channel, sim_resident, sim_webhook):
    say(
        client,
        sim_channel,
        user_id=sim_resident.user_id,
        location={"latitude": 35.6895, "longitude": 139.6917, "address": "東京都新宿区西新宿2-8-1"},
    )

    [event] = parse(sim_channel, sim_webhook.last).events
    assert isinstance(event.message, LocationMessageContent)
    assert event.message.latitude == 35.6895
    assert event.message.longitude == 139.6917
    assert event.message.address == "東京都新宿区西新宿2-8-1"


def test_image_is_posted_and_its_bytes_kept_for_the_content_api(
    client, sim_channel, sim_resident, sim_webhook
):
    jpeg = b"\xff\xd8\xff\xe0 a photo of a sofa"
    say(client, sim_channel, user_id=sim_resident.user_id, image=base64.b64encode(jpeg).decode())

    [event] = parse(sim_channel, sim_webhook.last).events
    assert isinstance(event.message, ImageMessageContent)
    assert event.message.content_provider.type == "line"
    stored = SimulatorMessageContent.objects.get(message_id=event.message.id)
    assert bytes(stored.data) == jpeg
    assert stored.content_type == "image/jpeg"


def test_unfollow_then_follow_reports_unblocking(client, sim_channel, sim_resident, sim_webhook):
    say(client, sim_channel, user_id=sim_resident.user_id, unfollow=True)
    [unfollow] = parse(sim_channel, sim_webhook.last).events
    blocked = say(client, sim_channel, user_id=sim_resident.user_id, text="まだ話せる?")
    say(client, sim_channel, user_id=sim_resident.user_id, follow=True)
    [follow] = parse(sim_channel, sim_webhook.last).events

    assert isinstance(unfollow, UnfollowEvent)
    assert "replyToken" not in json.loads(sim_webhook.requests[0]["body"])["events"][0]
    assert blocked.status_code == 409
    assert isinstance(follow, FollowEvent)
    assert follow.follow.is_unblocked is True
    assert len(sim_webhook.requests) == 2


def test_unknown_user_id_creates_the_resident(client, sim_channel, sim_webhook):
    user_id = "U" + "ab" * 16
    response = say(client, sim_channel, user_id=user_id, text="はじめまして", display_name="新住民")

    assert response.status_code == 200
    assert response.json()["user_id"] == user_id
    [event] = parse(sim_channel, sim_webhook.last).events
    assert event.source.user_id == user_id
    profile = client.get(
        f"{LINE_API_PATH}/v2/bot/profile/{user_id}",
        HTTP_AUTHORIZATION=f"Bearer {sim_channel.channel_access_token}",
    )
    assert line_json(profile)["displayName"] == "新住民"


def test_say_refuses_bad_input(client, sim_channel, sim_resident):
    both = say(client, sim_channel, user_id=sim_resident.user_id, text="a", follow=True)
    bad_user = say(client, sim_channel, user_id="nobody", text="a")
    no_channel = client.post(
        "/simulator/api/say/", {"channel_id": "404", "text": "a"}, content_type="application/json"
    )

    assert both.status_code == 400
    assert bad_user.status_code == 400
    assert no_channel.status_code == 404


def test_webhook_failure_is_reported_not_raised(client, sim_channel, sim_resident, sim_webhook):
    sim_webhook.status = 500
    failing = say(client, sim_channel, user_id=sim_resident.user_id, text="a")
    services.simulator_channel_configure(channel=sim_channel, webhook_url="http://127.0.0.1:9/")
    unreachable = say(client, sim_channel, user_id=sim_resident.user_id, text="b")

    assert failing.json()["webhook_status"] == 500
    assert unreachable.status_code == 200
    assert unreachable.json()["webhook_status"] is None
    assert unreachable.json()["webhook_error"]


def test_redelivery_resends_the_same_event_marked_as_redelivered(
    client, sim_channel, sim_resident, sim_webhook
):
    result = services.simulator_say(channel=sim_channel, user=sim_resident, text="もう一度")
    services.simulator_webhook_redeliver(entry=result.entry)

    first, again = (parse(sim_channel, r).events[0] for r in sim_webhook.requests)
    assert again.webhook_event_id == first.webhook_event_id
    assert first.delivery_context.is_redelivery is False
    assert again.delivery_context.is_redelivery is True
    assert SimulatorTranscriptEntry.objects.filter(direction="in").count() == 1


def test_echo_bot_round_trip_is_ordered_in_the_transcript(
    client, sim_channel, sim_resident, sim_webhook, sim_line_host
):
    sim_webhook.echo_host = sim_line_host
    sim_webhook.echo_token = sim_channel.channel_access_token
    say(client, sim_channel, user_id=sim_resident.user_id, text="一")
    say(client, sim_channel, user_id=sim_resident.user_id, postback={"data": "二"})

    entries = client.get(f"/simulator/api/transcript/{sim_resident.user_id}/").json()
    assert [
        (e["direction"], e["message"].get("text") or e["message"].get("type")) for e in entries
    ] == [
        ("in", "message"),
        ("out", "echo: 一"),
        ("in", "postback"),
        ("out", "echo: 二"),
    ]
    assert entries[0]["message"]["message"]["text"] == "一"
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
    later = client.get(
        f"/simulator/api/transcript/{sim_resident.user_id}/?after={entries[1]['id']}"
    ).json()
    assert [e["id"] for e in later] == [e["id"] for e in entries[2:]]
