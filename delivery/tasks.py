"""Celery tasks of delivery. They take ids, run twice safely and enter the tenant scope."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone
from django_scopes import scopes_disabled

from delivery.inbox import inbox_store, inbox_uses_redis, queued_flag_clear
from delivery.line_api import LineClient
from delivery.models import EventStatus, Friend, OutboundMessage, OutboundStatus, WebhookEvent
from delivery.outbound import outbound_send
from delivery.selectors import channel_by_pk, has_pending_events
from delivery.services import (
    DATABASE_UNAVAILABLE,
    EVENTS_PER_RUN,
    resident_events_process,
    resident_loading_show,
)
from govtech.tenancy import tenant_scope

RESEND_AFTER_SECONDS = 30


@shared_task(
    name="delivery.tasks.process_resident_events",
    # Nobody reads the count it returns: storing it cost two Redis commands a turn
    # (docs/decisions/0016-a-turn-profiled.md).
    ignore_result=True,
    acks_late=True,
    autoretry_for=DATABASE_UNAVAILABLE,
    retry_backoff=1,
    retry_backoff_max=10,
    max_retries=5,
)
def process_resident_events(channel_pk: int, line_user_id: str) -> int:
    """Apply one resident's pending webhook events in order (queue: engine).

    Two copies of this task for one resident serialize on the friend's row lock; the
    later finds nothing pending. One run applies at most EVENTS_PER_RUN events; when
    more remain it publishes itself again, behind every other resident's task, so one
    burst never holds the queue. A busy or unreachable database (nothing was applied:
    the run rolled back) retries within seconds; after the retries, beat's
    ``process_stale_events`` picks the events up. Returns how many events were applied.
    """
    queued_flag_clear(channel_pk=channel_pk, line_user_id=line_user_id)  # before reading
    applied = resident_events_process(channel_pk=channel_pk, line_user_id=line_user_id)
    if applied >= EVENTS_PER_RUN:
        channel = channel_by_pk(pk=channel_pk)
        if channel is not None and resident_has_more(channel, line_user_id):
            # The rest waits behind every other resident's task: the loading animation
            # says an answer is coming (this run's replies went out: it is not hidden).
            resident_loading_show(channel=channel, line_user_id=line_user_id)
            process_resident_events.delay(channel_pk, line_user_id)  # after the others
    return applied


def resident_has_more(channel, line_user_id: str) -> bool:
    with tenant_scope(channel.municipality):
        return has_pending_events(channel=channel, line_user_id=line_user_id)


@shared_task(name="delivery.tasks.store_webhook_inbox", acks_late=True, ignore_result=True)
def store_webhook_inbox() -> int:
    """Store the events the webhook acknowledged into the database (queue: inbox).

    Published by the webhook when no such task is waiting. One stores at a time (a lock);
    a second that finds it taken returns at once, the first re-checking the list when it
    is done. A task that ran out of time publishes its successor.
    """
    stored, more = inbox_store()
    if more:
        store_webhook_inbox.delay()
    return stored


@shared_task(name="delivery.tasks.process_stale_events", ignore_result=True)
def process_stale_events() -> int:
    """Beat, every minute: re-run residents whose events still wait after 30 seconds.

    Covers a processing task that was lost or failed on a transient error (LINE or the
    database unreachable), and an inbox whose store task was lost. Running it for a
    resident already processed is a no-op.
    """
    if inbox_uses_redis():
        inbox_store()
    cutoff = timezone.now() - timedelta(seconds=RESEND_AFTER_SECONDS)
    with scopes_disabled():
        waiting = set(
            WebhookEvent.objects.filter(
                status=EventStatus.PENDING, received_at__lt=cutoff
            ).values_list("channel_id", "line_user_id")[:1000]
        )
    for channel_pk, line_user_id in waiting:
        process_resident_events.delay(channel_pk, line_user_id)
    return len(waiting)


@shared_task(name="delivery.tasks.send_pending_outbound", ignore_result=True)
def send_pending_outbound() -> int:
    """Beat, every minute: push messages whose first send failed or was interrupted.

    Rows are claimed one by one (conditional update) and pushed with their stored retry
    key, so a message that did reach LINE is not delivered twice.
    """
    cutoff = timezone.now() - timedelta(seconds=RESEND_AFTER_SECONDS)
    with scopes_disabled():
        friend_ids = set(
            OutboundMessage.objects.filter(
                status=OutboundStatus.PENDING, created_at__lt=cutoff
            ).values_list("friend_id", flat=True)[:500]
        )
        friends = list(
            Friend.objects.filter(pk__in=friend_ids).select_related("channel__municipality")
        )
    for friend in friends:
        with tenant_scope(friend.municipality), LineClient(friend.channel.access_token) as client:
            outbound_send(friend=friend, client=client)
    return len(friends)


from delivery.broadcasts.tasks import *  # noqa: E402, F403  (segments and broadcasts)
from delivery.richmenus.tasks import *  # noqa: E402, F403  (rich menus and their links)
