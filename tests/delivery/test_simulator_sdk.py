"""The real line-bot-sdk against the emulated Messaging API on a live server."""

from __future__ import annotations

import json
import uuid

import pytest
from linebot.v3.messaging import (
    BroadcastRequest,
    MessageAction,
    MulticastRequest,
    NarrowcastRequest,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)
from linebot.v3.messaging.exceptions import ApiException

from delivery.simulator import selectors, services
from delivery.simulator.models import SimulatorTranscriptEntry
from tests.delivery.conftest import SIMULATOR_URLS, make_resident

pytestmark = [pytest.mark.urls(SIMULATOR_URLS), pytest.mark.django_db(transaction=True)]


def out_messages(user):
    return [
        e.message
        for e in SimulatorTranscriptEntry.objects.filter(user=user, direction="out").order_by("id")
    ]


def test_reply_round_trip_delivers_the_message_as_sent(
    sim_channel, sim_resident, sim_messaging_api
):
    token = services.simulator_reply_token_issue(channel=sim_channel, user=sim_resident)
    quick = QuickReply(items=[QuickReplyItem(action=MessageAction(label="はい", text="はい"))])
    with sim_messaging_api(sim_channel) as api:
        response = api.reply_message_with_http_info(
            ReplyMessageRequest(
                reply_token=token,
                messages=[TextMessage(text="ご用件は?", quick_reply=quick), TextMessage(text="2")],
            )
        )

    assert response.status_code == 200
    assert len(response.data.sent_messages) == 2
    assert response.data.sent_messages[0].id.isdigit()
    assert response.headers["X-Line-Request-Id"]
    assert out_messages(sim_resident) == [
        {
            "type": "text",
            "text": "ご用件は?",
            "quickReply": {
                "items": [
                    {
                        "type": "action",
                        "action": {"type": "message", "label": "はい", "text": "はい"},
                    }
                ]
            },
        },
        {"type": "text", "text": "2"},
    ]


def test_reply_token_cannot_be_used_twice(sim_channel, sim_resident, sim_messaging_api):
    token = services.simulator_reply_token_issue(channel=sim_channel, user=sim_resident)
    request = ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="一度だけ")])
    with sim_messaging_api(sim_channel) as api:
        api.reply_message(request)
        with pytest.raises(ApiException) as raised:
            api.reply_message(request)

    assert raised.value.status == 400
    assert json.loads(raised.value.body) == {"message": "Invalid reply token"}
    assert len(out_messages(sim_resident)) == 1


def test_reply_token_of_another_channel_is_invalid(
    sim_channel, sim_other_channel, sim_resident, sim_messaging_api
):
    token = services.simulator_reply_token_issue(channel=sim_channel, user=sim_resident)
    with sim_messaging_api(sim_other_channel) as api, pytest.raises(ApiException) as raised:
        api.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="x")]))

    assert raised.value.status == 400
    assert out_messages(sim_resident) == []


def test_push_with_retry_key_is_sent_once_and_a_retry_gets_409(
    sim_channel, sim_resident, sim_messaging_api
):
    key = str(uuid.uuid4())
    request = PushMessageRequest(
        to=sim_resident.user_id, messages=[TextMessage(text="受付しました")]
    )
    with sim_messaging_api(sim_channel) as api:
        first = api.push_message_with_http_info(request, x_line_retry_key=key)
        with pytest.raises(ApiException) as raised:
            api.push_message(request, x_line_retry_key=key)

    assert first.status_code == 200
    assert raised.value.status == 409
    accepted_id = first.headers["X-Line-Request-Id"]
    assert raised.value.headers["x-line-accepted-request-id"] == accepted_id
    assert raised.value.headers["x-line-request-id"] != accepted_id
    body = json.loads(raised.value.body)
    assert body["message"] == "The retry key is already accepted"
    assert body["sentMessages"][0]["id"] == first.data.sent_messages[0].id
    assert len(out_messages(sim_resident)) == 1


def test_the_same_retry_key_on_another_channel_is_independent(
    sim_channel, sim_other_channel, sim_resident, sim_messaging_api
):
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=sim_resident.user_id, messages=[TextMessage(text="x")])
    with sim_messaging_api(sim_channel) as api:
        api.push_message(request, x_line_retry_key=key)
    with sim_messaging_api(sim_other_channel) as api:
        api.push_message(request, x_line_retry_key=key)

    assert len(out_messages(sim_resident)) == 2


