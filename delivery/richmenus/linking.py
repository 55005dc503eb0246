"""Which menu each friend should have, and bringing LINE in step with bulk link requests.

- ``friend_menus_assign``: each following friend gets the everyday set of the highest
  priority segment they are in (``FriendRichMenu.menu_set``; none: the default menu).
  This row is the record a disaster mode's end restores from.
- ``links_plan``: for every friend whose wanted per-user menu (their set's live menu; the
  disaster menu instead while disaster mode is on; "" for none) differs from the one a
  link request was last written for, writes link requests of ≤ 500 users
  (``RichMenuLinkChunk``, the intent rows) under the channel's state row lock, so two
  planners never write the same request twice.
- ``link_chunks_send``: claims pending requests one by one with a conditional UPDATE,
  sends each as one bulk link (or unlink) call, and records what LINE accepted.
- ``channel_menus_sync``: the default menu, then the plan, then the sending, then the
  deletion of replaced menus nobody sees any more. Idempotent; resumable at any point.

LINE's rate limits (Messaging API reference, "Rate limits"): the bulk link and unlink
endpoints and the default menu fall under "other endpoints", 2,000 requests per second
per channel; only the batch-replace endpoint (not used) is limited to 3 per hour.
Senders pace themselves below that (``BULK_LINK_PER_SECOND``).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from delivery.broadcasts.segments import rules_q
from delivery.line_api import LineApiError, shared_client
from delivery.models import Friend, LineChannel
from delivery.richmenus import line, selectors
from delivery.richmenus.line import BULK_MAX_USERS
from delivery.richmenus.models import (
    FriendRichMenu,
    LinkChunkStatus,
    MenuPurpose,
    PublicationStatus,
    RichMenuChannelState,
    RichMenuLinkChunk,
    RichMenuPublication,
)

logger = logging.getLogger(__name__)

BULK_LINK_PER_SECOND = 2000  # LINE's documented limit for "other endpoints", per channel
SENDERS = 4  # sender tasks per channel; each paces itself to its share of the limit
MAX_ATTEMPTS = 6
CLAIM_LEASE = timedelta(minutes=2)  # a request "sending" longer than this lost its worker


# --- who should have which menu -------------------------------------------------------------


def friend_menus_assign(*, channel: LineChannel, friend_ids: list[int] | None = None) -> int:
    """Record each following friend's everyday set (the first segment set, by priority,
    whose segment they are in); limited to ``friend_ids`` when given. Returns how many
    rows changed. Rows only: nothing is sent (``links_plan`` does)."""
    friends = Friend.objects.filter(channel=channel, is_following=True)
    if friend_ids is not None:
        friends = friends.filter(pk__in=friend_ids)
    wanted: dict[int, int | None] = dict.fromkeys(friends.values_list("pk", flat=True))
    for menu_set in selectors.segment_sets(channel=channel):
        rules = menu_set.segment.rules if menu_set.segment else {}
        members = friends.filter(rules_q(rules)).values_list("pk", flat=True)
        for friend_id in members:
            if wanted[friend_id] is None:  # a higher-priority set did not take them
                wanted[friend_id] = menu_set.pk
    return _record(channel, wanted, friend_ids)


def _record(channel: LineChannel, wanted: dict[int, int | None], only: list[int] | None) -> int:
    rows = FriendRichMenu.objects.filter(friend__channel=channel)
    if only is not None:
        rows = rows.filter(friend_id__in=only)
    have = dict(rows.values_list("friend_id", "menu_set_id"))
    # A friend who stopped following keeps nothing of their own.
    gone = [f for f, s in have.items() if f not in wanted and s is not None]
    changed: dict[int | None, list[int]] = defaultdict(list)
    for friend_id, set_id in wanted.items():
        if friend_id in have and have[friend_id] != set_id:
            changed[set_id].append(friend_id)
    new = [
        FriendRichMenu(municipality_id=channel.municipality_id, friend_id=f, menu_set_id=s)
        for f, s in wanted.items()
        if f not in have and s is not None
    ]
    with transaction.atomic():
        FriendRichMenu.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
        for set_id, ids in [*changed.items(), (None, gone)]:
            for start in range(0, len(ids), 2000):
                FriendRichMenu.objects.filter(friend_id__in=ids[start : start + 2000]).update(
                    menu_set_id=set_id
                )
    return len(new) + sum(len(ids) for ids in changed.values()) + len(gone)


# --- what LINE should show ----------------------------------------------------------------


def _disaster_menu(channel: LineChannel, state: RichMenuChannelState) -> str:
    """The disaster set's live first menu while disaster mode is on, else ""."""
    if not state.disaster_active:
        return ""
    disaster = selectors.default_set(channel=channel, purpose=MenuPurpose.DISASTER)
    publication = selectors.live_publication(menu_set_id=disaster.pk) if disaster else None
    if publication is None:
        logger.warning(
            "disaster mode on for channel %s without a published disaster menu", channel.pk
        )
        return ""
    return publication.first_line_id


