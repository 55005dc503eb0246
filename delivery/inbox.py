"""The webhook's accept path: find the channel, keep each event once, process per resident.

This runs for every request LINE sends, inside its 2-second budget, so it is written for
speed (measured by ``make bench``; docs/decisions/0006-webhook-processing.md):

- the channel is read from this process's memory for a few seconds, then from the shared
  cache (the secret stays encrypted; decrypted per request), and only then from the
  database; services that change a channel call ``webhook_channel_forget``;
- with Redis (``LINE_WEBHOOK_INBOX = "redis"``, production), the verified body is
  appended to a Redis list in one round trip and the request is answered; a consumer
  task (``store_webhook_inbox``, queue ``inbox``) stores the list's events in batches;
- without Redis (``"database"``, the embedded default), or when Redis does not answer,
  the events are stored at once by one ``INSERT … ON CONFLICT DO NOTHING RETURNING``;
- either way the unique ``webhookEventId`` makes a redelivered event a no-op, and one
  processing task per resident with new events is published, unless one is already
  waiting for that resident (a flag in the shared cache, cleared by the task when it
  starts): a burst of messages from one resident costs one task.
"""

import contextlib
import json
import logging
import re
import time
from dataclasses import dataclass
from functools import cache as once
from functools import cached_property
from typing import Any, cast

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.commands.core import AsyncScript, Script
from redis.lock import Lock

from delivery.selectors import channel_for_webhook
from govtech.crypto import decrypt, encrypt
from govtech.publish import publish_task

logger = logging.getLogger(__name__)

USER_EVENTS = {"message", "postback", "follow", "unfollow"}
CACHE_SECONDS = 60
LOCAL_SECONDS = 5  # how long a process trusts its own copy of a channel
QUEUED_FLAG_SECONDS = 60  # after this a waiting task is assumed lost; the next event re-queues

INBOX_KEY = "delivery:webhook-inbox"
STORE_QUEUED_KEY = "delivery:webhook-inbox:store-queued"
STORE_LOCK_KEY = "delivery:webhook-inbox:lock"
# Published by name (delivery.tasks imports this module).
STORE_TASK = "delivery.tasks.store_webhook_inbox"
PROCESS_TASK = "delivery.tasks.process_resident_events"
SET_ASIDE_KEY = "delivery:webhook-inbox:set-aside"  # bodies the database refused
STORE_BATCH = 500  # bodies per batch; LINE's bodies hold a few events each
STORE_LINGER = 0.25  # seconds the list must stay empty before a store task stops
STORE_POLL = 0.01  # seconds between looks at an empty list while lingering
STORE_GATHER = 0.05  # seconds to wait after a partial batch: ≤ 50 ms more per event
ROWS_PER_INSERT = 1000  # 11 parameters a row: well under SQLite's and PostgreSQL's limits
LOCK_SECONDS = 60  # a consumer that died releases the list after this
REDIS_TIMEOUT = 0.5  # seconds; past this the webhook stores in PostgreSQL instead


@dataclass(frozen=True)
class WebhookChannel:
    """What the webhook needs of a LineChannel; safe to cache (the secret stays encrypted)."""

    pk: int
    municipality_id: int
    channel_id: str
    encrypted_secret: str
    mode: str

    @cached_property
    def channel_secret(self) -> str:
        """Decrypted once per instance: the process keeps an instance LOCAL_SECONDS."""
        return decrypt(self.encrypted_secret)


_local: dict[str, tuple[float, WebhookChannel | None]] = {}


def _cache_key(channel_id: str) -> str:
    return f"delivery:webhook-channel:{channel_id}"


def webhook_channel(*, channel_id: str) -> WebhookChannel | None:
    """The channel a webhook is addressed to, before any tenant is known (unscoped lookup).

    Kept in this process for LOCAL_SECONDS and in the shared cache for a minute. A changed
    secret or mode takes effect at once in the process that saved it and in the shared
    cache (``webhook_channel_forget``), and in other processes within LOCAL_SECONDS.
    """
    if not channel_id.isdigit() or len(channel_id) > 20:
        return None
    now = time.monotonic()
    local = _local.get(channel_id)
    if local is not None and local[0] > now:
        return local[1]
    try:
        cached = cache.get(_cache_key(channel_id))
    except redis.RedisError:  # the shared cache is down: the database still knows
        cached = None
    if cached is not None:
        found = WebhookChannel(**cached) if cached else None
    else:
        found = _channel_from_database(channel_id)
        with contextlib.suppress(redis.RedisError):
            cache.set(_cache_key(channel_id), found.__dict__ if found else {}, CACHE_SECONDS)
    _local[channel_id] = (now + LOCAL_SECONDS, found)
    return found


