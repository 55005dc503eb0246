"""Writes of the LINE simulator: channels, residents, deliveries, tokens, limits.

Everything here is what "LINE" does. The emulated API views (``api.py``), the chat page
and the JSON API (``views.py``), seed commands and tests call these functions.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from delivery.simulator import selectors, webhooks
from delivery.simulator.models import (
    SimulatorApiCall,
    SimulatorChannel,
    SimulatorFriendship,
    SimulatorMessageContent,
    SimulatorNarrowcast,
    SimulatorRateCounter,
    SimulatorReplyToken,
    SimulatorRetryKey,
    SimulatorRichMenuAlias,
    SimulatorRichMenuLink,
    SimulatorTranscriptEntry,
    SimulatorUser,
    new_line_message_id,
)

# --- channels and residents ----------------------------------------------------


def simulator_channel_create(
    *,
    channel_id: str,
    name: str,
    municipality: str = "",
    webhook_url: str = "",
    channel_secret: str | None = None,
    channel_access_token: str | None = None,
    bot_user_id: str | None = None,
    monthly_quota: int | None = None,
    rate_limits: dict[str, list[int]] | None = None,
) -> SimulatorChannel:
    """Create the channel, or update the given fields of the one with this ``channel_id``.

    Idempotent, so a seed command can call it on every run. Secrets and tokens left as
    ``None`` are generated once and then kept.
    """
    values: dict[str, Any] = {
        "name": name,
        "municipality": municipality,
        "webhook_url": webhook_url,
    }
    optional = {
        "channel_secret": channel_secret,
        "channel_access_token": channel_access_token,
        "bot_user_id": bot_user_id,
        "monthly_quota": monthly_quota,
        "rate_limits": rate_limits,
    }
    values.update({key: value for key, value in optional.items() if value is not None})
    channel, _ = SimulatorChannel.objects.update_or_create(channel_id=channel_id, defaults=values)
    return channel


def simulator_channel_configure(
    *,
    channel: SimulatorChannel,
    webhook_url: str | None = None,
    webhook_enabled: bool | None = None,
    monthly_quota: int | None = None,
    rate_limits: dict[str, list[int]] | None = None,
    reply_token_ttl_seconds: int | None = None,
) -> SimulatorChannel:
    """Change the channel's settings; ``None`` leaves a setting as it is."""
    changes = {
        "webhook_url": webhook_url,
        "webhook_enabled": webhook_enabled,
        "monthly_quota": monthly_quota,
        "rate_limits": rate_limits,
        "reply_token_ttl_seconds": reply_token_ttl_seconds,
    }
    for name, value in changes.items():
        if value is not None:
            setattr(channel, name, value)
    channel.save()
    return channel


def simulator_user_create(
    *,
    display_name: str,
    language: str = SimulatorUser.Language.JA,
    user_id: str | None = None,
    picture_url: str = "",
) -> SimulatorUser:
    """A new resident LINE account (a ``U`` + 32 hex user ID is generated unless given)."""
    user = SimulatorUser(display_name=display_name, language=language, picture_url=picture_url)
    if user_id:
        user.user_id = user_id
    user.full_clean()
    user.save()
    return user


def simulator_user_get_or_create(
    *, user_id: str, display_name: str = "", language: str = SimulatorUser.Language.JA
) -> SimulatorUser:
    """The resident with this user ID, created (named after the ID) when unknown."""
    defaults = {"display_name": display_name or f"住民 {user_id[1:7]}", "language": language}
    user, _ = SimulatorUser.objects.get_or_create(user_id=user_id, defaults=defaults)
    return user


def simulator_friendship_set(
    *, channel: SimulatorChannel, user: SimulatorUser, status: str
) -> str | None:
    """Set friend/blocked and return the status before (``None``: never added).

    The previous status is the stored string, comparable to ``SimulatorFriendship.Status``.
    """
    friendship = SimulatorFriendship.objects.filter(channel=channel, user=user).first()
    previous = friendship.status if friendship else None
    SimulatorFriendship.objects.update_or_create(
        channel=channel, user=user, defaults={"status": status}
    )
    return previous


