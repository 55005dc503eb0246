"""Sending a broadcast's chunks exactly once, at the channel's rate, and finishing it.

A few sender tasks per broadcast (``senders_for`` its channel's rate) share its chunks. A
sender claims a handful of pending chunks in one transaction (``SELECT … FOR UPDATE SKIP
LOCKED``, then pending → sending), sends each as one multicast within the channel's rate,
records their outcomes in one statement, and claims again. It never sleeps for the rate:
when its channel's one-second window is used up, it stops and a successor comes back when
the next window opens, so the worker serves other channels meanwhile. After
``SENDER_BUDGET`` chunks it hands over to a successor task at the back of the queue, so
that other broadcasts get their turn on the workers when they are the bottleneck.
A chunk is in one sender's hands at a time; its multicast carries the chunk's stored
retry key, so a chunk re-sent after a worker died mid-request is answered 409 by LINE
and counted as sent. Per chunk this costs one recipient read and one multicast; the
claims, the records and the tasks are shared by a batch or a run of chunks.
"""

import contextlib
import functools
import logging
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from delivery.broadcasts import selectors
from delivery.broadcasts.messages import is_personal, render_for
from delivery.broadcasts.models import (
    Broadcast,
    BroadcastChunk,
    BroadcastRecipient,
    BroadcastStatus,
    ChunkStatus,
)
from delivery.line_api import AlreadyAccepted, LineApiError, LineClient, shared_client
from delivery.models import Friend
from govtech.services import audit_log

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RETRY_BACKOFF_MAX = 60  # seconds; never a long ETA (schedules live in the database)
SENDERS = 8  # sender tasks per broadcast at most: enough multicasts in flight to reach 200/s
SENDER_RATE = 25  # multicasts per second one sender is counted on for (8 reach 200/s)
SENDER_BUDGET = 100  # chunks a sender task sends before its successor takes over
CLAIM_BATCH = 20  # chunks claimed (and recorded) at once, at most
CLAIM_LEASE = timedelta(minutes=2)  # a chunk "sending" longer than this lost its worker
IDLE_AFTER = timedelta(minutes=1)  # no chunk claimed for this long: the senders were lost
WINDOW_MARGIN = 0.005  # seconds past a window's start, so a successor never lands before it