def _channel_from_database(channel_id: str) -> WebhookChannel | None:
    channel = channel_for_webhook(channel_id=channel_id)
    if channel is None:
        return None
    return WebhookChannel(
        pk=channel.pk,
        municipality_id=channel.municipality_id,
        channel_id=channel.channel_id,
        encrypted_secret=encrypt(channel.channel_secret),
        mode=channel.mode,
    )


def webhook_channel_forget(*, channel_id: str) -> None:
    _local.pop(channel_id, None)
    cache.delete(_cache_key(channel_id))


# --- accepting a verified body --------------------------------------------------------


def inbox_uses_redis() -> bool:
    return settings.LINE_WEBHOOK_INBOX == "redis"


@once
def _redis() -> redis.Redis:
    """One client (a thread-safe connection pool) per process, with short timeouts."""
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )


def webhook_body_accept(*, channel: WebhookChannel, body: bytes, events: list[Any]) -> str:
    """Take a verified body's events into the inbox; say where they went.

    ``"queued"``: appended to the Redis list, to be stored by ``store_webhook_inbox``;
    ``"stored"``: stored in the database now (no Redis inbox, or Redis did not answer).
    """
    if not events:
        return "stored"  # LINE's verify button: nothing to keep
    if inbox_uses_redis():
        try:
            _inbox_push(channel, body)
            return "queued"
        except redis.RedisError as exc:
            logger.warning("webhook inbox unavailable (%s); storing in the database", exc)
    webhook_events_accept(channel=channel, events=events)
    return "stored"


def _inbox_push(channel: WebhookChannel, body: bytes) -> None:
    """Append ``<channel id>:<body>`` and, if no store task is queued or at work, publish one.

    One round trip: the append and the "a store task is on it" flag in one script. The
    flag stays set while a store task drains the list, so a stream of bodies costs one
    task, not one per body; the task clears it when it stops and then looks at the list
    once more (see ``inbox_store``), so every appended body is read by some task.
    """
    item = channel.channel_id.encode() + b":" + body
    flag_was_free = _push_script()(
        keys=[INBOX_KEY, STORE_QUEUED_KEY], args=[item, QUEUED_FLAG_SECONDS]
    )
    if flag_was_free:
        _publish_store_task()


# Append, then set the flag if it is free: one command, one round trip (a pipeline of
# RPUSH and SET costs redis-py twice the CPU; measured in docs/decisions/0006).
_PUSH = """
redis.call('RPUSH', KEYS[1], ARGV[1])
return redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2])
"""


@once
def _push_script() -> AsyncScript | Script:
    return _redis().register_script(_PUSH)


def _publish_store_task() -> None:
    try:
        publish_task(STORE_TASK)
    except BrokerUnavailable:
        logger.exception("could not publish the webhook inbox task; the beat will drain it")


def inbox_store(*, max_seconds: float = 20.0) -> tuple[int, bool]:
    """Store the Redis inbox's events in WebhookEvent, in arrival order, in batches.

    One consumer at a time (a Redis lock); it reads a batch from the head of the list,
    stores it (``INSERT … ON CONFLICT DO NOTHING``, so a batch stored twice after a crash
    has no second effect), publishes the residents' processing tasks and only then trims
    the batch off the list. It keeps reading until the list has stayed empty for
    STORE_LINGER seconds, so that under a steady stream of webhooks one task stores them
    all. Then it clears the "store task on it" flag, releases the lock and looks at the
    list once more: a body appended before the flag was cleared published no task, and
    is stored by carrying on. A consumer that finds the lock taken returns at once and
    leaves the work to the holder. Returns (events newly stored, whether bodies are left
    after ``max_seconds``, for a successor task to take over).
    """
    client = _redis()
    stored, deadline = 0, time.monotonic() + max_seconds
    while True:
        lock = client.lock(STORE_LOCK_KEY, timeout=LOCK_SECONDS)
        if not lock.acquire(blocking=False):
            return stored, False  # the holder looks at the list again after releasing
        try:
            stored += _store_until_quiet(client, lock, deadline)
            client.delete(STORE_QUEUED_KEY)  # from now on a new body publishes a task
        finally:
            _release(lock)
        if not client.llen(INBOX_KEY):
            return stored, False
        if time.monotonic() > deadline:
            return stored, True


