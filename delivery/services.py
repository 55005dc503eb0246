"""Writes of delivery: channels, webhook events, friends, processing and sending.

The path of one resident message: ``delivery.inbox.webhook_events_accept`` stores it
(once) and enqueues ``process_resident_events``; ``resident_events_process`` locks the friend,
runs every pending event through procedures.runtime in LINE's order and writes the
replies as OutboundMessage intent rows in the same transaction; after commit
``outbound_send`` sends them (reply token when fresh, else push with a retry key).
"""

import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from delivery.images import ImageRejected, clean_image
from delivery.line_api import MAX_MESSAGES_PER_REQUEST, AlreadyAccepted, LineApiError, LineClient
from delivery.models import (
    EventStatus,
    Friend,
    LineChannel,
    OutboundMessage,
    OutboundStatus,
    WebhookEvent,
)
from delivery.rendering import render_prompts
from delivery.selectors import pending_events, pending_outbound
from govtech.models import Municipality, User
from govtech.services import audit_log
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.runtime import resident_input
from procedures.services import resident_upload_store

logger = logging.getLogger(__name__)

# Errors that say the database is busy or unreachable (SQLite's "database is locked",
# a lost PostgreSQL connection): worth another try, never the input's fault.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
REPLY_TOKEN_MAX_AGE = timedelta(seconds=50)  # LINE accepts about a minute; keep a margin
UPLOAD_NAMESPACE = uuid.UUID("6f0c6a8e-3d55-4f0e-9a51-6a1d2a7f4b10")


# --- channels ------------------------------------------------------------------------------


def line_channel_create(
    *,
    actor: User | None,
    municipality: Municipality,
    name: str,
    channel_id: str,
    channel_secret: str,
    access_token: str,
    bot_user_id: str = "",
    welcome_message: str = "",
) -> LineChannel:
    """Connect a LINE official account to a municipality (secrets stored encrypted)."""
    with tenant_scope(municipality):
        channel = LineChannel.objects.create(
            municipality=municipality,
            name=name,
            channel_id=channel_id,
            channel_secret=channel_secret,
            access_token=access_token,
            bot_user_id=bot_user_id,
            welcome_message=welcome_message,
        )
    audit_log(actor, "delivery.linechannel.created", channel, {"channel_id": channel_id})
    return channel


def line_channel_bind_simulator(
    *, actor: User | None, municipality: Municipality, channel_id: str, name: str
) -> LineChannel:
    """Connect a municipality to a channel of the local LINE simulator (never in production).

    Idempotent: the simulator channel and the product's channel share the credentials,
    and the simulator posts its webhooks to this installation's webhook URL.
    """
    from django.conf import settings

    from delivery.simulator.services import simulator_channel_create

    if not settings.SIMULATOR_ENABLED:
        raise RuntimeError("The LINE simulator is not enabled in these settings.")
    with tenant_scope(municipality):
        channel = LineChannel.objects.filter(channel_id=channel_id).first()
    if channel is None:
        simulated = simulator_channel_create(
            channel_id=channel_id, name=name, municipality=municipality.slug
        )
        channel = line_channel_create(
            actor=actor,
            municipality=municipality,
            name=name,
            channel_id=channel_id,
            channel_secret=simulated.channel_secret,
            access_token=simulated.channel_access_token,
            bot_user_id=simulated.bot_user_id,
        )
    simulator_channel_create(
        channel_id=channel_id,
        name=name,
        municipality=municipality.slug,
        webhook_url=channel.webhook_url,
        channel_secret=channel.channel_secret,
        channel_access_token=channel.access_token,
        bot_user_id=channel.bot_user_id,
    )
    return channel


def line_channel_verify(*, actor: User | None, channel: LineChannel) -> dict:
    """Ask LINE who this channel's bot is; records the bot user id. Raises LineApiError."""
    with LineClient(channel.access_token) as client:
        info = client.bot_info()
    if info["user_id"] and info["user_id"] != channel.bot_user_id:
        channel.bot_user_id = info["user_id"]
        channel.save(update_fields=["bot_user_id"])
    audit_log(actor, "delivery.linechannel.verified", channel, {"bot": info["display_name"]})
    return info


