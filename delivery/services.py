"""Writes of delivery: channels, following, and processing a resident's webhook events.

The path of one resident message: ``delivery.inbox.webhook_events_accept`` stores it
(once) and enqueues ``process_resident_events``; ``resident_events_process`` locks the friend,
runs every pending event through procedures.runtime in LINE's order and writes the
replies as OutboundMessage intent rows in the same transaction; after commit
``delivery.outbound.outbound_send`` sends them (reply token when fresh, else push with a
retry key). Friends (a resident's LINE identities) are ``delivery.friends``.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import takewhile
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery.broadcasts.testers import tester_code_claim
from delivery.friends import friend_first_contact
from delivery.images import ImageRejected, clean_image
from delivery.inbox import LINE_USER_ID
from delivery.line_api import LOADING_SECONDS, LineApiError, LineClient, shared_client
from delivery.models import (
    EventStatus,
    Friend,
    LineChannel,
    OutboundMessage,
    WebhookEvent,
)
from delivery.outbound import outbound_send
from delivery.rendering import render_prompts
from delivery.selectors import channel_by_pk, pending_events, pending_outbound
from delivery.simulator_adapter import simulator_channel_serve
from govtech.models import Municipality, User
from govtech.services import audit_log
from govtech.tenancy import scopes_disabled, tenant_scope
from procedures import engine
from procedures.languages import resident_override
from procedures.residents.services import resident_notify
from procedures.runtime import resident_input
from procedures.services import resident_upload_store

logger = logging.getLogger(__name__)

# Errors that say the database is busy or unreachable (SQLite's "database is locked",
# a lost PostgreSQL connection): worth another try, never the input's fault.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
# Events of one resident applied per task run. A resident (or one body) with a thousand
# events is taken in turns like everyone else: the task runs again at the back of the
# queue, so other residents' first replies are not held behind the burst (issue 23).
EVENTS_PER_RUN = 20
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
    and the simulator posts its webhooks to this installation's webhook URL. Raises
    SimulatorUnavailable where the simulator is not installed.
    """
    with tenant_scope(municipality):
        channel = LineChannel.objects.filter(channel_id=channel_id).first()
    if channel is None:
        simulated = simulator_channel_serve(
            channel_id=channel_id, name=name, municipality=municipality.slug
        )
        channel = line_channel_create(
            actor=actor,
            municipality=municipality,
            name=name,
            channel_id=channel_id,
            channel_secret=simulated.channel_secret,
            access_token=simulated.access_token,
            bot_user_id=simulated.bot_user_id,
        )
    simulator_channel_serve(
        channel_id=channel_id,
        name=name,
        municipality=municipality.slug,
        webhook_url=channel.webhook_url,
        channel_secret=channel.channel_secret,
        access_token=channel.access_token,
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
    """Tell the channel's test residents (never real ones) a short test message, through
    the residents' outbox (one Notice each, sent after commit by push)."""
    with tenant_scope(channel.municipality):
        testers = list(
            Friend.objects.filter(channel=channel, is_test=True, is_following=True).select_related(
                "resident__municipality"
            )
        )
    for friend in testers:
        with resident_override(friend.resident.language):
            # Translators: residents read this.
            text = _("This is a test message from %(name)s.") % {"name": channel.name}
        resident_notify(
            resident=friend.resident,
            prompts=[engine.TextPrompt(text)],
            once_key=f"channel-test:{uuid.uuid4()}",
        )
    audit_log(actor, "delivery.linechannel.test_sent", channel, {"recipients": len(testers)})
    return len(testers)


# --- following and unfollowing ---------------------------------------------------------


def _friend_follow(friend: Friend, now: datetime) -> list[engine.Prompt]:
    friend.is_following = True
    friend.followed_at = now
    friend.unfollowed_at = None
    friend.save(update_fields=["is_following", "followed_at", "unfollowed_at"])
    with resident_override(friend.conversation_language):
        welcome = friend.channel.welcome_message or _(
            # Translators: residents read this.
            "Thank you for adding us as a friend. You can apply, book and report here, any time."
        )
    menu = resident_input(
        municipality=friend.municipality,
        resident=friend.resident,
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
        resident=friend.resident,
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


def _is_tab_switch(event: WebhookEvent) -> bool:
    """A rich menu tab tapped (a ``richmenuswitch`` action): LINE sends a postback whose
    params name the new alias."""
    postback = _dict(event.payload.get("postback"))
    return event.event_type == "postback" and "newRichMenuAliasId" in _dict(postback.get("params"))


def _event_prompts(event: WebhookEvent, friend: Friend, now: datetime) -> list[engine.Prompt]:
    if event.event_type == "follow":
        return _friend_follow(friend, now)
    if event.event_type == "unfollow":
        return _friend_unfollow(friend, now)
    inp = _event_input(event)
    if isinstance(inp, engine.TextInput):
        claimed = tester_code_claim(friend=friend, text=inp.text)
        if claimed is not None:  # a staff member registering this account as their tester
            return claimed
    if _is_tab_switch(event):
        return []  # LINE already showed the tab; nothing to answer
    reply = resident_input(
        municipality=friend.municipality,
        resident=friend.resident,
        inp=inp,
        lang=friend.conversation_language,
        now=now,
        is_test=friend.is_test,  # a staff member's test account never makes real submissions
        channel="line",
    )
    return reply.prompts


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


def _event_apply(event: WebhookEvent, friend: Friend, *, isolated: bool) -> None:
    """Apply one event and mark it done, in the caller's transaction.

    ``isolated``: in a savepoint of its own, so that a bug triggered by this event marks
    it failed instead of blocking the resident's later events forever. Otherwise an
    error propagates and rolls the run back (``_apply_pending`` then applies the events
    again, each isolated). A database that is busy or gone is never the event's fault:
    that error rolls the whole run back either way, the events stay pending and the task
    runs again (a resident is never left without an answer).
    """
    now = timezone.now()
    if not isolated:
        _outbound_for(event, friend, _event_prompts(event, friend, now))
        event.status = EventStatus.DONE
    else:
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


def _is_photo(event: WebhookEvent) -> bool:
    return event.event_type == "message" and (
        _dict(event.payload.get("message")).get("type") == "image"
    )


def _locked_friend(channel_pk: int, line_user_id: str) -> Friend | None:
    """The friend's row, locked until the transaction ends, with its resident, channel
    and municipality: everything a turn reads of them, in one statement.

    Unscoped on purpose, like ``channel_by_pk``: the task knows ids only, and the row
    names its tenant (the caller enters its scope). A friend belongs to its channel's
    municipality (both are created so), which is attached rather than read again.
    """
    with scopes_disabled():
        friend = (
            Friend.objects.select_for_update(of=("self",))
            .select_related("resident", "channel__municipality")
            .filter(channel_id=channel_pk, line_user_id=line_user_id)
            .first()
        )
    if friend is not None:
        friend.municipality = friend.channel.municipality
    return friend


@dataclass
class _Applied:
    """What one locked transaction did for a resident."""

    friend: Friend | None  # None: not a friend yet (nothing was read further)
    count: int = 0  # events applied (done or failed)
    photos: list[WebhookEvent] = field(default_factory=list)  # to fetch before going on
    outbound: list[OutboundMessage] = field(default_factory=list)  # pending, in order


def _apply_locked(
    channel_pk: int, line_user_id: str, *, limit: int, fetched: set[int], isolated: bool
) -> _Applied:
    """One transaction: lock the friend, apply its pending events in LINE's order, at
    most ``limit``, stopping before the first photo this run has not fetched yet (a
    download never happens inside a transaction); read the replies to send."""
    with transaction.atomic():
        friend = _locked_friend(channel_pk, line_user_id)
        if friend is None:
            return _Applied(friend=None)
        with tenant_scope(friend.municipality):
            return _apply_events(friend, limit=limit, fetched=fetched, isolated=isolated)


def _apply_events(friend: Friend, *, limit: int, fetched: set[int], isolated: bool) -> _Applied:
    events = pending_events(friend=friend, limit=limit)
    ready = list(takewhile(lambda e: not _is_photo(e) or e.pk in fetched, events))
    for event in ready:
        _event_apply(event, friend, isolated=isolated)
    return _Applied(
        friend=friend,
        count=len(ready),
        photos=[e for e in events[len(ready) :] if _is_photo(e) and e.pk not in fetched],
        outbound=pending_outbound(friend=friend) if ready else [],
    )


def _apply_pending(
    channel_pk: int, line_user_id: str, *, limit: int, fetched: set[int]
) -> _Applied:
    """Apply without a savepoint per event (two statements each: measured in
    docs/decisions/0016); when an event raises, the run is rolled back whole and applied
    again with each event in its own savepoint, so the failing one is marked failed and
    the others keep their effects, once."""
    try:
        return _apply_locked(channel_pk, line_user_id, limit=limit, fetched=fetched, isolated=False)
    except DATABASE_UNAVAILABLE:
        raise
    except Exception:
        logger.info("an event of %s raised; applying its events one by one", line_user_id)
    return _apply_locked(channel_pk, line_user_id, limit=limit, fetched=fetched, isolated=True)


def resident_loading_show(*, channel: LineChannel, line_user_id: str) -> None:
    """LINE's loading animation in a resident's chat: their next reply will take a while
    (their events go back to the queue; see ``_loading_show``)."""
    _loading_show(shared_client(channel.access_token), line_user_id)


def _loading_show(client: LineClient, line_user_id: str) -> None:
    """LINE's loading animation in the resident's chat: the reply will take a while.

    Only one-to-one chats have one (a user ID as chatId). LINE hides it when the next
    message arrives, so it is shown after the replies already due were sent. A nicety:
    one attempt, a short timeout, and a refusal is only logged; it never holds a reply.
    """
    if not LINE_USER_ID.fullmatch(line_user_id):
        return
    try:
        client.loading_start(line_user_id, seconds=LOADING_SECONDS)
    except LineApiError as exc:
        logger.info("loading animation for %s refused: %s", line_user_id, exc)


def _photos_fetch(photos: list[WebhookEvent], friend: Friend, client: LineClient) -> set[int]:
    """Download and store a run's photos, the loading animation meanwhile: a photo's
    download and checks can take seconds. Returns the events whose photo was handled
    (stored or refused: either way the event is applied next)."""
    _loading_show(client, friend.line_user_id)
    for event in photos:
        _fetch_photo(event, friend, client)
    return {event.pk for event in photos}


def _first_contact(channel_pk: int, line_user_id: str) -> bool:
    """Make a resident who is not a friend yet one (their profile is fetched: network,
    so outside the turn's transaction). False when the channel no longer exists."""
    channel = channel_by_pk(pk=channel_pk)
    if channel is None:
        return False
    with tenant_scope(channel.municipality):
        client = shared_client(channel.access_token)
        friend_first_contact(channel=channel, line_user_id=line_user_id, client=client)
    return True


def resident_events_process(*, channel_pk: int, line_user_id: str) -> int:
    """Apply a resident's pending events in order, once, at most EVENTS_PER_RUN of them;
    then send the replies. The caller runs it again while events remain (fairness).

    The friend row is locked for the transaction, so two tasks for the same resident run
    one after the other and the second finds nothing pending (a no-op). Events are
    marked done in the same transaction as their effects. A turn is one transaction that
    reads the friend (with its channel, municipality and resident) and the pending
    events once (docs/decisions/0016-a-turn-profiled.md). Network work happens outside
    it: a new friend's profile first; a photo's download when the events reach it, after
    the replies to the events before it were sent. Returns how many were applied.

    The LINE client is the worker thread's kept-alive one (``shared_client``): a turn
    neither builds a client nor opens a connection to LINE.
    """
    applied, ensured = 0, False
    fetched: set[int] = set()  # events whose photo this run fetched
    while applied < EVENTS_PER_RUN:
        run = _apply_pending(
            channel_pk, line_user_id, limit=EVENTS_PER_RUN - applied, fetched=fetched
        )
        friend = run.friend
        if friend is None:
            if ensured or not _first_contact(channel_pk, line_user_id):
                break
            ensured = True
            continue
        applied += run.count
        client = shared_client(friend.channel.access_token)
        with tenant_scope(friend.municipality):
            outbound_send(friend=friend, client=client, messages=run.outbound)
            if not run.photos:
                break
            fetched |= _photos_fetch(run.photos, friend, client)
    return applied