def simulator_friendship_ensure(*, channel: SimulatorChannel, user: SimulatorUser) -> None:
    """A resident the simulator meets for the first time counts as an existing friend."""
    SimulatorFriendship.objects.get_or_create(channel=channel, user=user)


# --- limits ------------------------------------------------------------------------


_RATE_TABLE = SimulatorRateCounter._meta.db_table
_RATE_COUNT_SQL = f"""
    INSERT INTO {_RATE_TABLE} (channel_id, family, "window", count) VALUES (%s, %s, %s, 1)
    ON CONFLICT (channel_id, family, "window")
    DO UPDATE SET count = {_RATE_TABLE}.count + 1 WHERE {_RATE_TABLE}.count < %s
    RETURNING count
"""  # noqa: S608 (the table name from the model, values as parameters; "window" is a keyword)


def simulator_rate_limit_consume(*, channel: SimulatorChannel, family: str) -> bool:
    """Count one request of ``family``; ``False`` when the window's limit is reached.

    Fixed windows counted in the database, so that every process serving the simulator
    shares one counter: one upsert (``INSERT … ON CONFLICT DO UPDATE … WHERE count <
    limit``) takes a slot, and two requests cannot both take the last one. The first
    request of a window removes the channel's older windows of that family.
    """
    limit, window = selectors.rate_window(channel=channel, family=family)
    if limit < 1:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_RATE_COUNT_SQL, [channel.pk, family, window, limit])
        counted = cursor.fetchone()
    if counted is not None and counted[0] == 1:
        SimulatorRateCounter.objects.filter(
            channel=channel, family=family, window__lt=window
        ).delete()
    return counted is not None


def simulator_api_call_record(
    *,
    channel: SimulatorChannel | None,
    request_id: str,
    method: str,
    path: str,
    status: int,
    quota_consumed: int = 0,
) -> SimulatorApiCall:
    """Log one API request; ``quota_consumed`` is what the monthly quota is summed from."""
    return SimulatorApiCall.objects.create(
        channel=channel,
        request_id=request_id,
        method=method,
        path=path[:300],
        status=status,
        quota_consumed=quota_consumed,
        at=timezone.now(),
    )


# --- reply tokens and retry keys ---------------------------------------------------


def simulator_reply_token_issue(*, channel: SimulatorChannel, user: SimulatorUser) -> str:
    """A fresh reply token for an event the user caused."""
    token = secrets.token_hex(16)
    SimulatorReplyToken.objects.create(
        token=token, channel=channel, user=user, created_at=timezone.now()
    )
    return token


def simulator_reply_token_use(*, channel: SimulatorChannel, token: str) -> SimulatorUser | None:
    """Spend a reply token: the user to reply to, or ``None`` if it is unknown, expired or used.

    The conditional ``UPDATE`` makes the token single-use even under concurrent replies.
    """
    reply_token = (
        SimulatorReplyToken.objects.select_related("user")
        .filter(channel=channel, token=token)
        .first()
    )
    if reply_token is None:
        return None
    now = timezone.now()
    if reply_token.created_at + timedelta(seconds=channel.reply_token_ttl_seconds) < now:
        return None
    spent = SimulatorReplyToken.objects.filter(pk=reply_token.pk, used_at__isnull=True).update(
        used_at=now
    )
    return reply_token.user if spent else None


class RetryKeyAlreadyAccepted(Exception):
    def __init__(self, retry_key: SimulatorRetryKey) -> None:
        super().__init__("The retry key is already accepted")
        self.retry_key = retry_key


