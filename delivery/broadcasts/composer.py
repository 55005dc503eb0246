"""What the broadcast page's message composer offers (static/broadcasts/composer.js).

The composer edits the same list of items that ``messages.validate_items`` checks; it
only needs to know the kinds of message it can add, the municipality's live procedures
(for the button), the card templates, LINE's limits, the upload address for images and
every label, translated here, so the script carries no text of its own.
"""

from typing import Any

from django.utils.translation import gettext as _

from delivery.broadcasts.messages import (
    FLEX_TEMPLATES,
    KIND_NAMES,
    MAX_BUTTON_TEXT,
    MAX_ITEMS,
    MAX_LABEL,
    MAX_TEXT,
)
from delivery.images import MAX_BYTES
from govtech.models import Municipality
from procedures.models import Procedure
from procedures.selectors import live_procedures


def _live_title(procedure: Procedure) -> str:
    """The title residents see: the live version's (the draft may have moved on)."""
    version = procedure.live_version
    title = version.document.get("title") if version is not None else None
    if isinstance(title, dict) and title:
        return str(title.get("ja") or next(iter(title.values())))
    return procedure.title


def _procedures(municipality: Municipality | None) -> list[dict[str, str]]:
    procedures = live_procedures().order_by("key")
    if municipality is not None:
        procedures = procedures.filter(municipality=municipality)
    return [{"value": p.key, "label": _live_title(p)} for p in procedures]


def _strings() -> dict[str, str]:
    return {
        "card": _("Message %(n)s: %(kind)s"),
        "add": _("Add: %(kind)s"),
        "full": _("A broadcast has at most %(max)s messages."),
        "move_up": _("Move message %(n)s up"),
        "move_down": _("Move message %(n)s down"),
        "remove": _("Remove message %(n)s"),
        "up_text": _("Up"),
        "down_text": _("Down"),
        "remove_text": _("Remove"),
        "moved": _("Message %(from)s is now message %(to)s."),
        "removed": _("Message %(n)s was removed."),
        "text": _("Text"),
        "insert_name": _("Insert the resident's name {display_name}"),
        "name_hint": _("Each resident sees their own LINE name in its place."),
        "count": _("%(count)s / %(max)s characters"),
        "too_long": _("Too long: LINE accepts up to %(max)s characters."),
        "required": _("Required."),
        "image": _("Image (JPEG or PNG, up to 10 MB)"),
        "image_alt": _("The image of message %(n)s"),
        "uploading": _("Uploading…"),
        "uploaded": _("Uploaded. Residents will see this image."),
        "upload_failed": _("The image could not be uploaded. Try again."),
        "too_big": _("This image is larger than 10 MB. Make it smaller and try again."),
        "no_image": _("Choose an image to upload."),
        "button_text": _("Text above the button"),
        "label": _("Button label"),
        "procedure": _("Procedure the button starts"),
        "choose_procedure": _("Choose a procedure"),
        "no_procedures": _("No procedure is published yet: publish one to offer a button."),
        "unknown_procedure": _("(not published: %(key)s)"),
        "template": _("Card design"),
        "title": _("Title"),
        "body": _("Body"),
        "link": _("Link to details (optional, https://…)"),
        "notice": _("These messages use something the composer cannot show; edit them as JSON."),
    }


def composer_config(*, municipality: Municipality | None, upload_url: str) -> dict[str, Any]:
    """Kinds, procedures, templates, limits and labels (call inside the tenant's scope)."""
    return {
        "kinds": [{"type": kind, "label": str(label)} for kind, label in KIND_NAMES.items()],
        "procedures": _procedures(municipality),
        "templates": [{"value": key, "label": str(label)} for key, label in FLEX_TEMPLATES.items()],
        "limits": {
            "items": MAX_ITEMS,
            "text": MAX_TEXT,
            "button_text": MAX_BUTTON_TEXT,
            "label": MAX_LABEL,
            "upload_bytes": MAX_BYTES,
        },
        "upload_url": upload_url,
        "strings": _strings(),
    }
