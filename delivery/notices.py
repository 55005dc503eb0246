"""LINE as a channel of the residents' outbox, and delivery's part of a resident's data.

Registered with procedures (``procedures.residents.registry``) when the app is ready:
procedures writes a Notice, this channel renders its transport-neutral prompts as LINE
messages and pushes them with the notice's retry key. The contributor exports and
erases what delivery keeps about a resident (their friends, events and messages).
"""

from __future__ import annotations

from typing import Any

from delivery.line_api import LineClient
from delivery.models import Friend, OutboundMessage, OutboundStatus, WebhookEvent
from delivery.outbound import outbound_send
from delivery.rendering import render_prompts
from procedures import engine
from procedures.residents.models import Notice, Resident
from procedures.residents.registry import NoticeSendFailed


def following_friend(*, resident: Resident) -> Friend | None:
    """The resident's LINE identity that follows its channel (the newest, if several)."""
    return (
        Friend.objects.filter(resident=resident, is_following=True)
        .select_related("channel", "municipality", "resident")
        .order_by("-pk")
        .first()
    )


class LineNoticeChannel:
    """Sends a notice by push to the resident's following LINE friend."""

    name = "line"

    def reaches(self, resident: Resident) -> bool:
        return following_friend(resident=resident) is not None

    def send(self, notice: Notice) -> None:
        friend = following_friend(resident=notice.resident)
        if friend is None:  # blocked since reaches() was asked
            raise NoticeSendFailed("the resident no longer follows the account", retryable=False)
        prompts = [engine.prompt_from_dict(data) for data in notice.prompts]
        message, _created = OutboundMessage.objects.get_or_create(
            retry_key=notice.retry_key,
            defaults={
                "municipality": friend.municipality,
                "channel": friend.channel,
                "friend": friend,
                "messages": render_prompts(prompts, lang=friend.resident.language),
            },
        )
        with LineClient(friend.channel.access_token) as client:
            outbound_send(friend=friend, client=client)
        message.refresh_from_db()
        if message.status == OutboundStatus.FAILED:
            raise NoticeSendFailed(message.error or "LINE refused the message", retryable=False)
        if message.status != OutboundStatus.SENT:
            raise NoticeSendFailed(message.error or "not sent yet", retryable=True)


class LineResidentData:
    """What delivery keeps about a resident: LINE friends, their events and messages."""

    name = "line"

    def export(self, resident: Resident) -> list[dict[str, Any]]:
        friends = Friend.objects.filter(resident=resident).select_related("channel")
        return [
            {
                "channel": friend.channel.channel_id,
                "line_user_id": friend.line_user_id,
                "display_name": friend.display_name,
                "language": friend.language,
                "is_following": friend.is_following,
                "followed_at": friend.followed_at.isoformat() if friend.followed_at else None,
                "messages_sent": list(
                    OutboundMessage.objects.filter(friend=friend).values_list("messages", flat=True)
                ),
            }
            for friend in friends
        ]

    def erase(self, resident: Resident) -> int:
        count = 0
        for friend in Friend.objects.filter(resident=resident):
            count += WebhookEvent.objects.filter(
                channel=friend.channel_id, line_user_id=friend.line_user_id
            ).delete()[0]
            count += friend.delete()[0]  # with its outbound messages (cascade)
        return count