def simulator_retry_key_claim(
    *, channel: SimulatorChannel, key: uuid.UUID, request_id: str
) -> SimulatorRetryKey:
    """Record ``key`` as accepted by this request, inside the sending transaction if any.

    Raises ``RetryKeyAlreadyAccepted`` (with the first request's row) when it was accepted
    before. One ``INSERT … ON CONFLICT DO NOTHING``: the unique constraint decides, also
    between two concurrent requests, and a new key costs one statement.
    """
    now = timezone.now()
    key_field = SimulatorRetryKey._meta.get_field("key")
    with connection.cursor() as cursor:
        cursor.execute(
            _RETRY_KEY_INSERT_SQL,
            [channel.pk, key_field.get_db_prep_value(key, connection), request_id, now],
        )
        inserted = cursor.fetchone()
    if inserted is None:
        raise RetryKeyAlreadyAccepted(SimulatorRetryKey.objects.get(channel=channel, key=key))
    return SimulatorRetryKey(
        pk=inserted[0], channel=channel, key=key, accepted_request_id=request_id, created_at=now
    )


_RETRY_KEY_INSERT_SQL = f"""
    INSERT INTO {SimulatorRetryKey._meta.db_table}
        (channel_id, "key", accepted_request_id, sent_messages, created_at)
    VALUES (%s, %s, %s, NULL, %s)
    ON CONFLICT (channel_id, "key") DO NOTHING
    RETURNING id
"""  # noqa: S608 (the table name from the model, values as parameters)


# --- delivering messages -----------------------------------------------------------


@dataclass
class Delivery:
    """What one send request did: one sent message per message object, and who got them."""

    sent_messages: list[dict[str, str]] = field(default_factory=list)
    delivered_user_ids: list[str] = field(default_factory=list)


def _sent_message(message: dict[str, Any]) -> dict[str, str]:
    sent = {"id": new_line_message_id()}
    if message.get("type") in {"text", "textV2", "image", "video", "sticker", "template", "flex"}:
        sent["quoteToken"] = secrets.token_urlsafe(48)
    return sent


def simulator_messages_deliver(
    *,
    channel: SimulatorChannel,
    users: Iterable[SimulatorUser],
    messages: Sequence[dict[str, Any]],
    request_id: str,
) -> Delivery:
    """Put ``messages`` into the chats of ``users``, skipping those who blocked the channel.

    LINE accepts a send to a user who blocked the account but delivers nothing; the same
    happens here. One transcript row per message object per delivered user, each exactly
    as the API received it.
    """
    delivery = Delivery(sent_messages=[_sent_message(message) for message in messages])
    users = list(users)
    blocked = selectors.blocked_user_ids(channel=channel, user_ids=[u.user_id for u in users])
    now = timezone.now()
    rows = []
    for user in users:
        if user.user_id in blocked:
            continue
        delivery.delivered_user_ids.append(user.user_id)
        if not channel.record_transcript:  # count-only delivery (load tests)
            continue
        for message, sent in zip(messages, delivery.sent_messages, strict=True):
            rows.append(
                SimulatorTranscriptEntry(
                    channel=channel,
                    user=user,
                    direction=SimulatorTranscriptEntry.Direction.OUT,
                    at=now,
                    message=message,
                    line_message_id=sent["id"],
                    api_request_id=request_id,
                )
            )
    if not channel.record_transcript:
        return delivery
    SimulatorTranscriptEntry.objects.bulk_create(rows)
    SimulatorFriendship.objects.filter(
        channel=channel, user__user_id__in=delivery.delivered_user_ids
    ).update(loading_until=None)
    return delivery


def simulator_narrowcast_record(
    *, channel: SimulatorChannel, request_id: str, target_count: int, success_count: int
) -> SimulatorNarrowcast:
    """The progress row of a narrowcast; the simulator has finished it by the time it answers."""
    now = timezone.now()
    return SimulatorNarrowcast.objects.create(
        channel=channel,
        request_id=request_id,
        phase="succeeded",
        target_count=target_count,
        success_count=success_count,
        failure_count=target_count - success_count,
        accepted_at=now,
        completed_at=now,
    )