def _store_until_quiet(client: redis.Redis, lock: Lock, deadline: float) -> int:
    """Batch after batch until the list stayed empty for STORE_LINGER seconds or the
    deadline passed (one batch at least, when there is one)."""
    stored, batches, quiet_since = 0, 0, time.monotonic()
    while time.monotonic() <= deadline or not batches:
        items = cast(list[bytes], client.lrange(INBOX_KEY, 0, STORE_BATCH - 1))
        if items:
            stored, batches = stored + _store_batch(client, items), batches + 1
            client.ltrim(INBOX_KEY, len(items), -1)
            lock.reacquire()  # a long drain keeps its lock
            quiet_since = time.monotonic()
            if len(items) < STORE_BATCH:
                time.sleep(STORE_GATHER)  # let a few more arrive: fewer, larger inserts
        elif time.monotonic() - quiet_since >= STORE_LINGER:
            break
        else:
            time.sleep(STORE_POLL)
    return stored


def _release(lock: Lock) -> None:
    try:
        lock.release()
    except redis.exceptions.LockError:
        logger.warning("the webhook inbox lock expired while storing")


def inbox_length(*, key: str = INBOX_KEY) -> int:
    return int(_redis().llen(key)) if inbox_uses_redis() else 0


def _store_batch(client: redis.Redis, items: list[bytes]) -> int:
    """Store a batch; a body the database refuses is set aside, not retried forever.

    A database that is down (OperationalError, InterfaceError) raises: the batch stays at
    the head of the list for the next attempt. Any other error is about the data: the
    batch is stored body by body and a body that still fails goes to the set-aside list
    (logged, shown by /healthz) so that it cannot hold up the events behind it.
    """
    try:
        return _store_bodies(items)
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("inbox: a batch failed; storing its %d bodies one by one", len(items))
    stored = 0
    for item in items:
        try:
            stored += _store_bodies([item])
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            logger.exception("inbox: set aside a body the database refused")
            client.rpush(SET_ASIDE_KEY, item)
    return stored


def _store_bodies(items: list[bytes]) -> int:
    """Store the events of verified bodies ``<channel id>:<json>``; returns how many were new."""
    rows_by_channel: dict[WebhookChannel, list[tuple]] = {}
    for item in items:
        channel_id, _, body = item.partition(b":")
        channel = webhook_channel(channel_id=channel_id.decode("ascii", "replace"))
        if channel is None:
            logger.warning("inbox: dropped a body for a channel that no longer exists")
            continue
        events = json.loads(body)["events"]  # verified and parsed once by the view
        rows = rows_by_channel.setdefault(channel, [])
        rows += [row for row in (_event_row(channel, event) for event in events) if row]
    return sum(
        _accept_rows(channel, rows[start : start + ROWS_PER_INSERT])
        for channel, rows in rows_by_channel.items()
        for start in range(0, len(rows), ROWS_PER_INSERT)
    )


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


# LINE's user IDs: "U" and 32 hex digits. Anything else never reaches a cache key, a
# lock or a task (a space in one made the resident's queue flag an invalid cache key).
LINE_USER_ID = re.compile(r"U[0-9a-f]{32}")

# json.loads joins a valid surrogate pair into one character: what is left is lone.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable_text(value: str) -> str:
    """Text PostgreSQL can keep: no U+0000, no lone surrogate.

    JSON may spell both (``\\u0000``, ``\\ud800``), but neither text nor jsonb holds
    them and no real message needs them: U+0000 is dropped, a lone surrogate becomes
    U+FFFD.
    """
    return _SURROGATE.sub("\ufffd", value.replace("\x00", ""))


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return _storable_text(value)
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    return value


