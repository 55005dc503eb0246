"""Reads of delivery."""

from django_scopes import scopes_disabled

from delivery.models import Friend, LineChannel, OutboundMessage, OutboundStatus, WebhookEvent


def channel_for_webhook(*, channel_id: str) -> LineChannel | None:
    """The channel a webhook is addressed to, before any tenant is known.

    Unscoped on purpose: the URL names the channel, and the channel names the tenant.
    """
    with scopes_disabled():
        return (
            LineChannel.objects.select_related("municipality").filter(channel_id=channel_id).first()
        )


def channel_by_pk(*, pk: int) -> LineChannel | None:
    with scopes_disabled():
        return LineChannel.objects.select_related("municipality").filter(pk=pk).first()


def pending_events(*, friend: Friend, limit: int | None = None) -> list[WebhookEvent]:
    """A resident's unprocessed events in LINE's order, the first ``limit`` of them
    (caller holds the friend's lock)."""
    events = WebhookEvent.objects.filter(
        channel=friend.channel, line_user_id=friend.line_user_id, status="pending"
    ).order_by("timestamp", "id")
    return list(events[:limit] if limit is not None else events)


def has_pending_events(*, channel: LineChannel, line_user_id: str) -> bool:
    """Whether a resident still has unprocessed events (inside the channel's scope)."""
    return WebhookEvent.objects.filter(
        channel=channel, line_user_id=line_user_id, status="pending"
    ).exists()


def pending_outbound(*, friend: Friend) -> list[OutboundMessage]:
    return list(
        OutboundMessage.objects.filter(friend=friend, status=OutboundStatus.PENDING).order_by(
            "created_at", "id"
        )
    )