def simulator_loading_start(
    *, channel: SimulatorChannel, user: SimulatorUser, seconds: int
) -> None:
    """Show the loading dots in the user's chat until ``seconds`` pass or a message arrives."""
    SimulatorFriendship.objects.filter(channel=channel, user=user).update(
        loading_until=timezone.now() + timedelta(seconds=seconds)
    )


# --- what residents do (webhook events) --------------------------------------------


class SimulatorInputRefused(Exception):
    """The resident cannot do this (for example, talk to a channel they blocked)."""


@dataclass
class SayResult:
    entry: SimulatorTranscriptEntry
    event: dict[str, Any]
    webhook: webhooks.WebhookResult | None


def _sniff_image_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:6] in {b"GIF87a", b"GIF89a"}:
        return "image/gif"
    return "image/jpeg"


def _message_event(
    channel: SimulatorChannel, user: SimulatorUser, message: dict[str, Any]
) -> dict[str, Any]:
    token = simulator_reply_token_issue(channel=channel, user=user)
    event = webhooks.event_base(event_type="message", user_id=user.user_id, reply_token=token)
    event["message"] = message
    return event


def _postback_event(
    channel: SimulatorChannel, user: SimulatorUser, data: str, params: dict[str, Any] | None
) -> dict[str, Any]:
    token = simulator_reply_token_issue(channel=channel, user=user)
    event = webhooks.event_base(event_type="postback", user_id=user.user_id, reply_token=token)
    event["postback"] = webhooks.postback_content(data=data, params=params)
    return event


def _image_event(channel: SimulatorChannel, user: SimulatorUser, image: bytes) -> dict[str, Any]:
    message_id = new_line_message_id()
    SimulatorMessageContent.objects.create(
        message_id=message_id, channel=channel, content_type=_sniff_image_type(image), data=image
    )
    return _message_event(channel, user, webhooks.image_message(message_id=message_id))


def _follow_event(channel: SimulatorChannel, user: SimulatorUser) -> dict[str, Any]:
    previous = simulator_friendship_set(
        channel=channel, user=user, status=SimulatorFriendship.Status.FRIEND
    )
    token = simulator_reply_token_issue(channel=channel, user=user)
    event = webhooks.event_base(event_type="follow", user_id=user.user_id, reply_token=token)
    event["follow"] = {"isUnblocked": previous == SimulatorFriendship.Status.BLOCKED}
    return event


def _unfollow_event(channel: SimulatorChannel, user: SimulatorUser) -> dict[str, Any]:
    simulator_friendship_set(channel=channel, user=user, status=SimulatorFriendship.Status.BLOCKED)
    return webhooks.event_base(event_type="unfollow", user_id=user.user_id)


def _build_event(channel: SimulatorChannel, user: SimulatorUser, **kinds: Any) -> dict[str, Any]:
    if kinds.get("follow"):
        return _follow_event(channel, user)
    if kinds.get("unfollow"):
        return _unfollow_event(channel, user)
    if (
        selectors.friendship_status(channel=channel, user=user)
        == SimulatorFriendship.Status.BLOCKED
    ):
        raise SimulatorInputRefused("The user has blocked this channel; follow it first.")
    simulator_friendship_ensure(channel=channel, user=user)
    if kinds.get("text") is not None:
        message = webhooks.text_message(message_id=new_line_message_id(), text=kinds["text"])
        return _message_event(channel, user, message)
    if kinds.get("postback") is not None:
        postback = kinds["postback"]
        return _postback_event(channel, user, postback["data"], postback.get("params"))
    if kinds.get("location") is not None:
        message = webhooks.location_message(message_id=new_line_message_id(), **kinds["location"])
        return _message_event(channel, user, message)
    return _image_event(channel, user, kinds["image"])