def line_channel_test_send(*, actor: User | None, channel: LineChannel) -> int:
    """Push a short test message to the channel's test residents (never to real ones)."""
    with tenant_scope(channel.municipality):
        testers = list(Friend.objects.filter(channel=channel, is_test=True, is_following=True))
    for friend in testers:
        with override(friend.conversation_language):
            text = _("This is a test message from %(name)s.") % {"name": channel.name}
        prompts_push(friend=friend, prompts=[engine.TextPrompt(text)])
    audit_log(actor, "delivery.linechannel.test_sent", channel, {"recipients": len(testers)})
    return len(testers)


# --- accepting webhook events -------------------------------------------------------------


# --- friends ---------------------------------------------------------------------------------


def friend_ensure(*, channel: LineChannel, line_user_id: str, client: LineClient) -> Friend:
    """The Friend row of a resident, created (with their LINE profile) on first contact."""
    friend = Friend.objects.filter(channel=channel, line_user_id=line_user_id).first()
    if friend is not None:
        return friend
    try:
        profile = client.profile(line_user_id)
    except LineApiError as exc:  # the profile is a nicety; the conversation must go on
        logger.warning("profile of %s unavailable: %s", line_user_id, exc)
        profile = {}
    try:
        with transaction.atomic():
            return Friend.objects.create(
                municipality=channel.municipality,
                channel=channel,
                line_user_id=line_user_id,
                followed_at=timezone.now(),
                **profile,
            )
    except IntegrityError:  # a parallel task created it first
        return Friend.objects.get(channel=channel, line_user_id=line_user_id)


def friend_test_ensure(*, channel: LineChannel, line_user_id: str, display_name: str) -> Friend:
    """A staff member's test resident on ``channel`` (``is_test``), following; idempotent.

    Used by the builder's Try it: the designer's simulator account must be a friend of
    the municipality's account before the draft's first question is pushed to it.
    """
    with tenant_scope(channel.municipality):
        try:
            with transaction.atomic():
                friend, _created = Friend.objects.get_or_create(
                    channel=channel,
                    line_user_id=line_user_id,
                    defaults={
                        "municipality": channel.municipality,
                        "display_name": display_name,
                        "followed_at": timezone.now(),
                        "is_test": True,
                    },
                )
        except IntegrityError:  # created by a parallel request
            friend = Friend.objects.get(channel=channel, line_user_id=line_user_id)
        if not friend.is_following:
            friend.is_following, friend.unfollowed_at = True, None
            friend.save(update_fields=["is_following", "unfollowed_at"])
    return friend


def _friend_follow(friend: Friend, now: datetime) -> list[engine.Prompt]:
    friend.is_following = True
    friend.followed_at = now
    friend.unfollowed_at = None
    friend.save(update_fields=["is_following", "followed_at", "unfollowed_at"])
    with override(friend.conversation_language):
        welcome = friend.channel.welcome_message or _(
            "Thank you for adding us as a friend. You can apply, book and report here, any time."
        )
    menu = resident_input(
        municipality=friend.municipality,
        resident=friend.resident_key,
        inp=engine.FollowInput(),
        lang=friend.conversation_language,
        now=now,
    )
    return [engine.TextPrompt(welcome), *menu.prompts]


def _friend_unfollow(friend: Friend, now: datetime) -> list[engine.Prompt]:
    friend.is_following = False
    friend.unfollowed_at = now
    friend.save(update_fields=["is_following", "unfollowed_at"])
    return []


# --- turning events into engine inputs ----------------------------------------------------


def upload_id_for(event: WebhookEvent) -> uuid.UUID:
    """Stable per LINE message, so a re-run stores the same photo once."""
    message_id = str(_dict(event.payload.get("message")).get("id", event.webhook_event_id))
    return uuid.uuid5(UPLOAD_NAMESPACE, f"{event.channel_id}:{message_id}")


