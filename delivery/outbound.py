"""Sending a resident's LINE messages: the OutboundMessage intent rows, in order.

A row is claimed with a conditional update, sent by reply while its token is fresh and
otherwise pushed with a retry key derived from the row's, so a second attempt after a
crash is answered 409 by LINE instead of reaching the resident twice. Called outside any
database transaction (it calls LINE).
"""

import contextlib
import logging
import uuid
from datetime import timedelta

from django.utils import timezone

from delivery.line_api import MAX_MESSAGES_PER_REQUEST, AlreadyAccepted, LineApiError, LineClient
from delivery.models import Friend, OutboundMessage, OutboundStatus
from delivery.selectors import pending_outbound

logger = logging.getLogger(__name__)

REPLY_TOKEN_MAX_AGE = timedelta(seconds=50)  # LINE accepts about a minute; keep a margin


def _claim(message: OutboundMessage) -> bool:
    """Take a pending row for this worker; False when another worker took it first."""
    return bool(
        OutboundMessage.objects.filter(
            pk=message.pk, status=OutboundStatus.PENDING, attempts=message.attempts
        ).update(attempts=message.attempts + 1)
    )


def _reply_token_usable(message: OutboundMessage) -> bool:
    issued = message.reply_token_issued_at
    return (
        bool(message.reply_token)
        and issued is not None
        and (timezone.now() - issued < REPLY_TOKEN_MAX_AGE)
    )


def _deliver(message: OutboundMessage, client: LineClient) -> str:
    """Send in batches of 5: the first by reply when the token is fresh, the rest by push."""
    batches = [
        message.messages[i : i + MAX_MESSAGES_PER_REQUEST]
        for i in range(0, len(message.messages), MAX_MESSAGES_PER_REQUEST)
    ]
    method = "push"
    for index, batch in enumerate(batches):
        if index == 0 and _reply_token_usable(message) and message.attempts <= 1:
            try:
                client.reply(message.reply_token, batch)
                method = "reply"
                continue
            except LineApiError as exc:  # expired or used token: push instead
                logger.info("reply refused (%s); pushing instead", exc)
        retry_key = str(uuid.uuid5(message.retry_key, str(index)))
        with contextlib.suppress(AlreadyAccepted):  # 409: sent by an earlier attempt
            client.push(message.friend.line_user_id, batch, retry_key=retry_key)
    return method


def outbound_send(
    *, friend: Friend, client: LineClient, messages: list[OutboundMessage] | None = None
) -> None:
    """Send a resident's pending messages in order. Safe to run twice (claim + retry keys).

    ``messages``: the friend's pending rows in order, when the caller has just read them
    (the engine reads them in its turn's transaction); read here otherwise.
    """
    for message in pending_outbound(friend=friend) if messages is None else messages:
        if not _claim(message):
            continue
        message.attempts += 1
        message.friend = friend
        try:
            message.method = _deliver(message, client)
            message.status, message.sent_at = OutboundStatus.SENT, timezone.now()
        except LineApiError as exc:
            message.error = str(exc)[:2000]
            if not exc.retryable:
                message.status = OutboundStatus.FAILED
        message.save(update_fields=["status", "sent_at", "method", "error"])
        if message.status != OutboundStatus.SENT:
            break  # keep the order: later messages wait for this one