def senders_for(per_second: int) -> int:
    """Sender tasks a broadcast gets at a channel rate of ``per_second`` multicasts: enough
    to reach it, no more (an extra sender would only wake up to find the window full)."""
    return max(1, min(SENDERS, -(-per_second // SENDER_RATE)))


@dataclass
class SenderRun:
    """What a sender task did: the chunks it ``claimed`` and sent or failed (not those it
    gave back untried); ``more`` are waiting for a successor; or it stopped on a transient
    LINE error and a successor should come back after ``backoff`` seconds; or the
    channel's window was used up and a successor should come back after ``wait`` seconds,
    when the next one opens."""

    claimed: int = 0
    more: bool = False
    backoff: float | None = None
    wait: float | None = None

    @property
    def again_in(self) -> float | None:
        """Seconds after which a successor should carry on (0: now), None when done."""
        if self.more:
            return 0.0
        return self.backoff if self.backoff is not None else self.wait


@dataclass
class _Sender:
    """What every chunk of one broadcast needs, looked up once per sender task."""

    broadcast: Broadcast
    client: LineClient
    per_second: int
    messages: list[dict] | None  # rendered once; None when personal ({display_name})

    @property
    def batch(self) -> int:
        """Chunks per claim: about a second's worth of this sender's share of the rate,
        so that a claim is recorded soon and never outlives its lease at a low rate;
        one for personal messages (500 pushes a chunk)."""
        if self.messages is None:
            return 1
        return max(1, min(CLAIM_BATCH, self.per_second // senders_for(self.per_second)))


def _claim(broadcast_id: int, limit: int) -> list[BroadcastChunk]:
    """Take up to ``limit`` pending chunks of the broadcast for this sender.

    The rows stay locked until the status change commits; SKIP LOCKED lets concurrent
    senders take other chunks instead of waiting, so no chunk is taken twice. Only the
    chunk rows are locked: with the broadcast's row locked too, a concurrent claim would
    skip every chunk and find nothing. In no particular order (no sort of the pending
    chunks). Each claim counts an attempt (a worker that dies mid-send used one up).
    """
    now = timezone.now()
    with transaction.atomic():
        chunks = list(
            BroadcastChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(broadcast_id=broadcast_id, status=ChunkStatus.PENDING)
            .order_by()  # the default ordering joins the broadcast, whose row would be locked
            .only("broadcast_id", "first_seq", "size", "retry_key", "attempts")[:limit]
        )
        BroadcastChunk.objects.filter(pk__in=[chunk.pk for chunk in chunks]).update(
            status=ChunkStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    for chunk in chunks:
        chunk.status, chunk.claimed_at = ChunkStatus.SENDING, now
        chunk.attempts += 1
    return chunks


# The friends of one chunk. The inner read takes the chunk's rows by the unique
# (broadcast, seq) index (equality and a range: both columns bound the scan; a row
# comparison ``(broadcast_id, seq) < (…)`` would only stop at the end of the broadcast,
# 20 ms per chunk at a million). On PostgreSQL, ``= ANY(ARRAY(…))`` then makes the
# friends 500 primary key lookups whatever the statistics say: as a join or ``IN``, the
# planner may hash the whole friend table instead (measured: 22 ms instead of 1 ms per
# chunk at 100,000 friends). SQLite has no arrays and looks the keys up anyway.
_CHUNK_FRIEND_IDS = f"""
    SELECT friend_id FROM {BroadcastRecipient._meta.db_table}
    WHERE broadcast_id = %s AND seq >= %s AND seq < %s
"""  # noqa: S608 (table names from the models, values as parameters)
_FRIENDS = f"SELECT line_user_id, is_following, display_name FROM {Friend._meta.db_table}"  # noqa: S608
CHUNK_RECIPIENTS_SQL = {
    "postgresql": f"{_FRIENDS} WHERE id = ANY(ARRAY({_CHUNK_FRIEND_IDS}))",
    "sqlite": f"{_FRIENDS} WHERE id IN ({_CHUNK_FRIEND_IDS})",
}


def _chunk_recipients(chunk: BroadcastChunk) -> list[tuple[str, bool, str]]:
    """(line_user_id, is_following now, display_name) of a chunk's frozen recipients."""
    first, end = chunk.first_seq, chunk.first_seq + chunk.size
    with connection.cursor() as cursor:
        cursor.execute(CHUNK_RECIPIENTS_SQL[connection.vendor], [chunk.broadcast_id, first, end])
        return [(user_id, bool(following), name) for user_id, following, name in cursor.fetchall()]


class WindowFull(Exception):
    """The channel's current one-second window is used up; the next opens in ``wait`` s."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate window full for {wait:.3f} s")
        self.wait = wait


def _window(channel_id: int) -> tuple[str, float]:
    """The key of the channel's current one-second window, and the seconds until the next."""
    now = time.time()
    return f"broadcast-rate:{channel_id}:{int(now)}", int(now) + 1 - now + WINDOW_MARGIN


def rate_take(*, channel_id: int, per_second: int) -> None:
    """Count one multicast request for the channel, or raise WindowFull without waiting.

    Fixed one-second windows counted in Redis (the cache in local runs), the way LINE
    counts them, so every worker and every broadcast of the channel together stay under
    its limit. A refused request leaves the window full (its count is over the limit).
    """
    key, wait = _window(channel_id)
    if _window_count(key) > per_second:
        raise WindowFull(wait)


def rate_room(*, channel_id: int, per_second: int) -> int:
    """Requests the channel may still make in its current window, or raise WindowFull
    (a read only: a sender claims no more chunks than this, and none when it is full)."""
    key, wait = _window(channel_id)
    room = per_second - _window_used(key)
    if room <= 0:
        raise WindowFull(wait)
    return room


def _window_used(key: str) -> int:
    if settings.REDIS_URL:
        return int(_redis().get(key) or 0)
    return cache.get(key, 0)


def _window_count(key: str) -> int:
    """Count one request in a window's counter and return the new count.

    With Redis, INCR and EXPIRE go in one round trip (Django's cache spends three on
    this: add, exists, incr). Without it (local runs), the shared cache does it.
    """
    if settings.REDIS_URL:
        pipeline = _redis().pipeline(transaction=False)
        pipeline.incr(key)
        pipeline.expire(key, 5)
        return pipeline.execute()[0]
    cache.add(key, 0, timeout=5)  # the window's first request creates its counter
    return cache.incr(key)  # within its own second: it cannot have expired


@functools.cache
def _redis() -> redis.Redis:
    """One client (a thread-safe connection pool) per process."""
    return redis.Redis.from_url(settings.REDIS_URL)


def _send(sender: _Sender, chunk: BroadcastChunk, following: list[tuple[str, str]]) -> None:
    """One multicast to the chunk's followers (user id, display name), with its retry key."""
    if sender.messages is not None:
        rate_take(channel_id=sender.broadcast.channel_id, per_second=sender.per_second)
        user_ids = [user_id for user_id, _name in following]
        with contextlib.suppress(AlreadyAccepted):  # 409: this chunk reached LINE before
            sender.client.multicast(user_ids, sender.messages, retry_key=str(chunk.retry_key))
        return
    for user_id, name in following:  # {display_name}: one push each, a retry key each
        messages = render_for(sender.broadcast, display_name=name)
        with contextlib.suppress(AlreadyAccepted):
            sender.client.push(
                user_id, messages, retry_key=str(uuid.uuid5(chunk.retry_key, user_id))
            )


def _outcome(chunk: BroadcastChunk, status: str, sent: int, skipped: int, error: str) -> None:
    chunk.status, chunk.sent_count, chunk.skipped_count = status, sent, skipped
    chunk.error = error[:2000]


def _give_back(chunks: list[BroadcastChunk]) -> None:
    """Chunks claimed but not tried go back to pending, their attempt given back."""
    for chunk in chunks:
        _outcome(chunk, ChunkStatus.PENDING, 0, 0, "")
        chunk.attempts -= 1


def _send_batch(sender: _Sender, chunks: list[BroadcastChunk], run: SenderRun) -> None:
    """Send claimed chunks in turn, setting each one's outcome on the object.

    Residents who unfollowed since the freeze are left out (counted as skipped). A
    transient error (429, 5xx, network, after the client's own retries) puts that chunk
    back to pending, or fails it after MAX_ATTEMPTS, and stops the batch (``run.backoff``):
    the chunks not tried yet go back to pending with their attempt given back. A full rate
    window gives back that chunk too and stops the batch (``run.wait``): nothing was sent,
    and the worker should serve another channel instead of waiting. Any other error fails
    the chunk.
    """
    for position, chunk in enumerate(chunks):
        recipients = _chunk_recipients(chunk)
        following = [(user_id, name) for user_id, follows, name in recipients if follows]
        skipped = len(recipients) - len(following)
        try:
            if following:
                _send(sender, chunk, following)
        except WindowFull as full:
            _give_back(chunks[position:])
            run.wait = full.wait
            return
        except LineApiError as exc:
            if exc.retryable and chunk.attempts < MAX_ATTEMPTS:
                _outcome(chunk, ChunkStatus.PENDING, 0, 0, str(exc))
                _give_back(chunks[position + 1 :])
                run.backoff = min(RETRY_BACKOFF_MAX, 2**chunk.attempts)
                return
            _outcome(chunk, ChunkStatus.FAILED, 0, skipped, str(exc))
            continue
        _outcome(chunk, ChunkStatus.SENT, len(following), skipped, "")


def _record(chunks: list[BroadcastChunk]) -> None:
    """Write the outcomes of one claim: one UPDATE per distinct outcome, usually a single
    one (every chunk sent, nobody skipped).

    Only rows still held by that claim (status sending, same claim time) are written: a
    chunk whose lease expired and that another sender claimed again is left to it.
    """
    now = timezone.now()
    by_outcome: dict[tuple, list[int]] = defaultdict(list)
    for chunk in chunks:
        outcome = (chunk.status, chunk.attempts, chunk.sent_count, chunk.skipped_count, chunk.error)
        by_outcome[outcome].append(chunk.pk)
    for (status, attempts, sent, skipped, error), pks in by_outcome.items():
        BroadcastChunk.objects.filter(
            pk__in=pks, status=ChunkStatus.SENDING, claimed_at=chunks[0].claimed_at
        ).update(
            status=status,
            attempts=attempts,
            sent_count=sent,
            skipped_count=skipped,
            error=error,
            sent_at=now if status == ChunkStatus.SENT else None,
        )


def _sender(broadcast: Broadcast) -> _Sender:
    policy = selectors.broadcast_policy(municipality=broadcast.municipality)
    personal = is_personal(broadcast.messages)
    return _Sender(
        broadcast=broadcast,
        client=shared_client(broadcast.channel.access_token),  # kept alive across chunks
        per_second=policy.requests_per_second,
        messages=None if personal else render_for(broadcast),
    )


def _room(sender: _Sender) -> int:
    """Chunks this sender may claim now: a batch, no more than the channel's window has
    room for (raises WindowFull when it has none). Pushes (personal messages) are not
    rate-limited here: LINE allows 2,000 a second, far more than a sender makes."""
    if sender.messages is None:
        return sender.batch
    room = rate_room(channel_id=sender.broadcast.channel_id, per_second=sender.per_second)
    return min(sender.batch, room)


def broadcast_chunks_send(*, broadcast_id: int, budget: int = SENDER_BUDGET) -> SenderRun:
    """One sender's run: claim, send and record pending chunks of a sending broadcast.

    Stops when no chunk is left to claim (then finishes the broadcast if it is done),
    after ``budget`` chunks (``more``: a successor should carry on), on a transient LINE
    error (``backoff``: a successor should come back later), or when the channel's rate
    window is used up (``wait``: a successor should come back when the next one opens;
    nothing is claimed for a full window, and the worker never sleeps on it). Safe to run
    many times at once: each chunk is claimed by one sender, and a duplicated task finds
    nothing to claim. In the broadcast's tenant scope (another's broadcast: nothing).
    """
    broadcast = selectors.broadcast_for_sending(pk=broadcast_id)
    if broadcast is None or broadcast.status != BroadcastStatus.SENDING:
        return SenderRun()
    run = SenderRun()
    sender = _sender(broadcast)
    while run.claimed < budget:
        try:
            room = _room(sender)
        except WindowFull as full:
            run.wait = full.wait
            return run
        chunks = _claim(broadcast_id, min(room, budget - run.claimed))
        if not chunks:
            broadcast_finish_if_done(broadcast_id=broadcast_id)
            return run
        _send_batch(sender, chunks, run)
        _record(chunks)
        run.claimed += sum(chunk.status != ChunkStatus.PENDING for chunk in chunks)
        if run.again_in is not None:
            return run
    run.more = True
    return run


def broadcast_finish_if_done(*, broadcast_id: int) -> bool:
    """Mark a sending broadcast sent, with its totals, once no chunk is left to send.

    In the broadcast's tenant scope (its chunks are scoped through it)."""
    chunks = BroadcastChunk.objects.filter(broadcast_id=broadcast_id)
    if chunks.filter(status__in=(ChunkStatus.PENDING, ChunkStatus.SENDING)).exists():
        return False
    totals = chunks.aggregate(sent=Sum("sent_count"), skipped=Sum("skipped_count"))
    failed = chunks.filter(status=ChunkStatus.FAILED).aggregate(
        size=Sum("size"), skipped=Sum("skipped_count")
    )
    finished = Broadcast.objects.filter(pk=broadcast_id, status=BroadcastStatus.SENDING).update(
        status=BroadcastStatus.SENT,
        finished_at=timezone.now(),
        sent_count=totals["sent"] or 0,
        skipped_count=totals["skipped"] or 0,
        failed_count=(failed["size"] or 0) - (failed["skipped"] or 0),
    )
    if finished:
        broadcast = selectors.broadcast_for_sending(pk=broadcast_id)
        audit_log(
            None,
            "delivery.broadcast.finished",
            broadcast,
            selectors.broadcast_progress(broadcast=broadcast),
        )
    return bool(finished)


def broadcast_chunks_resume(
    *, broadcast_id: int, lease: timedelta = CLAIM_LEASE, idle: timedelta = IDLE_AFTER
) -> bool:
    """Whether a sending broadcast needs new senders, because its own were lost.

    Chunks whose worker died (claimed longer than ``lease`` ago) go back to pending. New
    senders are needed when chunks are pending and none was claimed for ``idle`` (the
    senders died, or their tasks were lost); the pending chunks' claim time is then set
    to now, so that the next check waits ``idle`` again. Re-sending is safe: a claim
    admits one sender and the stored retry key turns a repeat into LINE's 409. In the
    broadcast's tenant scope.
    """
    now = timezone.now()
    BroadcastChunk.objects.filter(
        broadcast_id=broadcast_id, status=ChunkStatus.SENDING, claimed_at__lt=now - lease
    ).update(status=ChunkStatus.PENDING)
    if not selectors.broadcast_stalled(broadcast_id=broadcast_id, idle_before=now - idle):
        return False
    BroadcastChunk.objects.filter(broadcast_id=broadcast_id, status=ChunkStatus.PENDING).update(
        claimed_at=now
    )
    return True
