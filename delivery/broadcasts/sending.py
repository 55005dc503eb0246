"""Sending a broadcast's chunks exactly once, at the channel's rate, and finishing it.

A chunk is claimed with a conditional UPDATE (pending → sending); a duplicated task
finds nothing to claim. The multicast carries the chunk's stored retry key, so a chunk
re-sent after a worker died mid-request is answered 409 by LINE and counted as sent.
"""

import contextlib
import logging
import time
import uuid
from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import F, Sum
from django.utils import timezone
from django_scopes import scopes_disabled

from delivery.broadcasts import selectors
from delivery.broadcasts.messages import is_personal
from delivery.broadcasts.models import (
    Broadcast,
    BroadcastChunk,
    BroadcastRecipient,
    BroadcastStatus,
    ChunkStatus,
)
from delivery.broadcasts.services import render_for
from delivery.line_api import AlreadyAccepted, LineApiError, shared_client
from delivery.models import Friend
from govtech.services import audit_log
from govtech.tenancy import tenant_scope

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_LEASE = timedelta(minutes=2)  # a chunk "sending" longer than this lost its worker
IDLE_AFTER = timedelta(minutes=1)  # a pending chunk nobody claimed for this long is re-queued


def _claim(chunk_id: int) -> BroadcastChunk | None:
    """Take a pending chunk for this worker (conditional UPDATE); None if someone else has it."""
    claimed = BroadcastChunk.objects.filter(pk=chunk_id, status=ChunkStatus.PENDING).update(
        status=ChunkStatus.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return BroadcastChunk.objects.select_related(
        "broadcast__channel", "broadcast__municipality"
    ).get(pk=chunk_id)


def personal(chunk: BroadcastChunk) -> bool:
    return is_personal(chunk.broadcast.messages)


# Rows of one chunk by the (broadcast_id, seq) key as a row comparison, which only the
# unique (broadcast, seq) index can serve. Written as ``broadcast_id = … AND seq …``,
# the planner, whose statistics after a fresh freeze know nothing of the new broadcast
# (estimated 1 row), may pick the broadcast_id index and filter the whole audience for
# every chunk: 0.3 s per chunk at a million recipients.
CHUNK_RECIPIENTS_SQL = f"""
    SELECT f.line_user_id, f.is_following, f.display_name
    FROM {BroadcastRecipient._meta.db_table} r JOIN {Friend._meta.db_table} f ON f.id = r.friend_id
    WHERE (r.broadcast_id, r.seq) >= (%s, %s) AND (r.broadcast_id, r.seq) < (%s, %s)
    ORDER BY r.broadcast_id, r.seq
"""  # noqa: S608 (table names from the models, values as parameters)


def _chunk_recipients(chunk: BroadcastChunk) -> list[tuple[str, bool, str]]:
    """(line_user_id, is_following now, display_name) of a chunk's frozen recipients."""
    first, end = chunk.first_seq, chunk.first_seq + chunk.size
    with connection.cursor() as cursor:
        cursor.execute(CHUNK_RECIPIENTS_SQL, [chunk.broadcast_id, first, chunk.broadcast_id, end])
        return [(user_id, bool(following), name) for user_id, following, name in cursor]


def rate_wait(*, channel_id: int, per_second: int) -> None:
    """Block until this process may make one more multicast request for the channel.

    Fixed one-second windows counted in the shared cache (Redis in production), the way
    LINE counts them, so every worker together stays under the channel's limit.
    """
    while True:
        now = time.time()
        key = f"broadcast-rate:{channel_id}:{int(now)}"
        cache.add(key, 0, timeout=5)
        with contextlib.suppress(ValueError):  # expired between add and incr: next loop
            if cache.incr(key) <= per_second:
                return
        time.sleep(int(now) + 1 - now)


def _send(chunk: BroadcastChunk, user_ids: list[str], names: dict[str, str]) -> None:
    broadcast = chunk.broadcast
    policy = selectors.broadcast_policy(municipality=broadcast.municipality)
    client = shared_client(broadcast.channel.access_token)  # kept alive across chunks
    if not is_personal(broadcast.messages):
        rate_wait(channel_id=broadcast.channel_id, per_second=policy.requests_per_second)
        with contextlib.suppress(AlreadyAccepted):  # 409: this chunk reached LINE before
            client.multicast(user_ids, render_for(broadcast), retry_key=str(chunk.retry_key))
        return
    for user_id in user_ids:  # {display_name}: one push each, a retry key each
        messages = render_for(broadcast, display_name=names[user_id])
        with contextlib.suppress(AlreadyAccepted):
            client.push(user_id, messages, retry_key=str(uuid.uuid5(chunk.retry_key, user_id)))


def _record(chunk: BroadcastChunk, status: str, sent: int, skipped: int, error: str = "") -> None:
    BroadcastChunk.objects.filter(pk=chunk.pk, status=ChunkStatus.SENDING).update(
        status=status,
        sent_count=sent,
        skipped_count=skipped,
        error=error[:2000],
        sent_at=timezone.now() if status == ChunkStatus.SENT else None,
    )


def broadcast_chunk_send(*, chunk_id: int) -> str:
    """Send one chunk once. Returns ``sent``, ``failed``, ``retry`` or ``skipped``.

    ``skipped``: another worker holds it, or it is done (a duplicated task is a no-op).
    Residents who unfollowed since the freeze are left out and counted as skipped.
    Transient errors (429, 5xx, network) put the chunk back to pending for a later
    attempt (``retry``) up to MAX_ATTEMPTS; then, or for any other error, it is failed
    with the error recorded.
    """
    chunk = _claim(chunk_id)
    if chunk is None:
        return "skipped"
    recipients = _chunk_recipients(chunk)
    following = [user_id for user_id, is_following, _name in recipients if is_following]
    names = {user_id: name for user_id, _f, name in recipients} if personal(chunk) else {}
    skipped = len(recipients) - len(following)
    try:
        with tenant_scope(chunk.broadcast.municipality):
            if following:
                _send(chunk, following, names)
    except LineApiError as exc:
        if exc.retryable and chunk.attempts < MAX_ATTEMPTS:
            BroadcastChunk.objects.filter(pk=chunk.pk, status=ChunkStatus.SENDING).update(
                status=ChunkStatus.PENDING, error=str(exc)[:2000]
            )
            return "retry"
        _record(chunk, ChunkStatus.FAILED, 0, skipped, str(exc))
        broadcast_finish_if_done(broadcast_id=chunk.broadcast_id)
        return "failed"
    _record(chunk, ChunkStatus.SENT, len(following), skipped)
    broadcast_finish_if_done(broadcast_id=chunk.broadcast_id)
    return "sent"


def broadcast_finish_if_done(*, broadcast_id: int) -> bool:
    """Mark a sending broadcast sent, with its totals, once no chunk is left to send."""
    chunks = BroadcastChunk.objects.filter(broadcast_id=broadcast_id)
    if chunks.filter(status__in=(ChunkStatus.PENDING, ChunkStatus.SENDING)).exists():
        return False
    totals = chunks.aggregate(sent=Sum("sent_count"), skipped=Sum("skipped_count"))
    failed = chunks.filter(status=ChunkStatus.FAILED).aggregate(
        size=Sum("size"), skipped=Sum("skipped_count")
    )
    with scopes_disabled():  # the task knows the broadcast only by id
        finished = Broadcast.objects.filter(pk=broadcast_id, status=BroadcastStatus.SENDING)
    finished = finished.update(
        status=BroadcastStatus.SENT,
        finished_at=timezone.now(),
        sent_count=totals["sent"] or 0,
        skipped_count=totals["skipped"] or 0,
        failed_count=(failed["size"] or 0) - (failed["skipped"] or 0),
    )
    if finished:
        broadcast = selectors.broadcast_unscoped(pk=broadcast_id)
        audit_log(
            None,
            "delivery.broadcast.finished",
            broadcast,
            selectors.broadcast_progress(broadcast=broadcast),
        )
    return bool(finished)


def broadcast_chunks_resume(
    *, broadcast_id: int, lease: timedelta = CLAIM_LEASE, idle: timedelta = IDLE_AFTER
) -> list[int]:
    """Chunks to enqueue again: those whose worker died (claim older than ``lease``, put
    back to pending) and pending ones nobody took for ``idle``. Re-sending is safe: the
    claim admits one worker and the stored retry key turns a repeat into LINE's 409."""
    now = timezone.now()
    stale = selectors.chunks_to_resume(
        broadcast_id=broadcast_id, stale_before=now - lease, idle_before=now - idle
    )
    ids = list(stale.values_list("pk", flat=True)[:5000])
    BroadcastChunk.objects.filter(pk__in=ids, status=ChunkStatus.SENDING).update(
        status=ChunkStatus.PENDING, claimed_at=now
    )
    BroadcastChunk.objects.filter(pk__in=ids, status=ChunkStatus.PENDING).update(claimed_at=now)
    return ids
