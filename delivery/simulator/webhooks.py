"""Webhook events as LINE builds them, signed and POSTed to the channel's webhook URL.

The body is what LINE sends: ``{"destination": <bot user ID>, "events": [event]}`` as
compact JSON, signed with HMAC-SHA256 of the channel secret (base64, header
``X-Line-Signature``). Functions here build and send; recording them is ``services``'s job.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

WEBHOOK_TIMEOUT_SECONDS = 10
USER_AGENT = "LineBotWebhook/2.0"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_webhook_event_id() -> str:
    """A ULID: 48 bits of milliseconds and 80 random bits in Crockford base32 (26 chars)."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def event_base(*, event_type: str, user_id: str, reply_token: str | None = None) -> dict[str, Any]:
    """The fields every event from a user in a one-to-one chat has."""
    event: dict[str, Any] = {"type": event_type}
    if reply_token is not None:
        event["replyToken"] = reply_token
    event.update(
        {
            "mode": "active",
            "timestamp": int(timezone.now().timestamp() * 1000),
            "source": {"type": "user", "userId": user_id},
            "webhookEventId": new_webhook_event_id(),
            "deliveryContext": {"isRedelivery": False},
        }
    )
    return event


def text_message(*, message_id: str, text: str) -> dict[str, Any]:
    return {"type": "text", "id": message_id, "quoteToken": secrets.token_urlsafe(48), "text": text}


def image_message(*, message_id: str) -> dict[str, Any]:
    return {
        "type": "image",
        "id": message_id,
        "quoteToken": secrets.token_urlsafe(48),
        "contentProvider": {"type": "line"},
    }


def location_message(
    *, message_id: str, latitude: float, longitude: float, address: str = "", title: str = ""
) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "location", "id": message_id}
    if title:
        message["title"] = title
    if address:
        message["address"] = address
    message.update({"latitude": latitude, "longitude": longitude})
    return message


def postback_content(*, data: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"data": data}
    if params:
        content["params"] = params
    return content


def webhook_body(*, destination: str, events: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {"destination": destination, "events": events}, ensure_ascii=False, separators=(",", ":")
    ).encode()


def webhook_signature(*, body: bytes, channel_secret: str) -> str:
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class WebhookResult:
    """The webhook's HTTP status, or ``None`` and an error when no answer came."""

    status: int | None
    error: str = ""


def webhook_post(*, url: str, body: bytes, channel_secret: str) -> WebhookResult:
    """POST a signed body to ``url``; never raises for network errors or non-2xx answers."""
    request = urllib.request.Request(  # noqa: S310 (the URL is the channel's configured webhook)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Line-Signature": webhook_signature(body=body, channel_secret=channel_secret),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # noqa: S310
            return WebhookResult(status=response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return WebhookResult(status=error.code, error=str(error.reason))
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        return WebhookResult(status=None, error=str(getattr(error, "reason", error)))
