"""Celery tasks of broadcasts (queue ``broadcast``). They take ids and can run twice."""

from celery import shared_task
from django.utils import timezone

from delivery.broadcasts import selectors
from delivery.broadcasts.reminders import reminders_schedule
from delivery.broadcasts.sending import (
    broadcast_chunk_send,
    broadcast_chunks_resume,
    broadcast_finish_if_done,
)
from delivery.broadcasts.services import broadcast_start as start_service

__all__ = ["broadcast_dispatch", "broadcast_send_chunk", "broadcast_start"]

RETRY_BACKOFF_MAX = 60  # seconds; never a long ETA (schedules live in the database)


@shared_task(name="delivery.tasks.broadcast_start", acks_late=True, ignore_result=True)
def broadcast_start(broadcast_id: int) -> bool:
    """Freeze a due broadcast's recipients and enqueue its chunks; a second run is a no-op."""
    return start_service(broadcast_id=broadcast_id)


@shared_task(
    bind=True,
    name="delivery.tasks.broadcast_send_chunk",
    acks_late=True,
    ignore_result=True,
    max_retries=None,
)
def broadcast_send_chunk(self, chunk_id: int) -> str:
    """Send one ≤500-recipient chunk (claimed; stored retry key). Transient errors come
    back with exponential backoff (≤ 60 s); the attempt limit is counted on the row."""
    outcome = broadcast_chunk_send(chunk_id=chunk_id)
    if outcome == "retry":
        raise self.retry(countdown=min(RETRY_BACKOFF_MAX, 2 ** min(self.request.retries, 6)))
    return outcome


@shared_task(name="delivery.tasks.broadcast_dispatch", ignore_result=True)
def broadcast_dispatch() -> dict:
    """Beat, every 10 s: start due broadcasts, re-enqueue chunks a dead worker left behind
    (or nobody took), and create tomorrow's calendar reminders when their time comes."""
    now = timezone.now()
    started = [pk for pk in selectors.broadcasts_due(now=now) if start_service(broadcast_id=pk)]
    resumed = 0
    for broadcast_id in selectors.sending_broadcast_ids():
        for chunk_id in broadcast_chunks_resume(broadcast_id=broadcast_id):
            broadcast_send_chunk.delay(chunk_id)
            resumed += 1
        broadcast_finish_if_done(broadcast_id=broadcast_id)  # a worker died before finishing
    reminders = reminders_schedule(now=now)
    return {"started": len(started), "resumed": resumed, "reminders": reminders}
