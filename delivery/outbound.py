"""Sending a resident's LINE messages: the OutboundMessage intent rows, in order.

A row is claimed with a conditional update that leases it for ``CLAIM_LEASE``: while one
worker sends it, a second (the engine's turn, a notice, the resend beat) neither takes it
nor sends the rows after it, so the resident gets each message once and in order. LINE
cannot deduplicate a reply, so a push of a row being replied to would reach the resident
twice; pushes carry a retry key derived from the row's, so a second attempt after a
crash (once the lease has run out) is answered 409 by LINE instead. Called outside any
database transaction (it calls LINE).
"""

import contextlib
import logging
import uuid
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from delivery.line_api import MAX_MESSAGES_PER_REQUEST, AlreadyAccepted, LineApiError, LineClient
from delivery.models import Friend, OutboundMessage, OutboundStatus
from delivery.selectors import pending_outbound

logger = logging.getLogger(__name__)

REPLY_TOKEN_MAX_AGE = timedelta(seconds=50)  # LINE accepts about a minute; keep a margin
# Longer than sending one row can take: a reply and a push, each up to four attempts
# with line_api.TIMEOUT and backoff (about a minute each in the worst case).
CLAIM_LEASE = timedelta(minutes=3)


def _claim(message: OutboundMessage) -> bool:
    """Lease a pending row to this worker; False when it is done, leased to another, or
    attempted since ``message`` was read (its reply token may have been used then)."""
    now = timezone.now()
    claimed = OutboundMessage.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        pk=message.pk,
        status=OutboundStatus.PENDING,
        attempts=message.attempts,
    ).update(attempts=F("attempts") + 1, claimed_until=now + CLAIM_LEASE)
    return bool(claimed)


def _done_elsewhere(message: OutboundMessage) -> bool:
    """After a refused claim: True when the row was sent or failed (go on with the next),
    False when another worker is sending it (stop: the rows after it must wait)."""
    status = OutboundMessage.objects.filter(pk=message.pk).values_list("status", flat=True)
    return status.first() != OutboundStatus.PENDING


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
            if _done_elsewhere(message):
                continue
            break  # another worker is sending it, and will be followed by the resend beat
        message.attempts += 1
        message.claimed_until = None
        message.friend = friend
        try:
            message.method = _deliver(message, client)
            message.status, message.sent_at = OutboundStatus.SENT, timezone.now()
        except LineApiError as exc:
            message.error = str(exc)[:2000]
            if not exc.retryable:
                message.status = OutboundStatus.FAILED
        message.save(update_fields=["status", "sent_at", "method", "error", "claimed_until"])
        if message.status != OutboundStatus.SENT:
            break  # keep the order: later messages wait for this one