def _fetch_photo(event: WebhookEvent, friend: Friend, client: LineClient) -> None:
    """Download, check and store a photo before the locked transaction (network I/O)."""
    message = _dict(event.payload.get("message"))
    try:
        clean = clean_image(client.content(str(message.get("id"))))
    except (ImageRejected, LineApiError) as exc:
        logger.info("photo %s refused: %s", message.get("id"), exc)
        return
    resident_upload_store(
        upload_id=upload_id_for(event),
        municipality=friend.municipality,
        resident=friend.resident_key,
        content=clean.content,
        content_type=clean.content_type,
        width=clean.width,
        height=clean.height,
        extension=clean.extension,
    )


def _message_input(event: WebhookEvent) -> engine.Input:
    message = _dict(event.payload.get("message"))
    kind = message.get("type")
    if kind == "text":
        return engine.TextInput(str(message.get("text", "")))
    if kind == "location":
        # Unchecked payload values: LocationStep re-asks unless both are numbers in range.
        # Coercing here would change what reaches the engine, so the mismatch is ignored.
        return engine.LocationInput(
            latitude=message.get("latitude"),  # type: ignore[arg-type]
            longitude=message.get("longitude"),  # type: ignore[arg-type]
            address=str(message.get("address") or ""),
            title=str(message.get("title") or ""),
        )
    if kind == "image":
        return engine.ImageInput(ref=str(upload_id_for(event)))
    return engine.TextInput("")  # stickers, video, audio, files: re-asked with a reason


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _event_input(event: WebhookEvent) -> engine.Input:
    if event.event_type == "postback":
        postback = _dict(event.payload.get("postback"))
        params = _dict(postback.get("params"))
        return engine.PostbackInput(
            str(postback.get("data", "")), {k: str(v) for k, v in params.items()}
        )
    return _message_input(event)


def _event_prompts(event: WebhookEvent, friend: Friend, now: datetime) -> list[engine.Prompt]:
    if event.event_type == "follow":
        return _friend_follow(friend, now)
    if event.event_type == "unfollow":
        return _friend_unfollow(friend, now)
    reply = resident_input(
        municipality=friend.municipality,
        resident=friend.resident_key,
        inp=_event_input(event),
        lang=friend.conversation_language,
        now=now,
        is_test=friend.is_test,  # a staff member's test account never makes real submissions
    )
    if reply.submission and reply.submission.definition.get("kind") == "profile":
        from delivery.broadcasts.services import friend_attributes_set

        submission = reply.submission
        friend_attributes_set(
            friend=friend, answers=submission.answers, definition=submission.definition
        )
    return reply.prompts


def prompts_push(
    *, friend: Friend, prompts: list[engine.Prompt], retry_key: uuid.UUID | None = None
) -> OutboundMessage | None:
    """Send prompts to a resident outside a webhook reply (push, counts against the quota).

    Writes the intent row, then sends it with its retry key; nothing is sent to a resident
    who blocked the account. A caller that may run twice (a reminder task) passes a
    ``retry_key`` derived from its own row: a second call reuses the intent row and LINE
    answers 409 to a repeated push, so the resident gets the message once. Returns the
    row (None when there was nothing to send).
    """
    if not prompts or not friend.is_following:
        return None
    with tenant_scope(friend.municipality):
        fields = {
            "municipality": friend.municipality,
            "channel": friend.channel,
            "friend": friend,
            "messages": render_prompts(prompts, lang=friend.conversation_language),
        }
        if retry_key is None:
            message = OutboundMessage.objects.create(**fields)
        else:
            message, _ = OutboundMessage.objects.get_or_create(retry_key=retry_key, defaults=fields)
        with LineClient(friend.channel.access_token) as client:
            outbound_send(friend=friend, client=client)
    message.refresh_from_db()
    return message


# --- processing ---------------------------------------------------------------------------------


def _outbound_for(event: WebhookEvent, friend: Friend, prompts: list[engine.Prompt]) -> None:
    if not prompts or not friend.is_following:
        return
    OutboundMessage.objects.create(
        municipality=friend.municipality,
        channel=friend.channel,
        friend=friend,
        event=event,
        reply_token=str(event.payload.get("replyToken") or ""),
        reply_token_issued_at=datetime.fromtimestamp(event.timestamp / 1000, tz=UTC)
        if event.timestamp
        else None,
        messages=render_prompts(prompts, lang=friend.conversation_language),
    )


