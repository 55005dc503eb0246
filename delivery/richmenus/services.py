"""The designer's writes: menu sets, their tabs and images, and asking for a publication.

Every write here is one transaction of rows; nothing calls LINE. Publishing writes a
``RichMenuPublication`` (the intent) and enqueues its task after commit (``publishing``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from delivery.broadcasts.models import Segment
from delivery.faq.models import FaqEntry
from delivery.models import LineChannel
from delivery.richmenus.images import menu_image_check, menu_image_draw
from delivery.richmenus.layouts import (
    SIZES,
    TAB_KEY,
    layout_bounds,
    line_rich_menu,
    validate_areas,
)
from delivery.richmenus.models import (
    MenuPurpose,
    PublicationStatus,
    RichMenuPublication,
    RichMenuSet,
    RichMenuTab,
)
from govtech.models import Municipality, User
from govtech.publish import publish_task_on_commit
from govtech.services import audit_log
from govtech.tenancy import tenant_scope
from procedures.models import Procedure

PUBLISH_TASK = "delivery.tasks.richmenu_publish"
SYNC_TASK = "delivery.tasks.richmenu_sync"
MAX_TABS = 10


def menu_set_save(
    *,
    actor: User | None,
    municipality: Municipality,
    channel: LineChannel,
    name: str,
    purpose: str = MenuPurpose.NORMAL,
    is_default: bool = False,
    segment: Segment | None = None,
    priority: int = 0,
    menu_set: RichMenuSet | None = None,
) -> RichMenuSet:
    """Create or change a menu set. One default per channel and purpose: making this one
    the default makes the previous one a plain set. A segment set is never the default."""
    if segment is not None and is_default:
        raise ValidationError(_("A menu for a segment cannot also be the default menu."))
    with tenant_scope(municipality), transaction.atomic():
        menu_set = menu_set or RichMenuSet(municipality=municipality)
        menu_set.channel, menu_set.name, menu_set.purpose = channel, name, purpose
        menu_set.is_default, menu_set.segment, menu_set.priority = is_default, segment, priority
        menu_set.save()
        if is_default:
            RichMenuSet.objects.filter(channel=channel, purpose=purpose, is_default=True).exclude(
                pk=menu_set.pk
            ).update(is_default=False)
        if menu_set.publications.filter(status=PublicationStatus.LIVE).exists():
            # Default, segment or priority may have changed who sees it: bring LINE in step.
            publish_task_on_commit(SYNC_TASK, channel.pk, True, municipality_id=municipality.pk)
    audit_log(actor, "delivery.richmenu.saved", menu_set, {"name": name, "purpose": purpose})
    return menu_set


def _choices(municipality: Municipality) -> dict[str, Any]:
    with tenant_scope(municipality):
        return {
            "procedure_keys": set(
                Procedure.objects.filter(live_version__isnull=False).values_list("key", flat=True)
            ),
            "faq_ids": set(FaqEntry.objects.filter(is_active=True).values_list("pk", flat=True)),
        }


def menu_tab_save(
    *,
    actor: User | None,
    menu_set: RichMenuSet,
    key: str,
    title: str,
    chat_bar_text: str,
    size: str,
    areas: list[dict[str, Any]],
    layout: str = "",
    tab: RichMenuTab | None = None,
) -> RichMenuTab:
    """Create or change one tab. ``layout`` (a standard one) gives the areas' bounds, in
    order; otherwise every area brings its own. Raises ValidationError. A generated
    image is drawn again; an uploaded one is kept only while the size stays the same."""
    if size not in SIZES:
        raise ValidationError(_("Choose the large or the compact size."))
    if layout:
        size, bounds = _layout(layout)
        areas = [{**area, "bounds": b} for area, b in zip(areas, bounds, strict=False)]
    with tenant_scope(menu_set.municipality), transaction.atomic():
        if not TAB_KEY.match(key):
            raise ValidationError(_("A tab key is 1 to 12 lowercase letters, digits, - or _."))
        if tab is None and menu_set.tabs.count() >= MAX_TABS:
            raise ValidationError(_("A menu has at most %(n)s tabs.") % {"n": MAX_TABS})
        validate_areas(areas, size=size, tab_keys=None, **_choices(menu_set.municipality))
        tab = tab or RichMenuTab(municipality=menu_set.municipality, menu_set=menu_set)
        if tab.size and tab.size != size and not tab.image_generated:
            tab.image, tab.image_generated = None, True  # the upload no longer fits
        tab.key, tab.title, tab.chat_bar_text, tab.size = key, title, chat_bar_text, size
        tab.layout, tab.areas = layout, areas
        if tab.position == 0 and tab.pk is None:
            tab.position = menu_set.tabs.count()
        if tab.image_generated:
            _draw(tab)
        tab.save()
        _touch(menu_set)
    audit_log(actor, "delivery.richmenu.tab_saved", menu_set, {"tab": key})
    return tab


def _layout(name: str) -> tuple[str, list[dict[str, int]]]:
    try:
        return layout_bounds(name)
    except KeyError:
        raise ValidationError(_("Unknown layout.")) from None


def _draw(tab: RichMenuTab) -> None:
    disaster = tab.menu_set.purpose == MenuPurpose.DISASTER
    tab.image = menu_image_draw(
        size=tab.size, areas=tab.areas, current_tab=tab.key, disaster=disaster
    )
    tab.image_content_type = "image/png"


def _touch(menu_set: RichMenuSet) -> None:
    RichMenuSet.objects.filter(pk=menu_set.pk).update(revision=menu_set.revision + 1)
    menu_set.revision += 1


def menu_tab_image_upload(*, actor: User | None, tab: RichMenuTab, data: bytes) -> None:
    """Use an uploaded image for the tab. Raises MenuImageRejected (LINE's rules)."""
    kind = menu_image_check(data, size=tab.size)
    with tenant_scope(tab.municipality), transaction.atomic():
        tab.image, tab.image_content_type, tab.image_generated = data, kind, False
        tab.save(update_fields=["image", "image_content_type", "image_generated"])
        _touch(tab.menu_set)
    audit_log(actor, "delivery.richmenu.image_uploaded", tab.menu_set, {"tab": tab.key})


def menu_tab_image_generate(*, actor: User | None, tab: RichMenuTab) -> None:
    """Go back to an image drawn from the areas' labels."""
    with tenant_scope(tab.municipality), transaction.atomic():
        tab.image_generated = True
        _draw(tab)
        tab.save(update_fields=["image", "image_content_type", "image_generated"])
        _touch(tab.menu_set)
    audit_log(actor, "delivery.richmenu.image_generated", tab.menu_set, {"tab": tab.key})


def menu_tab_delete(*, actor: User | None, tab: RichMenuTab) -> None:
    """Delete a tab; refused while another tab's area switches to it."""
    menu_set = tab.menu_set
    with tenant_scope(tab.municipality), transaction.atomic():
        for other in menu_set.tabs.exclude(pk=tab.pk):
            if any(a.get("kind") == "tab" and a.get("value") == tab.key for a in other.areas):
                raise ValidationError(
                    _("The tab %(other)s switches to this tab.") % {"other": other.title}
                )
        tab.delete()
        _touch(menu_set)
    audit_log(actor, "delivery.richmenu.tab_deleted", menu_set, {"tab": tab.key})


def menu_set_document(menu_set: RichMenuSet) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The set frozen for LINE: each tab's rich menu object, and its image. Checks the
    actions again (a procedure may have been withdrawn since). Raises ValidationError."""
    tabs = list(menu_set.tabs.all())
    if not tabs:
        raise ValidationError(_("Add at least one tab before publishing."))
    keys = {tab.key for tab in tabs}
    choices = _choices(menu_set.municipality)
    frozen, images = [], {}
    for tab in tabs:
        validate_areas(tab.areas, size=tab.size, tab_keys=keys, **choices)
        if tab.image is None:
            raise ValidationError(_("The tab %(tab)s has no image.") % {"tab": tab.title})
        image = bytes(tab.image)
        images[tab.key] = [tab.image_content_type, base64.b64encode(image).decode()]
        name = f"{menu_set.name} / {tab.title}"
        frozen.append(
            {
                "key": tab.key,
                "title": tab.title,
                "body": line_rich_menu(_tab_dict(tab), set_id=menu_set.pk, name=name),
                "image_sha256": hashlib.sha256(image).hexdigest(),
            }
        )
    return {"set": menu_set.pk, "tabs": frozen}, images


def _tab_dict(tab: RichMenuTab) -> dict[str, Any]:
    return {"size": tab.size, "chat_bar_text": tab.chat_bar_text, "areas": tab.areas}


def _fingerprint(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def menu_set_publish(*, actor: User | None, menu_set: RichMenuSet) -> RichMenuPublication:
    """Ask for the set as it is now to be at LINE. Idempotent: when the same content is
    already live or being published, that publication is returned and nothing is sent
    to LINE. Otherwise a pending publication is written and its task enqueued after
    commit; it replaces the live one without leaving residents without a menu.
    Raises ValidationError."""
    with tenant_scope(menu_set.municipality), transaction.atomic():
        locked = RichMenuSet.objects.select_for_update().get(pk=menu_set.pk)
        document, images = menu_set_document(locked)
        fingerprint = _fingerprint(document)
        current = (
            locked.publications.filter(
                status__in=[PublicationStatus.PENDING, PublicationStatus.LIVE]
            )
            .order_by("-id")
            .first()
        )
        if current is not None and current.fingerprint == fingerprint:
            return current
        publication = RichMenuPublication.objects.create(
            municipality=locked.municipality,
            menu_set=locked,
            revision=locked.revision,
            fingerprint=fingerprint,
            document=document,
            images=images,
            created_by=actor,
        )
        publish_task_on_commit(
            PUBLISH_TASK, publication.pk, municipality_id=publication.municipality_id
        )
    audit_log(actor, "delivery.richmenu.publish_requested", menu_set, {"revision": locked.revision})
    return publication