def _event_row(channel: WebhookChannel, event: Any) -> tuple | None:
    """The stored columns of one event, or None (logged) without a usable webhookEventId.

    Anything else malformed is stored as skipped: never processed, never a 500.
    """
    event = _storable(event)
    event_id = _dict(event).get("webhookEventId")
    if not isinstance(event_id, str) or not event_id.strip():
        logger.warning("channel %s: skipped an event without webhookEventId", channel.channel_id)
        return None
    source = _dict(event.get("source"))
    user_id = source.get("userId") if source.get("type") == "user" else None
    user_id = user_id if isinstance(user_id, str) and LINE_USER_ID.fullmatch(user_id) else ""
    kind = event.get("type") if isinstance(event.get("type"), str) else ""
    timestamp = _plausible_timestamp(event.get("timestamp"))
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


# LINE's clock in milliseconds: from LINE's launch until a day from now. A value outside
# (2**53 − 1 once was accepted, then failed "year out of range" and the resident got no
# reply) is replaced by the time of receipt, so the event is still answered.
_LINE_EPOCH_MS = 1_293_840_000_000  # 2011-01-01
_DAY_MS = 86_400_000


def _plausible_timestamp(value: Any) -> int:
    now_ms = int(time.time() * 1000)
    if isinstance(value, int) and _LINE_EPOCH_MS <= value <= now_ms + _DAY_MS:
        return value
    return now_ms


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
    rows = [row for row in (_event_row(channel, event) for event in events) if row is not None]
    return _accept_rows(channel, rows)


def _accept_rows(channel: WebhookChannel, rows: list[tuple]) -> int:
    if not rows:
        return 0
    inserted = _insert_new(channel, rows)
    try:
        waiting = sorted({user for user, status in inserted if status == "pending"})
        for user_id in _queued_flags_take(channel.pk, waiting):
            publish_task(PROCESS_TASK, channel.pk, user_id)
    except (redis.RedisError, BrokerUnavailable):
        # The events are stored as pending: process_stale_events runs them when Redis is back.
        logger.exception("could not publish the residents' processing tasks")
    return len(inserted)


def queued_flag(channel_pk: int, line_user_id: str) -> str:
    """Set while a processing task for this resident waits in the queue.

    The event row is committed before the flag is tested, and the task clears the flag
    before it reads pending events, so every event is seen by some task.
    """
    return f"delivery:queued:{channel_pk}:{line_user_id}"


def _queued_flags_take(channel_pk: int, line_user_ids: list[str]) -> list[str]:
    """The residents whose flag was free and is now set: they need a processing task.

    With the Redis inbox the flags of a whole batch are set in one round trip (the store
    task handles hundreds of residents a second); otherwise through the shared cache.
    """
    keys = [queued_flag(channel_pk, user_id) for user_id in line_user_ids]
    if not inbox_uses_redis():
        return [
            user
            for user, key in zip(line_user_ids, keys, strict=True)
            if cache.add(key, 1, QUEUED_FLAG_SECONDS)
        ]
    pipe = _redis().pipeline(transaction=False)
    for key in keys:
        pipe.set(key, b"1", nx=True, ex=QUEUED_FLAG_SECONDS)
    return [user for user, taken in zip(line_user_ids, pipe.execute(), strict=True) if taken]


def queued_flag_clear(*, channel_pk: int, line_user_id: str) -> None:
    """What a processing task does when it starts, before it reads pending events."""
    key = queued_flag(channel_pk, line_user_id)
    if inbox_uses_redis():
        _redis().delete(key)
    else:
        cache.delete(key)


INBOX_BACKLOG_WARNING = 10_000  # bodies; a store worker drains thousands a second


def inbox_health() -> dict:
    """/healthz (registered with govtech.health): bodies the webhook acknowledged that no
    worker has stored yet, and bodies the database refused (set aside for a person to
    look at); Redis inbox only."""
    if not inbox_uses_redis():
        return {"status": "ok", "kind": "database"}
    waiting, set_aside = inbox_length(), inbox_length(key=SET_ASIDE_KEY)
    status = "ok" if waiting < INBOX_BACKLOG_WARNING and not set_aside else "stale"
    return {"status": status, "kind": "redis", "waiting": waiting, "set_aside": set_aside}
