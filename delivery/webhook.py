"""POST /line/webhook/<channel_id>/ — LINE's webhook, acknowledged fast.

The view verifies the signature before anything else, checks the body is LINE's JSON and
hands the events to the inbox (delivery.inbox: a Redis list stored in batches, or the
database directly), which keeps each event once (unique webhookEventId, so a redelivered
event has no second effect) and has them processed on the `engine` Celery queue, one
resident at a time. It answers within milliseconds: LINE waits at most 2 seconds. Bad
input is a 4xx or a logged skip, never a 500. Decision record:
docs/decisions/0006-webhook-processing.md.
"""

import base64
import hashlib
import hmac
import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from delivery.inbox import webhook_body_accept, webhook_channel
from govtech.jsonlimits import loads_bounded

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000  # LINE batches events; real bodies are a few KB
MAX_DEPTH = 32  # LINE's events nest about six levels (events → message → emojis → …)


def signature_is_valid(body: bytes, signature: str, channel_secret: str) -> bool:
    """X-Line-Signature: base64 HMAC-SHA256 of the raw body with the channel secret.

    Compared in constant time, whatever the header holds.
    """
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    # As bytes: compare_digest refuses str with non-ASCII characters (a forged header
    # with one was a 500).
    given = signature.strip().encode("utf-8", "replace")
    return hmac.compare_digest(base64.b64encode(digest), given)


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not JSON LINE sends")


def _refuse(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


@csrf_exempt
@require_POST
def line_webhook(request: HttpRequest, channel_id: str) -> JsonResponse:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit():
        return _refuse(400, "invalid Content-Length")
    if int(length) > MAX_BODY_BYTES:
        return _refuse(413, "body too large")
    body = request.body
    channel = webhook_channel(channel_id=channel_id)
    if channel is None:
        return _refuse(404, "unknown channel")
    signature = request.headers.get("X-Line-Signature", "")
    if not signature or not signature_is_valid(body, signature, channel.channel_secret):
        logger.warning("webhook for channel %s with an invalid signature", channel_id)
        return _refuse(401, "invalid signature")
    try:
        # Lone surrogates are kept as U+FFFD when stored (delivery.inbox).
        payload = loads_bounded(
            body, max_depth=MAX_DEPTH, lone_surrogates=True, parse_constant=_no_constants
        )
    except (UnicodeDecodeError, ValueError):
        return _refuse(400, "body is not JSON")
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        return _refuse(400, "no events list")
    where = webhook_body_accept(channel=channel, body=body, events=events)
    return JsonResponse({"received": len(events), "inbox": where})
