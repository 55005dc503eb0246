"""Writes of the simulator's rich menus (the rich menu half of ``services``)."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from delivery.simulator.models import (
    SimulatorChannel,
    SimulatorRichMenu,
    SimulatorRichMenuAlias,
    SimulatorRichMenuLink,
    SimulatorUser,
)
from delivery.simulator.validation import (
    Errors,
    check_list,
    check_number,
    check_required_str,
    validate_action,
)

ALIAS_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_IMAGE_BYTES = 1024 * 1024


class RichMenuError(Exception):
    """A request LINE refuses with 400 and this message."""


def rich_menu_errors(body: dict[str, Any]) -> Errors:
    """LINE's checks of a rich menu object: size, texts and up to 20 tappable areas."""
    errors = Errors()
    size = body.get("size")
    if isinstance(size, dict):
        check_number(errors, size, "width", "size")
        check_number(errors, size, "height", "size")
        width, height = size.get("width"), size.get("height")
        sized = isinstance(width, int) and isinstance(height, int) and height > 0
        if sized and (not 800 <= width <= 2500 or height < 250 or width / height < 1.45):
            errors.add("size", "Invalid size")
    else:
        errors.add("size", "must be specified")
    if not isinstance(body.get("selected"), bool):
        errors.add("selected", "must be specified")
    check_required_str(errors, body, "name", "richmenu", max_len=300)
    check_required_str(errors, body, "chatBarText", "richmenu", max_len=14)
    areas = body.get("areas")
    if check_list(errors, areas, "areas", 0, 20):
        for index, area in enumerate(areas):
            _area_errors(errors, area, f"areas[{index}]")
    for detail in errors.details:
        detail["property"] = detail["property"].removeprefix("richmenu.")
    return errors


def _area_errors(errors: Errors, area: Any, prop: str) -> None:
    if not isinstance(area, dict):
        errors.add(prop, "must be an object")
        return
    bounds = area.get("bounds")
    if isinstance(bounds, dict):
        for key in ("x", "y", "width", "height"):
            check_number(errors, bounds, key, f"{prop}.bounds")
    else:
        errors.add(f"{prop}.bounds", "must be specified")
    validate_action(errors, area.get("action"), f"{prop}.action")


def rich_menu_create(*, channel: SimulatorChannel, body: dict[str, Any]) -> SimulatorRichMenu:
    """Store a rich menu already checked with ``rich_menu_errors``."""
    fields = ("size", "selected", "name", "chatBarText", "areas")
    return SimulatorRichMenu.objects.create(
        channel=channel, body={key: body[key] for key in fields}
    )


def rich_menu_delete(*, rich_menu: SimulatorRichMenu) -> None:
    """Delete the menu, its aliases and its links; a channel default on it is cleared."""
    SimulatorChannel.objects.filter(default_rich_menu=rich_menu).update(default_rich_menu=None)
    rich_menu.delete()


def rich_menu_image_upload(*, rich_menu: SimulatorRichMenu, data: bytes, content_type: str) -> None:
    """LINE takes one JPEG or PNG of at most 1 MB per menu, and never replaces it."""
    if content_type not in {"image/jpeg", "image/png"}:
        raise RichMenuError(f"The content type, {content_type}, is not supported")
    if len(data) > MAX_IMAGE_BYTES:
        raise RichMenuError("The image size must be 1MB or less")
    updated = SimulatorRichMenu.objects.filter(pk=rich_menu.pk, image__isnull=True).update(
        image=data, image_content_type=content_type
    )
    if not updated:
        raise RichMenuError("An image has already been uploaded to the richmenu")


def _require_image(rich_menu: SimulatorRichMenu) -> None:
    if not SimulatorRichMenu.objects.filter(pk=rich_menu.pk, image__isnull=False).exists():
        raise RichMenuError("must upload richmenu image before applying it to user")


def rich_menu_set_default(
    *, channel: SimulatorChannel, rich_menu: SimulatorRichMenu | None
) -> None:
    """Make ``rich_menu`` every user's menu unless one is linked to them; ``None`` clears."""
    if rich_menu is not None:
        _require_image(rich_menu)
    channel.default_rich_menu = rich_menu
    channel.save(update_fields=["default_rich_menu"])


def rich_menu_link(
    *, channel: SimulatorChannel, users: list[SimulatorUser], rich_menu: SimulatorRichMenu
) -> None:
    _require_image(rich_menu)
    # Replace the users' links in two statements: a bulk link names up to 500 users.
    with transaction.atomic():
        SimulatorRichMenuLink.objects.filter(channel=channel, user__in=users).delete()
        SimulatorRichMenuLink.objects.bulk_create(
            [
                SimulatorRichMenuLink(channel=channel, user=user, rich_menu=rich_menu)
                for user in users
            ]
        )


def rich_menu_unlink(*, channel: SimulatorChannel, users: list[SimulatorUser]) -> None:
    SimulatorRichMenuLink.objects.filter(channel=channel, user__in=users).delete()


def rich_menu_alias_create(
    *, channel: SimulatorChannel, alias_id: str, rich_menu: SimulatorRichMenu
) -> SimulatorRichMenuAlias:
    if not ALIAS_ID.match(alias_id):
        raise RichMenuError("richMenuAliasId must be 1 to 32 characters of [A-Za-z0-9_-]")
    _require_image(rich_menu)
    if SimulatorRichMenuAlias.objects.filter(channel=channel, alias_id=alias_id).exists():
        raise RichMenuError("conflict richmenu alias id")
    return SimulatorRichMenuAlias.objects.create(
        channel=channel, alias_id=alias_id, rich_menu=rich_menu
    )


def rich_menu_alias_update(*, alias: SimulatorRichMenuAlias, rich_menu: SimulatorRichMenu) -> None:
    _require_image(rich_menu)
    alias.rich_menu = rich_menu
    alias.save(update_fields=["rich_menu"])


def rich_menu_alias_delete(*, alias: SimulatorRichMenuAlias) -> None:
    alias.delete()
