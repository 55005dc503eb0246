"""LINE's rules as the emulated Messaging API enforces them (raw HTTP, no SDK-side checks)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from delivery.simulator import services
from delivery.simulator.models import SimulatorApiCall, SimulatorTranscriptEntry
from tests.delivery.conftest import SIMULATOR_URLS, bearer, line_json, make_resident

pytestmark = [pytest.mark.urls(SIMULATOR_URLS), pytest.mark.django_db]

API = "/simulator/api/line"
TEXT = {"type": "text", "text": "こんにちは"}


def post(client, sim_channel, path, body, **headers):
    return client.post(
        API + path, body, content_type="application/json", **bearer(sim_channel), **headers
    )


def delivered(user):
    return SimulatorTranscriptEntry.objects.filter(user=user, direction="out").count()


def test_every_response_carries_a_request_id(client, sim_channel):
    ok = client.get(API + "/v2/bot/info", **bearer(sim_channel))
    unauthorized = client.get(API + "/v2/bot/info")
    unknown = client.get(API + "/v2/bot/nothing-here", **bearer(sim_channel))

    assert ok.status_code == 200
    assert unauthorized.status_code == 401
    assert unknown.status_code == 404
    ids = {r["X-Line-Request-Id"] for r in (ok, unauthorized, unknown)}
    assert len(ids) == 3


def test_missing_or_wrong_bearer_token_gets_401_with_lines_message(
    client, sim_channel, sim_resident
):
    body = {"to": sim_resident.user_id, "messages": [TEXT]}
    missing = client.post(API + "/v2/bot/message/push", body, content_type="application/json")
    wrong = client.post(
        API + "/v2/bot/message/push",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer nope",
    )

    for response in (missing, wrong):
        assert response.status_code == 401
        assert line_json(response)["message"].startswith(
            "Authentication failed due to the following reason: invalid token."
        )
    assert delivered(sim_resident) == 0


def test_reply_token_expires_after_a_minute(client, sim_channel, sim_resident):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        token = services.simulator_reply_token_issue(channel=sim_channel, user=sim_resident)
        traveller.shift(timedelta(seconds=61))
        response = post(
            client, sim_channel, "/v2/bot/message/reply", {"replyToken": token, "messages": [TEXT]}
        )

    assert response.status_code == 400
    assert line_json(response) == {"message": "Invalid reply token"}
    assert delivered(sim_resident) == 0


def test_reply_token_lifetime_is_configurable_per_channel(client, sim_channel, sim_resident):
    services.simulator_channel_configure(channel=sim_channel, reply_token_ttl_seconds=600)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        token = services.simulator_reply_token_issue(channel=sim_channel, user=sim_resident)
        traveller.shift(timedelta(seconds=300))
        response = post(
            client, sim_channel, "/v2/bot/message/reply", {"replyToken": token, "messages": [TEXT]}
        )

    assert response.status_code == 200


def test_invalid_request_does_not_spend_the_reply_token(client, sim_channel, sim_resident):
    token = services.simulator_reply_token_issue(channel=sim_channel, user=sim_resident)
    bad = post(client, sim_channel, "/v2/bot/message/reply", {"replyToken": token, "messages": []})
    good = post(
        client, sim_channel, "/v2/bot/message/reply", {"replyToken": token, "messages": [TEXT]}
    )

    assert bad.status_code == 400
    assert good.status_code == 200


def test_more_than_five_messages_are_refused(client, sim_channel, sim_resident):
    response = post(
        client,
        sim_channel,
        "/v2/bot/message/push",
        {"to": sim_resident.user_id, "messages": [TEXT] * 6},
    )

    assert response.status_code == 400
    assert line_json(response) == {
        "message": "The request body has 1 error(s)",
        "details": [{"message": "Size must be between 1 and 5", "property": "messages"}],
    }
    assert delivered(sim_resident) == 0


def test_more_than_500_multicast_recipients_are_refused(client, sim_channel, sim_resident):
    to = [sim_resident.user_id] + [f"U{i:032x}" for i in range(500)]
    response = post(
        client, sim_channel, "/v2/bot/message/multicast", {"to": to, "messages": [TEXT]}
    )

    assert response.status_code == 400
    assert line_json(response)["details"] == [
        {"message": "Size must be between 1 and 500", "property": "to"}
    ]
    assert delivered(sim_resident) == 0


def test_invalid_message_objects_are_refused_with_their_property_paths(
    client, sim_channel, sim_resident
):
    messages = [
        {"type": "text", "text": ""},
        {
            "type": "text",
            "text": "x",
            "quickReply": {
                "items": [
                    {
                        "type": "action",
                        "action": {
                            "type": "postback",
                            "label": "ラベルが二十文字を超えるとても長いボタンです",
                            "data": "a",
                        },
                    },
                ]
            },
        },
        {"type": "flex", "contents": {"type": "bubble"}},
        {"type": "balloon"},
    ]
    response = post(
        client,
        sim_channel,
        "/v2/bot/message/push",
        {"to": sim_resident.user_id, "messages": messages},
    )

    assert response.status_code == 400
    answer = line_json(response)
    assert answer["message"] == "The request body has 4 error(s)"
    assert [d["property"] for d in answer["details"]] == [
        "messages[0].text",
        "messages[1].quickReply.items[0].action.label",
        "messages[2].altText",
        "messages[3].type",
    ]
    assert answer["details"][0]["message"] == "May not be empty"
    assert answer["details"][1]["message"] == "Length must be between 0 and 20"


def test_body_that_is_not_json_is_refused(client, sim_channel):
    response = client.post(
        API + "/v2/bot/message/broadcast",
        "{not json",
        content_type="application/json",
        **bearer(sim_channel),
    )

    assert response.status_code == 400
    assert line_json(response)["message"].startswith("The request body could not be parsed as JSON")


def test_push_to_an_unknown_user_fails_to_send(client, sim_channel):
    response = post(
        client, sim_channel, "/v2/bot/message/push", {"to": "U" + "0" * 32, "messages": [TEXT]}
    )

    assert response.status_code == 400
    assert line_json(response) == {"message": "Failed to send messages"}


def test_retry_key_on_reply_is_refused(client, sim_channel, sim_resident):
    token = services.simulator_reply_token_issue(channel=sim_channel, user=sim_resident)
    response = post(
        client,
        sim_channel,
        "/v2/bot/message/reply",
        {"replyToken": token, "messages": [TEXT]},
        HTTP_X_LINE_RETRY_KEY=str(uuid.uuid4()),
    )

    assert response.status_code == 400


def test_refused_request_does_not_use_up_its_retry_key(client, sim_channel, sim_resident):
    key = str(uuid.uuid4())
    refused = post(
        client,
        sim_channel,
        "/v2/bot/message/push",
        {"to": sim_resident.user_id, "messages": []},
        HTTP_X_LINE_RETRY_KEY=key,
    )
    accepted = post(
        client,
        sim_channel,
        "/v2/bot/message/push",
        {"to": sim_resident.user_id, "messages": [TEXT]},
        HTTP_X_LINE_RETRY_KEY=key,
    )
    again = post(
        client,
        sim_channel,
        "/v2/bot/message/push",
        {"to": sim_resident.user_id, "messages": [TEXT]},
        HTTP_X_LINE_RETRY_KEY=key,
    )

    assert [refused.status_code, accepted.status_code, again.status_code] == [400, 200, 409]
    assert again["X-Line-Accepted-Request-Id"] == accepted["X-Line-Request-Id"]
    assert delivered(sim_resident) == 1


def test_rate_limit_answers_429_until_the_window_passes(client, sim_channel, sim_resident):
    services.simulator_channel_configure(channel=sim_channel, rate_limits={"push": [2, 60]})
    body = {"to": sim_resident.user_id, "messages": [TEXT]}
    with time_machine.travel(timezone.now().replace(second=0), tick=False) as traveller:
        statuses = [
            post(client, sim_channel, "/v2/bot/message/push", body).status_code for _ in range(3)
        ]
        limited = post(client, sim_channel, "/v2/bot/message/push", body)
        traveller.shift(timedelta(seconds=60))
        later = post(client, sim_channel, "/v2/bot/message/push", body)

    assert statuses == [200, 200, 429]
    assert line_json(limited) == {
        "message": "The API rate limit has been exceeded. Try again later."
    }
    assert later.status_code == 200
    assert delivered(sim_resident) == 3


def test_rate_limits_are_counted_per_channel(client, sim_channel, sim_other_channel, sim_resident):
    services.simulator_channel_configure(channel=sim_channel, rate_limits={"push": [1, 60]})
    body = {"to": sim_resident.user_id, "messages": [TEXT]}
    with time_machine.travel(timezone.now().replace(second=0), tick=False):
        first = post(client, sim_channel, "/v2/bot/message/push", body)
        other = post(client, sim_other_channel, "/v2/bot/message/push", body)
        second = post(client, sim_channel, "/v2/bot/message/push", body)

    assert [first.status_code, other.status_code, second.status_code] == [200, 200, 429]


def test_blocked_user_receives_nothing_but_the_send_is_accepted(client, sim_channel, sim_resident):
    services.simulator_say(channel=sim_channel, user=sim_resident, unfollow=True)
    response = post(
        client,
        sim_channel,
        "/v2/bot/message/push",
        {"to": sim_resident.user_id, "messages": [TEXT]},
    )

    assert response.status_code == 200
    assert delivered(sim_resident) == 0


def test_monthly_quota_is_enforced_and_counts_recipients(client, sim_channel):
    services.simulator_channel_configure(channel=sim_channel, monthly_quota=2)
    users = [make_resident(sim_channel, name).user_id for name in ("A", "B", "C")]
    first = post(
        client, sim_channel, "/v2/bot/message/multicast", {"to": users[:2], "messages": [TEXT]}
    )
    over = post(client, sim_channel, "/v2/bot/message/push", {"to": users[2], "messages": [TEXT]})
    consumption = client.get(API + "/v2/bot/message/quota/consumption", **bearer(sim_channel))

    assert first.status_code == 200
    assert over.status_code == 429
    assert line_json(over) == {"message": "You have reached your monthly limit."}
    assert line_json(consumption) == {"totalUsage": 2}


def test_every_call_is_logged_with_its_request_id(client, sim_channel, sim_resident):
    response = post(
        client,
        sim_channel,
        "/v2/bot/message/push",
        {"to": sim_resident.user_id, "messages": [TEXT]},
    )

    call = SimulatorApiCall.objects.get(request_id=response["X-Line-Request-Id"])
    assert call.channel == sim_channel
    assert call.status == 200
    assert call.quota_consumed == 1
    assert call.path.endswith("/v2/bot/message/push")


def test_validate_endpoint_checks_without_sending(client, sim_channel, sim_resident):
    good = post(client, sim_channel, "/v2/bot/message/validate/push", {"messages": [TEXT]})
    bad = post(
        client, sim_channel, "/v2/bot/message/validate/push", {"messages": [{"type": "text"}]}
    )

    assert good.status_code == 200
    assert bad.status_code == 400
    assert line_json(bad)["details"] == [
        {"message": "must be specified", "property": "messages[0].text"}
    ]
    assert delivered(sim_resident) == 0


def test_a_read_writes_nothing_until_its_answer_is_sent(client, sim_channel, sim_resident):
    path = f"{API}/v2/bot/profile/{sim_resident.user_id}"
    response = client.get(path, **bearer(sim_channel))

    written_before_sending = SimulatorApiCall.objects.count()
    profile = line_json(response)  # the server sends the body, then closes the response

    assert written_before_sending == 0
    assert profile["userId"] == sim_resident.user_id
    call = SimulatorApiCall.objects.get(request_id=response["X-Line-Request-Id"])
    assert (call.method, call.status, call.quota_consumed) == ("GET", 200, 0)


def test_reads_are_rate_limited_too(client, sim_channel, sim_resident):
    services.simulator_channel_configure(channel=sim_channel, rate_limits={"default": [2, 60]})
    path = f"{API}/v2/bot/profile/{sim_resident.user_id}"
    with time_machine.travel(timezone.now().replace(second=0), tick=False):
        answers = [client.get(path, **bearer(sim_channel)) for _ in range(3)]
        for answer in answers[:2]:
            line_json(answer)  # sent: now counted
        limited = client.get(path, **bearer(sim_channel))

    assert [answer.status_code for answer in answers] == [200, 200, 200]  # none sent yet
    assert limited.status_code == 429
