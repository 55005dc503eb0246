"""The webhook refuses what is not LINE's, stores each event once and never answers 500."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery.inbox import inbox_store, queued_flag_clear
from delivery.models import WebhookEvent
from delivery.services import line_channel_create

pytestmark = pytest.mark.django_db

SECRET = "s3cret-of-the-demo-channel"
CHANNEL_ID = "1650000000"


@pytest.fixture
def channel(city):
    return line_channel_create(
        actor=None,
        municipality=city,
        name="デモ市",
        channel_id=CHANNEL_ID,
        channel_secret=SECRET,
        access_token="token",
    )


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def text_event(n: int = 1, user: str = "U" + "a" * 32, **extra) -> dict:
    return {
        "type": "message",
        "mode": "active",
        "timestamp": 1_790_000_000_000 + n,
        "source": {"type": "user", "userId": user},
        "webhookEventId": f"01JEVENT{n:018d}",
        "deliveryContext": {"isRedelivery": False},
        "replyToken": f"token{n}",
        "message": {"id": str(n), "type": "text", "quoteToken": "q", "text": "こんにちは"},
        **extra,
    }


@pytest.fixture(
    autouse=True,
    params=["database", pytest.param("redis", marks=pytest.mark.redis)],
)
def inbox(request, settings):
    """Every test runs with both inboxes: stored before answering, or via the Redis list."""
    if request.param == "redis" and not settings.REDIS_URL:
        pytest.skip("the Redis inbox needs REDIS_URL (make test sets it)")
    settings.LINE_WEBHOOK_INBOX = request.param
    request.getfixturevalue("monkeypatch").setattr("delivery.inbox.STORE_LINGER", 0.02)
    return request.param


def post(client, body: bytes, signature: str | None, channel_id: str = CHANNEL_ID):
    """POST to the webhook; with the Redis inbox, then store what it queued (the task's work)."""
    headers = {"X-Line-Signature": signature} if signature is not None else {}
    response = client.post(
        reverse("line-webhook", args=[channel_id]),
        body,
        content_type="application/json",
        headers=headers,
    )
    if django_settings.LINE_WEBHOOK_INBOX == "redis":
        inbox_store()
    return response


def stored() -> int:
    with scopes_disabled():
        return WebhookEvent.objects.count()


def test_verify_button_with_no_events_gets_200(client, channel):
    body = json.dumps({"destination": "U0", "events": []}).encode()
    assert post(client, body, sign(body)).status_code == 200


@pytest.mark.parametrize(
    "signature",
    ["", "not-base64", sign(b"another body"), sign(b"x", "old-secret")],
    ids=["empty", "garbage", "other-body", "other-secret"],
)
def test_forged_or_missing_signatures_are_refused_and_nothing_is_stored(client, channel, signature):
    body = json.dumps({"events": [text_event()]}).encode()
    assert post(client, body, signature).status_code == 401
    assert post(client, body, None).status_code == 401
    assert stored() == 0


def test_signature_made_with_a_rotated_out_secret_is_refused(client, channel):
    body = json.dumps({"events": [text_event()]}).encode()
    stale = sign(body, "the-secret-before-rotation")
    assert post(client, body, stale).status_code == 401


def test_unknown_channel_is_404(client, channel):
    body = json.dumps({"events": []}).encode()
    assert post(client, body, sign(body), channel_id="999").status_code == 404


def test_another_channels_secret_does_not_open_this_channel(client, channel, other_town):
    line_channel_create(
        actor=None,
        municipality=other_town,
        name="町",
        channel_id="1650000001",
        channel_secret="town-secret",
        access_token="t2",
    )
    body = json.dumps({"events": [text_event()]}).encode()
    assert post(client, body, sign(body, "town-secret")).status_code == 401


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", b'{"events": {}}', "\ud800".encode("utf-8", "surrogatepass")]
)
def test_malformed_bodies_get_400(client, channel, body):
    assert post(client, body, sign(body)).status_code == 400


def test_oversized_body_gets_413(client, channel):
    body = json.dumps({"events": [text_event()], "padding": "x" * 1_100_000}).encode()
    assert post(client, body, sign(body)).status_code == 413


@pytest.fixture
def published(monkeypatch):
    """The processing tasks the webhook publishes (not run)."""
    from delivery.tasks import process_resident_events

    calls = []
    monkeypatch.setattr(process_resident_events, "delay", lambda *args: calls.append(args))
    return calls


def test_each_event_is_stored_once_even_when_redelivered(client, channel, published):
    event = text_event()
    body = json.dumps({"events": [event]}).encode()
    assert post(client, body, sign(body)).json()["received"] == 1
    assert published == [(channel.pk, event["source"]["userId"])]
    event["deliveryContext"]["isRedelivery"] = True
    again = json.dumps({"events": [event]}).encode()
    assert post(client, again, sign(again)).status_code == 200
    assert stored() == 1
    assert len(published) == 1  # no second processing task


