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


def pending_events(*, friend: Friend) -> list[WebhookEvent]:
    """A resident's unprocessed events in LINE's order (caller holds the friend's lock)."""
    return list(
        WebhookEvent.objects.filter(
            channel=friend.channel, line_user_id=friend.line_user_id, status="pending"
        ).order_by("timestamp", "id")
    )


def pending_outbound(*, friend: Friend) -> list[OutboundMessage]:
    return list(
        OutboundMessage.objects.filter(friend=friend, status=OutboundStatus.PENDING).order_by(
            "created_at", "id"
        )
    )