def _event_apply(event: WebhookEvent, friend: Friend) -> None:
    """Apply one event in a savepoint: a bug triggered by one event marks it failed
    instead of blocking the resident's later events forever. A database that is busy or
    gone is not the event's fault: that error rolls the whole run back, the events stay
    pending and the task runs again (a resident is never left without an answer)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            _outbound_for(event, friend, _event_prompts(event, friend, now))
            event.status = EventStatus.DONE
    except DATABASE_UNAVAILABLE:
        raise
    except Exception as exc:
        logger.exception("event %s failed", event.webhook_event_id)
        event.status, event.error = EventStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    event.processed_at = now
    event.save(update_fields=["status", "processed_at", "error"])


def _prepare(channel: LineChannel, line_user_id: str, client: LineClient) -> Friend:
    """Network work before the lock: the friend's profile and any photos to download."""
    friend = friend_ensure(channel=channel, line_user_id=line_user_id, client=client)
    for event in pending_events(friend=friend):
        if _dict(event.payload.get("message")).get("type") == "image":
            _fetch_photo(event, friend, client)
    return friend


def resident_events_process(*, channel: LineChannel, line_user_id: str) -> int:
    """Apply every pending event of one resident, in order, once; then send the replies.

    The friend row is locked for the transaction, so two tasks for the same resident run
    one after the other and the second finds nothing pending (a no-op). Events are
    marked done in the same transaction as their effects. Returns how many were applied.
    """
    with tenant_scope(channel.municipality), LineClient(channel.access_token) as client:
        friend = _prepare(channel, line_user_id, client)
        with transaction.atomic():
            friend = (
                Friend.objects.select_for_update(of=("self",))
                .select_related("channel")
                .get(pk=friend.pk)
            )
            events = pending_events(friend=friend)
            for event in events:
                _event_apply(event, friend)
        outbound_send(friend=friend, client=client)
    return len(events)


# --- sending ------------------------------------------------------------------------------


def _claim(message: OutboundMessage) -> bool:
    """Take a pending row for this worker; False when another worker took it first."""
    return bool(
        OutboundMessage.objects.filter(
            pk=message.pk, status=OutboundStatus.PENDING, attempts=message.attempts
        ).update(attempts=message.attempts + 1)
    )


def _reply_token_usable(message: OutboundMessage) -> bool:
    issued = message.reply_token_issued_at
    return (
        bool(message.reply_token)
        and issued is not None
        and (timezone.now() - issued < REPLY_TOKEN_MAX_AGE)
    )


def _deliver(message: OutboundMessage, client: LineClient) -> str:
    """Send in batches of 5: the first by reply when the token is fresh, the rest by push."""
    batches = [
        message.messages[i : i + MAX_MESSAGES_PER_REQUEST]
        for i in range(0, len(message.messages), MAX_MESSAGES_PER_REQUEST)
    ]
    method = "push"
    for index, batch in enumerate(batches):
        if index == 0 and _reply_token_usable(message) and message.attempts <= 1:
            try:
                client.reply(message.reply_token, batch)
                method = "reply"
                continue
            except LineApiError as exc:  # expired or used token: push instead
                logger.info("reply refused (%s); pushing instead", exc)
        retry_key = str(uuid.uuid5(message.retry_key, str(index)))
        with contextlib.suppress(AlreadyAccepted):  # 409: sent by an earlier attempt
            client.push(message.friend.line_user_id, batch, retry_key=retry_key)
    return method


def outbound_send(*, friend: Friend, client: LineClient) -> None:
    """Send a resident's pending messages in order. Safe to run twice (claim + retry keys)."""
    for message in pending_outbound(friend=friend):
        if not _claim(message):
            continue
        message.attempts += 1
        message.friend = friend
        try:
            message.method = _deliver(message, client)
            message.status, message.sent_at = OutboundStatus.SENT, timezone.now()
        except LineApiError as exc:
            message.error = str(exc)[:2000]
            if not exc.retryable:
                message.status = OutboundStatus.FAILED
        message.save(update_fields=["status", "sent_at", "method", "error"])
        if message.status != OutboundStatus.SENT:
            break  # keep the order: later messages wait for this one
