"""Celery tasks of rich menus (queue ``broadcast``). They take ids, run in the
municipality's scope (TenantTask) and can run twice: publications and link requests are
rows claimed with a conditional UPDATE."""

from __future__ import annotations

from celery import shared_task

from delivery.line_api import LineApiError
from delivery.models import LineChannel
from delivery.richmenus import linking
from delivery.richmenus.models import RichMenuPublication
from delivery.richmenus.publishing import publication_run
from govtech.tasks import TenantTask

__all__ = [
    "richmenu_friends_refresh",
    "richmenu_links_send",
    "richmenu_publish",
    "richmenu_sync",
]

RETRY_SECONDS = 30


@shared_task(
    name="delivery.tasks.richmenu_publish", acks_late=True, ignore_result=True, base=TenantTask
)
def richmenu_publish(publication_id: int, *, municipality_id: int) -> str:
    """Put a publication at LINE, then bring the channel in step (default, links,
    deletion of the replaced menus). A transient LINE error comes back later."""
    outcome = publication_run(publication_id=publication_id)
    if outcome == "retry":
        richmenu_publish.apply_async(
            (publication_id,), {"municipality_id": municipality_id}, countdown=RETRY_SECONDS
        )
    elif outcome == "live":
        channel_id = RichMenuPublication.objects.values_list("menu_set__channel_id", flat=True).get(
            pk=publication_id
        )
        richmenu_sync.delay(channel_id, reassign=True, municipality_id=municipality_id)
    return outcome


@shared_task(
    name="delivery.tasks.richmenu_sync", acks_late=True, ignore_result=True, base=TenantTask
)
def richmenu_sync(channel_id: int, reassign: bool = False, *, municipality_id: int) -> int:
    """The channel's default menu, then link requests for every friend whose menu must
    change, then their senders. ``reassign``: first work out again which segment menu
    every friend should have (a segment menu was published or changed). Returns the link
    requests written."""
    channel = LineChannel.objects.get(pk=channel_id)
    if reassign:
        linking.friend_menus_assign(channel=channel)
    try:
        linking.default_apply(channel=channel)
    except LineApiError as error:
        if error.retryable:
            richmenu_sync.apply_async(
                (channel_id, reassign),
                {"municipality_id": municipality_id},
                countdown=RETRY_SECONDS,
            )
        raise
    written = linking.links_plan(channel=channel)
    _senders_start(channel)
    return written


def _senders_start(channel: LineChannel) -> None:
    if not linking.pending_links(channel=channel):
        linking.retired_menus_delete(channel=channel)
        return
    for _ in range(linking.SENDERS):
        richmenu_links_send.delay(channel.pk, municipality_id=channel.municipality_id)


@shared_task(
    name="delivery.tasks.richmenu_links_send", acks_late=True, ignore_result=True, base=TenantTask
)
def richmenu_links_send(channel_id: int, *, municipality_id: int) -> int:
    """Send pending link requests for a while; a successor carries on (at once, or after
    a transient error's backoff). The last sender deletes menus nobody sees any more."""
    channel = LineChannel.objects.get(pk=channel_id)
    sent, again_in = linking.link_chunks_send(channel=channel)
    if again_in is not None:
        richmenu_links_send.apply_async(
            (channel_id,), {"municipality_id": municipality_id}, countdown=again_in or None
        )
    elif not linking.pending_links(channel=channel):
        linking.retired_menus_delete(channel=channel)
    return sent


@shared_task(
    name="delivery.tasks.richmenu_friends_refresh",
    acks_late=True,
    ignore_result=True,
    base=TenantTask,
)
def richmenu_friends_refresh(
    channel_id: int, friend_ids: list[int] | None = None, *, municipality_id: int
) -> int:
    """Record which menu set each friend (all, or ``friend_ids``) should have after their
    attributes or the segment menus changed, and bring LINE in step."""
    channel = LineChannel.objects.get(pk=channel_id)
    changed = linking.friend_menus_assign(channel=channel, friend_ids=friend_ids)
    linking.links_plan(channel=channel)
    _senders_start(channel)
    return changed