def wanted_default(*, channel: LineChannel, state: RichMenuChannelState) -> str:
    """The rich menu every friend without a menu of their own should see."""
    disaster = _disaster_menu(channel, state)
    if disaster:
        return disaster
    normal = selectors.default_set(channel=channel, purpose=MenuPurpose.NORMAL)
    publication = selectors.live_publication(menu_set_id=normal.pk) if normal else None
    return publication.first_line_id if publication else ""


def links_plan(*, channel: LineChannel) -> int:
    """Write link requests (≤ 500 friends each) for every friend whose wanted per-user
    menu differs from the one last planned. Under the channel state's row lock; a second
    run writes nothing. Returns the requests written."""
    with transaction.atomic():
        state = RichMenuChannelState.objects.select_for_update().get(
            pk=selectors.channel_state(channel=channel).pk
        )
        disaster = _disaster_menu(channel, state)
        live = selectors.live_first_ids(channel=channel)
        groups: dict[str, list[int]] = defaultdict(list)
        rows = FriendRichMenu.objects.filter(friend__channel=channel).values_list(
            "friend_id", "menu_set_id", "planned_line_id"
        )
        for friend_id, set_id, planned in rows.iterator(chunk_size=5000):
            own = live.get(set_id, "") if set_id is not None else ""
            wanted = disaster if (disaster and own) else own
            if wanted != planned:
                groups[wanted].append(friend_id)
        return _chunks_write(channel, groups)


def _chunks_write(channel: LineChannel, groups: dict[str, list[int]]) -> int:
    chunks = []
    for line_id, friend_ids in groups.items():
        for start in range(0, len(friend_ids), BULK_MAX_USERS):
            part = friend_ids[start : start + BULK_MAX_USERS]
            chunks.append(
                RichMenuLinkChunk(
                    municipality_id=channel.municipality_id,
                    channel=channel,
                    line_id=line_id,
                    friend_ids=part,
                )
            )
            FriendRichMenu.objects.filter(friend_id__in=part).update(planned_line_id=line_id)
    RichMenuLinkChunk.objects.bulk_create(chunks)
    return len(chunks)


# --- sending --------------------------------------------------------------------------------


