"""Fuzz: anything POSTed to the webhook, signed or not, is a 2xx/4xx and leaves only
events that can be processed."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from hypothesis import example, given
from hypothesis import strategies as st

from delivery.models import WebhookEvent
from delivery.services import line_channel_create
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.strategies import depths, json_values, nasty_text, nested

pytestmark = pytest.mark.django_db

SECRET = "fuzz-channel-secret"
CHANNEL_ID = "1650009999"
LINE_EPOCH = datetime(2011, 1, 1, tzinfo=UTC)


@pytest.fixture
def channel(city, settings):
    settings.LINE_WEBHOOK_INBOX = "database"
    return line_channel_create(
        actor=None,
        municipality=city,
        name="fuzz",
        channel_id=CHANNEL_ID,
        channel_secret=SECRET,
        access_token="token",
    )


@pytest.fixture(autouse=True)
def _no_processing(monkeypatch):
    """Processing is another suite's business; here the tasks are only counted."""
    from delivery.tasks import process_resident_events

    monkeypatch.setattr(process_resident_events, "delay", lambda *args: None)


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def post(client, body: bytes, **headers):
    return client.post(
        reverse("line-webhook", args=[CHANNEL_ID]),
        body,
        content_type="application/json",
        **headers,
    )


events = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["message", "postback", "follow", "unfollow"]) | nasty_text,
        "webhookEventId": st.text(min_size=1, max_size=45) | st.integers(),
        "source": st.fixed_dictionaries(
            {
                "type": st.just("user") | nasty_text,
                "userId": st.from_regex(r"\AU[0-9a-f]{32}\Z")
                | st.text(max_size=40)
                | st.integers(),
            }
        ),
    },
    optional={
        "timestamp": st.integers(min_value=-(2**64), max_value=2**64)
        | st.sampled_from([2**53 - 1, 0, -1, 1_790_000_000_000])
        | json_values,
        "mode": st.sampled_from(["active", "standby"]) | json_values,
        "replyToken": nasty_text,
        "message": json_values,
        "postback": json_values,
        "deliveryContext": json_values,
    },
)


def forget_events() -> None:
    with scopes_disabled():
        WebhookEvent.objects.all().delete()


def stored_events_are_processable() -> None:
    """Every pending event has a LINE timestamp a datetime can hold (processing needs it)."""
    now = datetime.now(UTC)
    with scopes_disabled():
        for timestamp in WebhookEvent.objects.filter(status="pending").values_list(
            "timestamp", flat=True
        ):
            moment = datetime.fromtimestamp(timestamp / 1000, tz=UTC)
            assert LINE_EPOCH <= moment <= now.replace(year=now.year + 1)


@fuzz_settings(150)
@given(payload=st.lists(events, max_size=5), extra=json_values, depth=depths)
@example(payload=[], extra=None, depth=5_000)  # once RecursionError → 500
@example(
    payload=[
        {
            "type": "message",
            "webhookEventId": "E1",
            "source": {"type": "user", "userId": "U" + "1" * 32},
            "timestamp": 2**53 - 1,
        }
    ],
    extra=None,
    depth=0,
)  # once stored, then "year out of range": the resident never answered
@example(
    payload=[
        {"type": "message", "webhookEventId": "E2", "source": {"type": "user", "userId": " "}}
    ],
    extra=None,
    depth=0,
)  # once an invalid cache key for the resident's queue flag
@example(
    payload=[
        {"type": "message", "webhookEventId": "\x00", "source": {"type": "user", "userId": "1"}}
    ],
    extra=None,
    depth=32,
)  # a NUL the inbox drops before storing (PostgreSQL text cannot hold it)
def test_any_signed_body_is_a_2xx_or_4xx_and_leaves_processable_events(
    client, channel, payload, extra, depth
):
    body = json.dumps({"events": payload, "extra": extra}, ensure_ascii=False)
    body = body[:-1] + f', "deep": {nested(depth)}}}'
    data = body.encode("utf-8", "surrogatepass")
    forget_events()  # examples share the test's database transaction
    response = post(client, data, HTTP_X_LINE_SIGNATURE=sign(data))
    assert response.status_code in (200, 400, 413)
    if response.status_code != 200:
        with scopes_disabled():
            assert not WebhookEvent.objects.filter(webhook_event_id__in=_ids(payload)).exists()
    stored_events_are_processable()


def _ids(payload: list[dict]) -> list[str]:
    # As the inbox stores them: no NUL (PostgreSQL text cannot hold it), at most 40 chars.
    return [str(event.get("webhookEventId")).replace("\x00", "")[:40] for event in payload]


# A Content-Length the body does not fill is the server's to time out (Django's test
# client cannot send one), so numeric lengths are the body's own or beyond the limit.
def content_lengths(body: bytes):
    numeric = st.sampled_from([str(len(body)), "1000001", "99999999999999999999"])
    return st.none() | numeric | st.text(max_size=12).filter(lambda text: not text.isdigit())


@fuzz_settings(150)
@given(
    body=st.binary(max_size=2_000),
    data=st.data(),
    signature=st.none() | st.text(max_size=60),
)
@example(body=b"{}", data=None, signature=None)  # once parsed before the signature
@example(body=b"{}", data=None, signature="\x80")  # once a 500 in compare_digest
def test_any_unsigned_or_forged_request_is_refused_without_storing(
    client, channel, body, data, signature
):
    content_length = data.draw(content_lengths(body)) if data is not None else "abc"
    headers = {}
    if content_length is not None:
        headers["CONTENT_LENGTH"] = content_length.replace("\x00", "")
    if signature is not None:
        headers["HTTP_X_LINE_SIGNATURE"] = signature
    forget_events()
    response = post(client, body, **headers)
    assert response.status_code in (400, 401, 413)
    with scopes_disabled():
        assert not WebhookEvent.objects.exists()