def test_one_task_per_resident_for_a_batch_of_events(client, channel, published):
    events = [text_event(n, user="U" + ("a" if n % 2 else "b") * 32) for n in range(6)]
    body = json.dumps({"events": events}).encode()
    assert post(client, body, sign(body)).json()["received"] == 6
    assert stored() == 6
    assert sorted(user for _pk, user in published) == ["U" + "a" * 32, "U" + "b" * 32]


def test_a_resident_with_a_task_waiting_gets_no_second_task(client, channel, published):
    user = "U" + "a" * 32
    for n in range(3):
        body = json.dumps({"events": [text_event(n, user=user)]}).encode()
        assert post(client, body, sign(body)).status_code == 200
    assert stored() == 3
    assert len(published) == 1  # one task will read all three events
    queued_flag_clear(channel_pk=channel.pk, line_user_id=user)  # what the task does first
    body = json.dumps({"events": [text_event(9, user=user)]}).encode()
    post(client, body, sign(body))
    assert len(published) == 2


def test_a_changed_secret_applies_to_the_next_request(client, channel):
    body = json.dumps({"events": []}).encode()
    assert post(client, body, sign(body)).status_code == 200  # the channel is now cached
    channel.channel_secret = "rotated-secret"
    channel.save()
    assert post(client, body, sign(body)).status_code == 401
    assert post(client, body, sign(body, "rotated-secret")).status_code == 200


def test_text_postgresql_cannot_hold_is_replaced_not_refused(client, channel, published):
    event = text_event(1)
    event["message"]["text"] = "\ud800穴\x00"  # a lone surrogate and U+0000, JSON-escaped
    body = json.dumps({"events": [event]}).encode()
    assert post(client, body, sign(body)).status_code == 200
    with scopes_disabled():
        assert WebhookEvent.objects.get().payload["message"]["text"] == "\ufffd穴"
    assert len(published) == 1


def test_unknown_and_group_events_are_kept_but_skipped(client, channel, published):
    events = [
        text_event(1, type="beacon"),
        text_event(2, source={"type": "group", "groupId": "C1", "userId": "U" + "b" * 32}),
        text_event(3, mode="standby"),
        {"type": "message", "source": {"type": "user"}},  # no webhookEventId: logged, dropped
    ]
    body = json.dumps({"events": events}).encode()
    assert post(client, body, sign(body)).status_code == 200
    with scopes_disabled():
        assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"skipped"}
    assert published == []


def test_standby_channel_stores_but_does_not_answer(client, channel, published):
    body = json.dumps({"events": [text_event(1)]}).encode()
    assert post(client, body, sign(body)).status_code == 200  # cached while active
    channel.mode = "standby"
    channel.save()
    body = json.dumps({"events": [text_event(2)]}).encode()
    assert post(client, body, sign(body)).status_code == 200
    assert len(published) == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
event_like = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["message", "postback", "follow", "unfollow", "join", "x"])
        | st.text(max_size=5),
        "webhookEventId": st.text(max_size=50) | st.integers(),
        "timestamp": st.integers() | st.text(max_size=5),
        "source": st.fixed_dictionaries(
            {},
            optional={
                "type": st.sampled_from(["user", "group"]),
                "userId": st.text(max_size=40) | st.integers(),
            },
        )
        | json_values,
        "message": json_values,
        "postback": json_values,
        "mode": st.sampled_from(["active", "standby"]) | json_values,
        "deliveryContext": json_values,
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    payload=st.one_of(
        json_values, st.fixed_dictionaries({"events": st.lists(event_like, max_size=4)})
    )
)
def test_any_correctly_signed_body_never_gets_a_500(client, channel, payload):
    body = json.dumps(payload).encode()
    response = post(client, body, sign(body))
    assert response.status_code < 500


def test_an_unreadable_content_length_is_a_400_before_the_signature(client, channel):
    response = client.post(
        reverse("line-webhook", args=[CHANNEL_ID]),
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH="abc",
    )
    assert response.status_code == 400


@pytest.mark.parametrize("depth", [40, 5_000])
def test_a_signed_body_nested_too_deeply_is_a_400(client, channel, depth):
    nested = "[" * depth + "]" * depth
    body = f'{{"events": [], "x": {nested}}}'.encode()
    assert post(client, body, sign(body)).status_code == 400


def test_an_impossible_timestamp_still_gets_the_resident_an_answer(client, channel, published):
    body = json.dumps({"events": [text_event(1, timestamp=2**53 - 1)]}).encode()
    assert post(client, body, sign(body)).status_code == 200
    with scopes_disabled():
        event = WebhookEvent.objects.get()
    assert event.status == "pending"
    assert abs(event.timestamp / 1000 - time.time()) < 60
    assert len(published) == 1
