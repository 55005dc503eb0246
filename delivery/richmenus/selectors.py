"""Reads of rich menus: what is live, what each friend should see, progress."""

from __future__ import annotations

from django.db.models import Count, F, Q

from delivery.models import LineChannel
from delivery.richmenus.models import (
    FriendRichMenu,
    LinkChunkStatus,
    MenuPurpose,
    PublicationStatus,
    RichMenuChannelState,
    RichMenuLinkChunk,
    RichMenuPublication,
    RichMenuSet,
)


def live_publication(*, menu_set_id: int) -> RichMenuPublication | None:
    return (
        RichMenuPublication.objects.filter(menu_set_id=menu_set_id, status=PublicationStatus.LIVE)
        .order_by("-id")
        .first()
    )


def live_first_ids(*, channel: LineChannel) -> dict[int, str]:
    """{menu set id: the rich menu ID of its first tab} for the channel's live sets."""
    live = RichMenuPublication.objects.filter(
        menu_set__channel=channel, status=PublicationStatus.LIVE
    ).order_by("id")
    return {p.menu_set_id: p.first_line_id for p in live}


def default_set(*, channel: LineChannel, purpose: str) -> RichMenuSet | None:
    """The channel's default set for ``purpose``; for disaster mode, any disaster set
    when none is marked default (the one with the highest priority)."""
    sets = RichMenuSet.objects.filter(channel=channel, purpose=purpose, segment__isnull=True)
    chosen = sets.filter(is_default=True).first()
    if chosen is None and purpose == MenuPurpose.DISASTER:
        chosen = sets.first()
    return chosen


def channel_state(*, channel: LineChannel) -> RichMenuChannelState:
    state, _ = RichMenuChannelState.objects.get_or_create(
        channel=channel, defaults={"municipality_id": channel.municipality_id}
    )
    return state


def segment_sets(*, channel: LineChannel) -> list[RichMenuSet]:
    """Everyday sets per segment, the highest priority first."""
    return list(
        RichMenuSet.objects.filter(
            channel=channel, purpose=MenuPurpose.NORMAL, segment__isnull=False
        )
        .select_related("segment")
        .order_by("-priority", "id")
    )


def link_progress(*, channel: LineChannel) -> dict[str, int]:
    """Link requests by status, and friends whose menu is not yet what it should be."""
    counts = dict(
        RichMenuLinkChunk.objects.filter(channel=channel)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    behind = (
        FriendRichMenu.objects.filter(friend__channel=channel)
        .exclude(planned_line_id=F("linked_line_id"))
        .count()
    )
    return {**{s: counts.get(s, 0) for s in LinkChunkStatus.values}, "behind": behind}


def sets_for_console(*, channel: LineChannel | None = None) -> list[RichMenuSet]:
    sets = RichMenuSet.objects.select_related("segment").annotate(
        tab_count=Count("tabs", distinct=True),
        live=Count("publications", filter=Q(publications__status=PublicationStatus.LIVE)),
    )
    return list(sets.filter(channel=channel) if channel else sets)