def _claim(channel: LineChannel) -> RichMenuLinkChunk | None:
    """Take one pending request: the first conditional UPDATE that changes a row wins."""
    now = timezone.now()
    RichMenuLinkChunk.objects.filter(
        channel=channel, status=LinkChunkStatus.SENDING, claimed_at__lt=now - CLAIM_LEASE
    ).update(status=LinkChunkStatus.PENDING)  # a dead worker's requests go back
    pending = RichMenuLinkChunk.objects.filter(channel=channel, status=LinkChunkStatus.PENDING)
    for chunk_id in pending.order_by("id").values_list("pk", flat=True)[: SENDERS * 2]:
        taken = RichMenuLinkChunk.objects.filter(
            pk=chunk_id, status=LinkChunkStatus.PENDING
        ).update(status=LinkChunkStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
        if taken:
            return RichMenuLinkChunk.objects.get(pk=chunk_id)
    return None


def link_chunks_send(
    *, channel: LineChannel, max_seconds: float = 20.0
) -> tuple[int, float | None]:
    """Send pending link requests for up to ``max_seconds``, paced to this sender's share
    of LINE's limit. Returns (requests sent, seconds after which a successor should retry
    a transient failure, or None). A request LINE refused for good is marked failed."""
    client = shared_client(channel.access_token)
    interval = SENDERS / BULK_LINK_PER_SECOND
    deadline = time.monotonic() + max_seconds
    sent = 0
    while time.monotonic() < deadline:
        chunk = _claim(channel)
        if chunk is None:
            return sent, None
        started = time.monotonic()
        backoff = _send(client, chunk)
        if backoff is not None:
            return sent, backoff
        sent += 1
        time.sleep(max(0.0, interval - (time.monotonic() - started)))
    return sent, 0.0


def _send(client, chunk: RichMenuLinkChunk) -> float | None:
    user_ids = list(
        Friend.objects.filter(pk__in=chunk.friend_ids).values_list("line_user_id", flat=True)
    )
    try:
        if user_ids:
            line.bulk_link(client, chunk.line_id, user_ids)
    except LineApiError as error:
        return _failed(chunk, error)
    with transaction.atomic():
        RichMenuLinkChunk.objects.filter(pk=chunk.pk).update(
            status=LinkChunkStatus.DONE, done_at=timezone.now(), error=""
        )
        FriendRichMenu.objects.filter(
            friend_id__in=chunk.friend_ids, planned_line_id=chunk.line_id
        ).update(linked_line_id=chunk.line_id)
    return None


def _failed(chunk: RichMenuLinkChunk, error: LineApiError) -> float | None:
    final = not error.retryable or chunk.attempts >= MAX_ATTEMPTS
    status = LinkChunkStatus.FAILED if final else LinkChunkStatus.PENDING
    RichMenuLinkChunk.objects.filter(pk=chunk.pk).update(status=status, error=str(error)[:1000])
    logger.warning("rich menu link request %s: %s", chunk.pk, error)
    return None if final else min(60.0, 2.0**chunk.attempts)


# --- the whole channel ----------------------------------------------------------------------


def default_apply(*, channel: LineChannel) -> bool:
    """Set the channel's default menu at LINE when it is not the wanted one yet (network,
    outside any transaction). Returns whether LINE was called. Raises LineApiError."""
    state = selectors.channel_state(channel=channel)
    wanted = wanted_default(channel=channel, state=state)
    if wanted == state.default_line_id:
        return False
    line.default_set(shared_client(channel.access_token), wanted)
    RichMenuChannelState.objects.filter(pk=state.pk).update(default_line_id=wanted)
    return True


def retired_menus_delete(*, channel: LineChannel) -> int:
    """Delete at LINE the menus of replaced publications once nobody can see them: not the
    default, no friend linked or about to be linked to them. Returns menus deleted."""
    state = selectors.channel_state(channel=channel)
    retired = RichMenuPublication.objects.filter(
        menu_set__channel=channel, status=PublicationStatus.RETIRED, deleted_at__isnull=True
    )
    client = shared_client(channel.access_token)
    deleted = 0
    for publication in retired:
        ids = [i for i in publication.line_ids.values() if i]
        if state.default_line_id in ids or _still_linked(ids):
            continue
        for rich_menu_id in ids:
            try:
                line.rich_menu_delete(client, rich_menu_id)
            except LineApiError as error:
                if error.status != 404:  # already gone is what we wanted
                    raise
            deleted += 1
        RichMenuPublication.objects.filter(pk=publication.pk).update(deleted_at=timezone.now())
    return deleted


def _still_linked(ids: list[str]) -> bool:
    rows = FriendRichMenu.objects.filter(planned_line_id__in=ids) | FriendRichMenu.objects.filter(
        linked_line_id__in=ids
    )
    return rows.exists()


def pending_links(*, channel: LineChannel) -> bool:
    return RichMenuLinkChunk.objects.filter(
        channel=channel, status__in=[LinkChunkStatus.PENDING, LinkChunkStatus.SENDING]
    ).exists()


def disaster_mode_record(*, channel: LineChannel, active: bool) -> bool:
    """Remember disaster mode for the channel's menus. Returns whether it changed."""
    state = selectors.channel_state(channel=channel)
    changed = (
        RichMenuChannelState.objects.filter(pk=state.pk)
        .exclude(disaster_active=active)
        .update(disaster_active=active, changed_at=timezone.now())
    )
    return bool(changed)