def simulator_say(
    *,
    channel: SimulatorChannel,
    user: SimulatorUser,
    text: str | None = None,
    postback: dict[str, Any] | None = None,
    location: dict[str, Any] | None = None,
    image: bytes | None = None,
    follow: bool = False,
    unfollow: bool = False,
    display_text: str = "",
) -> SayResult:
    """The resident does one thing; LINE sends the product a signed webhook event for it.

    Give exactly one of the inputs. ``postback`` is ``{"data", "params"?}``; ``location`` is
    ``{"latitude", "longitude", "address"?, "title"?}``; ``image`` the picture's bytes (kept
    for the content API). A resident the simulator has not seen counts as a friend already;
    ``follow``/``unfollow`` change that and send those events. ``display_text`` is what the
    chat shows for a postback (LINE shows it but does not put it in the event).

    The event is recorded in the transcript (committed) *before* the POST, so that the
    product's replies come after it; the POST happens outside any transaction. Raises
    ``SimulatorInputRefused`` when a resident who blocked the channel talks to it.
    """
    given = [
        text is not None,
        postback is not None,
        location is not None,
        image is not None,
        follow,
        unfollow,
    ]
    if sum(given) != 1:
        raise ValueError("Give exactly one of text, postback, location, image, follow, unfollow.")
    with transaction.atomic():
        event = _build_event(
            channel,
            user,
            text=text,
            postback=postback,
            location=location,
            image=image,
            follow=follow,
            unfollow=unfollow,
        )
        entry = _record_incoming(channel, user, event, display_text)
    return SayResult(entry=entry, event=event, webhook=_deliver_webhook(channel, entry))


def _record_incoming(
    channel: SimulatorChannel, user: SimulatorUser, event: dict[str, Any], display_text: str
) -> SimulatorTranscriptEntry:
    return SimulatorTranscriptEntry.objects.create(
        display_text=display_text[:300],
        channel=channel,
        user=user,
        direction=SimulatorTranscriptEntry.Direction.IN,
        at=timezone.now(),
        message=event,
        webhook_event_id=event["webhookEventId"],
    )


def _deliver_webhook(
    channel: SimulatorChannel, entry: SimulatorTranscriptEntry, *, redelivery: bool = False
) -> webhooks.WebhookResult | None:
    if not (channel.webhook_enabled and channel.webhook_url):
        return None
    event = copy.deepcopy(entry.message)
    event["deliveryContext"] = {"isRedelivery": redelivery}
    body = webhooks.webhook_body(destination=channel.bot_user_id, events=[event])
    result = webhooks.webhook_post(
        url=channel.webhook_url, body=body, channel_secret=channel.channel_secret
    )
    SimulatorTranscriptEntry.objects.filter(pk=entry.pk).update(webhook_status=result.status)
    return result


def simulator_webhook_redeliver(
    *, entry: SimulatorTranscriptEntry
) -> webhooks.WebhookResult | None:
    """Send an incoming event again, as LINE's redelivery does: same ``webhookEventId``,
    ``deliveryContext.isRedelivery`` true. Adds no transcript row. ``None`` when the
    channel's webhook is off."""
    if entry.direction != SimulatorTranscriptEntry.Direction.IN:
        raise ValueError("Only incoming events can be redelivered.")
    return _deliver_webhook(entry.channel, entry, redelivery=True)


def simulator_rich_menu_switch(
    *, channel: SimulatorChannel, user: SimulatorUser, alias_id: str, data: str
) -> SayResult:
    """The resident taps a ``richmenuswitch`` area: LINE links the alias's menu to them and
    sends a postback event whose ``params`` carry ``newRichMenuAliasId`` and ``status``."""
    alias = (
        SimulatorRichMenuAlias.objects.filter(channel=channel, alias_id=alias_id)
        .select_related("rich_menu")
        .first()
    )
    status = "SUCCESS" if alias else "RICHMENU_ALIAS_ID_NOTFOUND"
    if alias is not None:
        SimulatorRichMenuLink.objects.update_or_create(
            channel=channel, user=user, defaults={"rich_menu": alias.rich_menu}
        )
    params = {"newRichMenuAliasId": alias_id, "status": status}
    return simulator_say(channel=channel, user=user, postback={"data": data, "params": params})