def test_multicast_reaches_each_recipient_except_those_who_blocked(sim_channel, sim_messaging_api):
    alice, bob, carol = (make_resident(sim_channel, name) for name in ("A", "B", "C"))
    services.simulator_say(channel=sim_channel, user=carol, unfollow=True)
    with sim_messaging_api(sim_channel) as api:
        api.multicast(
            MulticastRequest(
                to=[alice.user_id, bob.user_id, carol.user_id],
                messages=[TextMessage(text="お知らせ")],
            )
        )

    assert out_messages(alice) == [{"type": "text", "text": "お知らせ"}]
    assert out_messages(bob) == [{"type": "text", "text": "お知らせ"}]
    assert out_messages(carol) == []
    assert selectors.quota_consumption(channel=sim_channel) == 2


def test_broadcast_and_narrowcast_reach_friends_and_report_progress(sim_channel, sim_messaging_api):
    friends = [make_resident(sim_channel, name) for name in ("A", "B")]
    with sim_messaging_api(sim_channel) as api:
        api.broadcast(BroadcastRequest(messages=[TextMessage(text="全員へ")]))
        narrowcast = api.narrowcast_with_http_info(
            NarrowcastRequest(messages=[TextMessage(text="一部へ")])
        )
        progress = api.get_narrowcast_progress(narrowcast.headers["X-Line-Request-Id"])

    assert narrowcast.status_code == 202
    assert progress.phase == "succeeded"
    assert progress.success_count == 2
    assert progress.target_count == 2
    for friend in friends:
        assert [m["text"] for m in out_messages(friend)] == ["全員へ", "一部へ"]
    assert selectors.quota_consumption(channel=sim_channel) == 4


def test_quota_counts_push_but_not_reply(sim_channel, sim_resident, sim_messaging_api):
    services.simulator_channel_configure(channel=sim_channel, monthly_quota=1000)
    token = services.simulator_reply_token_issue(channel=sim_channel, user=sim_resident)
    with sim_messaging_api(sim_channel) as api:
        api.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="r")]))
        api.push_message(
            PushMessageRequest(
                to=sim_resident.user_id, messages=[TextMessage(text="p1"), TextMessage(text="p2")]
            )
        )
        quota = api.get_message_quota()
        consumption = api.get_message_quota_consumption()

    assert quota.type == "limited"
    assert quota.value == 1000
    assert consumption.total_usage == 1  # one push to one user is one message, however many bubbles


def test_bad_access_token_is_refused_with_401(sim_channel, sim_resident, sim_messaging_api):
    with (
        sim_messaging_api(sim_channel, token="not-a-token") as api,
        pytest.raises(ApiException) as raised,
    ):
        api.push_message(
            PushMessageRequest(to=sim_resident.user_id, messages=[TextMessage(text="x")])
        )

    assert raised.value.status == 401
    assert json.loads(raised.value.body)["message"].startswith("Authentication failed")
    assert raised.value.headers["X-Line-Request-Id"]
    assert out_messages(sim_resident) == []


def test_profile_is_shown_to_friends_only(
    sim_channel, sim_other_channel, sim_resident, sim_messaging_api
):
    with sim_messaging_api(sim_channel) as api:
        profile = api.get_profile(sim_resident.user_id)
    with sim_messaging_api(sim_other_channel) as api, pytest.raises(ApiException) as raised:
        api.get_profile(sim_resident.user_id)

    assert profile.display_name == "山田 花子"
    assert profile.user_id == sim_resident.user_id
    assert profile.language == "ja"
    assert raised.value.status == 404


def test_content_of_an_image_the_resident_sent_is_served_to_its_channel_only(
    sim_channel, sim_other_channel, sim_resident, sim_messaging_api
):
    png = b"\x89PNG\r\n\x1a\n" + b"picture"
    result = services.simulator_say(channel=sim_channel, user=sim_resident, image=png)
    message_id = result.event["message"]["id"]
    with sim_messaging_api(sim_channel, blob=True) as blob:
        content = blob.get_message_content_with_http_info(message_id)
    with (
        sim_messaging_api(sim_other_channel, blob=True) as blob,
        pytest.raises(ApiException) as raised,
    ):
        blob.get_message_content(message_id)

    assert content.data == png
    assert content.headers["Content-Type"] == "image/png"
    assert raised.value.status == 404


def test_loading_animation_and_bot_info(sim_channel, sim_resident, sim_messaging_api, client):
    with sim_messaging_api(sim_channel) as api:
        response = api.show_loading_animation_with_http_info(
            ShowLoadingAnimationRequest(chat_id=sim_resident.user_id, loading_seconds=10)
        )
        info = api.get_bot_info()

    assert response.status_code == 202
    assert info.user_id == sim_channel.bot_user_id
    assert info.display_name == "デモ市 公式"
    state = client.get(
        f"/simulator/api/chat/{sim_channel.channel_id}/{sim_resident.user_id}/"
    ).json()
    assert state["loading"] is True
