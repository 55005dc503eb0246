"""Celery tasks of broadcasts (queue ``broadcast``). They take ids and can run twice.

Tasks of one broadcast are TenantTasks: enqueued with the broadcast's ``municipality_id``,
they run in its scope. Beat's ``broadcast_dispatch`` sweeps every municipality and enters
each broadcast's scope itself.
"""

import time

from celery import shared_task
from django.utils import timezone

from delivery.broadcasts import selectors
from delivery.broadcasts.models import Broadcast
from delivery.broadcasts.reminders import reminders_schedule
from delivery.broadcasts.sending import (
    broadcast_chunks_resume,
    broadcast_chunks_send,
    broadcast_finish_if_done,
    senders_for,
)
from delivery.broadcasts.services import broadcast_start as start_service
from govtech.tasks import TenantTask
from govtech.tenancy import tenant_scope

__all__ = ["broadcast_dispatch", "broadcast_send", "broadcast_senders_start", "broadcast_start"]


@shared_task(
    name="delivery.tasks.broadcast_start",
    acks_late=True,
    ignore_result=True,
    base=TenantTask,
    legacy_row_model=Broadcast,
)
def broadcast_start(broadcast_id: int, *, municipality_id: int) -> bool:
    """Freeze a due broadcast's recipients and start its senders; a second run is a no-op."""
    return start_service(broadcast_id=broadcast_id)


@shared_task(
    name="delivery.tasks.broadcast_send",
    acks_late=True,
    ignore_result=True,
    base=TenantTask,
    legacy_row_model=Broadcast,
)
def broadcast_send(broadcast_id: int, *, municipality_id: int) -> int:
    """Send a broadcast's pending chunks for a while (claimed, stored retry keys), then
    hand over to a successor at the back of the queue; when the channel's rate window is
    full the successor comes back as the next one opens (< 1 s), after a transient LINE
    error after the backoff (≤ 60 s). The worker is free for other channels meanwhile.
    Returns the chunks this run sent or failed. Duplicates are harmless: each chunk is
    claimed by one sender."""
    run = broadcast_chunks_send(broadcast_id=broadcast_id)
    again_in = run.again_in
    if again_in is None:
        return run.claimed
    if run.wait is not None and broadcast_send.request.is_eager:  # no queue to wait in
        time.sleep(run.wait)  # else the successor, run in place, finds the same full window
    broadcast_send.apply_async(
        (broadcast_id,), {"municipality_id": municipality_id}, countdown=again_in or None
    )
    return run.claimed


def broadcast_senders_start(broadcast: Broadcast) -> None:
    """Enqueue the broadcast's senders (as many as its channel's rate needs)."""
    policy = selectors.broadcast_policy(municipality=broadcast.municipality)
    for _ in range(senders_for(policy.requests_per_second)):
        broadcast_send.delay(broadcast.pk, municipality_id=broadcast.municipality_id)


@shared_task(name="delivery.tasks.broadcast_dispatch", ignore_result=True)
def broadcast_dispatch() -> dict:
    """Beat, every 10 s: start due broadcasts, give new senders to broadcasts whose
    senders were lost (a dead worker's chunks go back to pending), finish broadcasts
    with nothing left to send, and create tomorrow's calendar reminders when due."""
    now = timezone.now()
    started = 0
    for broadcast in selectors.broadcasts_due(now=now):
        with tenant_scope(broadcast.municipality):
            started += start_service(broadcast_id=broadcast.pk)
    resumed = 0
    for broadcast in selectors.sending_broadcasts():
        with tenant_scope(broadcast.municipality):
            if broadcast_chunks_resume(broadcast_id=broadcast.pk):
                broadcast_senders_start(broadcast)
                resumed += 1
            broadcast_finish_if_done(broadcast_id=broadcast.pk)  # a worker died before finishing
    reminders = reminders_schedule(now=now)
    return {"started": started, "resumed": resumed, "reminders": reminders}
