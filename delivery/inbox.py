"""The webhook's accept path: find the channel, store each event once, enqueue per resident.

This runs for every request LINE sends, inside its 2-second budget, so it is written for
speed (measured by ``make bench``, see docs/decisions/0006-webhook-processing.md):

- the channel is read from the shared cache (still encrypted; decrypted per request),
  not from the database; services that change a channel call ``webhook_channel_forget``;
- the events are stored by one ``INSERT … ON CONFLICT DO NOTHING RETURNING`` in
  autocommit, so a redelivered event is skipped by the unique constraint itself and the
  statement says which events were new;
- one processing task per resident with new events is published after that insert,
  unless one is already waiting for that resident (a flag in the shared cache, cleared by
  the task when it starts): a burst of messages from one resident costs one task.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from govtech.crypto import decrypt, encrypt

logger = logging.getLogger(__name__)

USER_EVENTS = {"message", "postback", "follow", "unfollow"}
CACHE_SECONDS = 60
QUEUED_FLAG_SECONDS = 60  # after this a waiting task is assumed lost; the next event re-queues


@dataclass(frozen=True)
class WebhookChannel:
    """What the webhook needs of a LineChannel; safe to cache (the secret stays encrypted)."""

    pk: int
    municipality_id: int
    channel_id: str
    encrypted_secret: str
    mode: str

    @property
    def channel_secret(self) -> str:
        return decrypt(self.encrypted_secret)


def _cache_key(channel_id: str) -> str:
    return f"delivery:webhook-channel:{channel_id}"


def webhook_channel(*, channel_id: str) -> WebhookChannel | None:
    """The channel a webhook is addressed to, before any tenant is known (unscoped lookup).

    Cached for a minute; a changed secret or mode takes effect at once through
    ``webhook_channel_forget``, and at the latest after a minute otherwise.
    """
    if not channel_id.isdigit() or len(channel_id) > 20:
        return None
    cached = cache.get(_cache_key(channel_id))
    if cached is not None:
        return WebhookChannel(**cached) if cached else None
    from delivery.selectors import channel_for_webhook

    channel = channel_for_webhook(channel_id=channel_id)
    found = (
        WebhookChannel(
            pk=channel.pk,
            municipality_id=channel.municipality_id,
            channel_id=channel.channel_id,
            encrypted_secret=encrypt(channel.channel_secret),
            mode=channel.mode,
        )
        if channel is not None
        else None
    )
    cache.set(_cache_key(channel_id), found.__dict__ if found else {}, CACHE_SECONDS)
    return found


def webhook_channel_forget(*, channel_id: str) -> None:
    cache.delete(_cache_key(channel_id))


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _without_nul(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold U+0000; no real message needs it."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def _event_row(channel: WebhookChannel, event: Any) -> tuple | None:
    """The stored columns of one event, or None (logged) without a usable webhookEventId.

    Anything else malformed is stored as skipped: never processed, never a 500.
    """
    event = _without_nul(event)
    event_id = _dict(event).get("webhookEventId")
    if not isinstance(event_id, str) or not event_id.strip():
        logger.warning("channel %s: skipped an event without webhookEventId", channel.channel_id)
        return None
    source = _dict(event.get("source"))
    user_id = source.get("userId") if source.get("type") == "user" else None
    user_id = user_id if isinstance(user_id, str) and 0 < len(user_id) <= 33 else ""
    kind = event.get("type") if isinstance(event.get("type"), str) else ""
    timestamp = event.get("timestamp")
    timestamp = timestamp if isinstance(timestamp, int) and 0 < timestamp < 2**53 else 0
    handled = (
        kind in USER_EVENTS
        and bool(user_id)
        and bool(timestamp)
        and event.get("mode", "active") == "active"
        and channel.mode == "active"
    )
    redelivery = _dict(event.get("deliveryContext")).get("isRedelivery") is True
    return (
        event_id[:40],
        user_id,
        kind[:30],
        timestamp,
        json.dumps(event, ensure_ascii=False),
        redelivery,
        "pending" if handled else "skipped",
    )


def _insert_new(channel: WebhookChannel, rows: list[tuple]) -> list[tuple[str, str]]:
    """Insert rows whose webhookEventId is new; return (user id, status) of those inserted."""
    json_value = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    now = timezone.now()
    placeholders = ", ".join(
        f"(%s, %s, %s, %s, %s, %s, {json_value}, %s, %s, '', %s)" for _ in rows
    )
    params: list[Any] = []
    for event_id, user_id, kind, timestamp, payload, redelivery, status in rows:
        params += [channel.municipality_id, channel.pk, event_id, user_id, kind, timestamp]
        params += [payload, redelivery, status, now]
    columns = (
        "municipality_id, channel_id, webhook_event_id, line_user_id, event_type, timestamp,"
        " payload, is_redelivery, status, error, received_at"
    )
    # Only placeholders are formatted into the statement; every value is a parameter.
    sql = f"INSERT INTO delivery_webhookevent ({columns}) VALUES {placeholders}"  # noqa: S608
    sql += " ON CONFLICT (webhook_event_id) DO NOTHING RETURNING line_user_id, status"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def webhook_events_accept(*, channel: WebhookChannel, events: list[Any]) -> int:
    """Store new events once and publish one processing task per resident with new events.

    Idempotent: a redelivered event (same webhookEventId) is not stored again and starts
    no task. Unknown event types, group events and standby events are stored as skipped.
    Returns how many events were new.
    """
    from delivery.tasks import process_resident_events

    rows = [row for row in (_event_row(channel, event) for event in events) if row is not None]
    if not rows:
        return 0
    inserted = _insert_new(channel, rows)
    for user_id in {user for user, status in inserted if status == "pending"}:
        if cache.add(queued_flag(channel.pk, user_id), 1, QUEUED_FLAG_SECONDS):
            process_resident_events.delay(channel.pk, user_id)
    return len(inserted)


def queued_flag(channel_pk: int, line_user_id: str) -> str:
    """Set while a processing task for this resident waits in the queue.

    The event row is committed before the flag is tested, and the task clears the flag
    before it reads pending events, so every event is seen by some task.
    """
    return f"delivery:queued:{channel_pk}:{line_user_id}"
