"""Putting a publication at LINE: menus, images, aliases; then the default menu and the
per-user links move to the new menus; only then are the replaced menus deleted.

The order is what keeps residents from ever seeing no menu: the new menus exist with
their images before an alias, the default or a link points at them, and an old menu is
deleted only when nothing points at it any more (``linking.retired_menus_delete``).
Every LINE call's result is recorded on the publication row as it happens (``line_ids``,
``images_done``), so a task that died half way resumes without creating a menu twice.
"""

from __future__ import annotations

import base64
import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from delivery.line_api import LineApiError, LineClient, shared_client
from delivery.richmenus import line
from delivery.richmenus.layouts import TAB_ALIAS_PREFIX, tab_alias
from delivery.richmenus.models import PublicationStatus, RichMenuPublication
from delivery.richmenus.selectors import live_publication

logger = logging.getLogger(__name__)

CLAIM_LEASE_SECONDS = 300
MAX_ATTEMPTS = 6


def _claim(publication_id: int) -> RichMenuPublication | None:
    """The pending publication, for this task alone (a conditional UPDATE)."""
    now = timezone.now()
    stale = now - timedelta(seconds=CLAIM_LEASE_SECONDS)
    rows = RichMenuPublication.objects.filter(pk=publication_id, status=PublicationStatus.PENDING)
    taken = (rows.filter(claimed_at__isnull=True) | rows.filter(claimed_at__lt=stale)).update(
        claimed_at=now
    )
    return (
        RichMenuPublication.objects.select_related("menu_set__channel").get(pk=publication_id)
        if taken
        else None
    )


def _release(publication: RichMenuPublication, error: LineApiError) -> bool:
    """Give the claim back after a transient error (True: retry later), or fail it."""
    attempts = publication.attempts + 1
    final = not error.retryable or attempts >= MAX_ATTEMPTS
    RichMenuPublication.objects.filter(pk=publication.pk).update(
        claimed_at=None,
        attempts=attempts,
        error=str(error)[:1000],
        status=PublicationStatus.FAILED if final else PublicationStatus.PENDING,
    )
    return not final


def publication_run(*, publication_id: int) -> str:
    """Create the publication's menus at LINE and make it the set's live version.

    Returns "live", "retry" (a transient LINE error: run again later), "failed",
    "superseded" (a newer publication of the set came first) or "busy" (another task
    has it). A second run of a live publication does nothing.
    """
    publication = _claim(publication_id)
    if publication is None:
        return "busy"
    if _superseded(publication):
        RichMenuPublication.objects.filter(pk=publication.pk).update(
            status=PublicationStatus.RETIRED, claimed_at=None
        )
        return "superseded"
    client = shared_client(publication.menu_set.channel.access_token)
    try:
        _menus_create(client, publication)
        _aliases_point(client, publication)
    except LineApiError as error:
        return "retry" if _release(publication, error) else "failed"
    _go_live(publication)
    return "live"


def _superseded(publication: RichMenuPublication) -> bool:
    return RichMenuPublication.objects.filter(
        menu_set_id=publication.menu_set_id,
        pk__gt=publication.pk,
        status__in=[PublicationStatus.PENDING, PublicationStatus.LIVE],
    ).exists()


def _menus_create(client: LineClient, publication: RichMenuPublication) -> None:
    for tab in publication.document["tabs"]:
        key = tab["key"]
        if key not in publication.line_ids:
            publication.line_ids[key] = line.rich_menu_create(client, tab["body"])
            RichMenuPublication.objects.filter(pk=publication.pk).update(
                line_ids=publication.line_ids
            )
        if key not in publication.images_done:
            kind, data = publication.images[key]
            _image_upload(client, publication.line_ids[key], base64.b64decode(data), kind)
            publication.images_done.append(key)
            RichMenuPublication.objects.filter(pk=publication.pk).update(
                images_done=publication.images_done
            )


def _image_upload(client: LineClient, rich_menu_id: str, data: bytes, kind: str) -> None:
    try:
        line.rich_menu_image_upload(client, rich_menu_id, data, kind)
    except LineApiError as error:
        # A task that died after LINE took the image but before it was recorded.
        if "already been uploaded" not in error.message:
            raise


def _aliases_point(client: LineClient, publication: RichMenuPublication) -> None:
    """Each tab's alias names its new menu (created or updated; one list call first), so
    a tab switch from an old or a new menu lands on a new one."""
    existing = line.aliases(client)
    set_id = publication.menu_set_id
    for tab in publication.document["tabs"]:
        alias, rich_menu_id = tab_alias(set_id, tab["key"]), publication.line_ids[tab["key"]]
        if alias not in existing:
            line.alias_create(client, alias, rich_menu_id)
        elif existing[alias] != rich_menu_id:
            line.alias_update(client, alias, rich_menu_id)
    wanted = {tab_alias(set_id, tab["key"]) for tab in publication.document["tabs"]}
    prefix = f"{TAB_ALIAS_PREFIX}{set_id}-"
    for alias in existing:
        if alias.startswith(prefix) and alias not in wanted:  # a tab removed since
            line.alias_delete(client, alias)


def _go_live(publication: RichMenuPublication) -> None:
    """This publication becomes live and the previous one retired, in one transaction.
    The retired one's menus stay at LINE until the default and the links have moved."""
    with transaction.atomic():
        if _superseded(publication):  # a newer one went live while this one was at LINE
            RichMenuPublication.objects.filter(pk=publication.pk).update(
                status=PublicationStatus.RETIRED, claimed_at=None
            )
            return
        previous = live_publication(menu_set_id=publication.menu_set_id)
        if previous is not None and previous.pk != publication.pk:
            RichMenuPublication.objects.filter(pk=previous.pk).update(
                status=PublicationStatus.RETIRED
            )
        RichMenuPublication.objects.filter(pk=publication.pk).update(
            status=PublicationStatus.LIVE, published_at=timezone.now(), error="", claimed_at=None
        )
