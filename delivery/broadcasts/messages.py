"""Composed broadcast items → LINE message objects.

Items: ``{"type": "text", "text"}`` (``{display_name}`` and ``{municipality}`` are
replaced), ``{"type": "image", "url", "preview_url"?}`` (``preview_url``: the small
version LINE shows in the chat, ≤ 1 MB; the console's uploads always have one),
``{"type": "button", "text", "label", "procedure"}`` (a button that starts a procedure)
and ``{"type": "flex", "template": "notice", "title", "body", "url"?}``. A text item may
carry ``quick_replies``: ``[{"label", "data"}]``, postback buttons under it (the safety
check's 無事 / 支援が必要; the console's composer does not offer them).

The console's message composer (static/broadcasts/composer.js) edits this same list;
``validate_items`` is what both the form and the live preview check.
"""

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from delivery.broadcasts.images import is_own_image_url
from delivery.broadcasts.models import Broadcast
from delivery.models import Friend
from procedures.runtime import start_postback

MAX_ITEMS = 5
PERSONAL_VARIABLES = ("{display_name}",)
FLEX_TEMPLATES = {"notice": gettext_lazy("Notice (title and body)")}
# LINE's limits: a text message, a buttons template's text (no image), an action label.
MAX_TEXT = 5000
MAX_BUTTON_TEXT = 160
MAX_LABEL = 20
MAX_QUICK_REPLIES = 13
MAX_POSTBACK_DATA = 300
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

KIND_NAMES = {
    "text": gettext_lazy("Text"),
    "image": gettext_lazy("Image"),
    "button": gettext_lazy("Procedure button"),
    "flex": gettext_lazy("Notice card"),
}
FIELD_NAMES = {
    "text": gettext_lazy("text"),
    "url": gettext_lazy("image"),
    "label": gettext_lazy("button label"),
    "procedure": gettext_lazy("procedure"),
    "title": gettext_lazy("title"),
    "body": gettext_lazy("body"),
}
REQUIRED = {
    "text": ("text",),
    "image": ("url",),
    "button": ("text", "label", "procedure"),
    "flex": ("title", "body"),
}
LIMITS = {
    "text": {"text": MAX_TEXT},
    "button": {"text": MAX_BUTTON_TEXT, "label": MAX_LABEL},
}


def validate_items(items: Any) -> None:
    """Raise ValidationError unless ``items`` is a list of 1–5 well-formed items.

    Messages name the item (「2件目（手続きボタン）」) and the field in staff words.
    """
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise ValidationError(_("A broadcast has 1 to 5 messages."))
    for position, item in enumerate(items, start=1):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in REQUIRED:
            raise ValidationError(_("Unknown message type: %(type)s") % {"type": kind})
        problem = _item_problem(kind, item)
        if problem:
            raise ValidationError(_located(position, kind, problem))


def validate_procedures(items: list[dict], *, live_keys: set[str]) -> None:
    """Raise ValidationError when a button starts a procedure residents cannot start now.

    ``live_keys``: the keys of the municipality's published procedures.
    """
    for position, item in enumerate(items, start=1):
        if item["type"] == "button" and item["procedure"] not in live_keys:
            problem = _("“%(key)s” is not a published procedure of this municipality.") % {
                "key": item["procedure"]
            }
            raise ValidationError(_located(position, "button", problem))


def _located(position: int, kind: str, problem: str) -> str:
    """「2件目のメッセージ（手続きボタン）：…」: which card, then what is wrong."""
    where = _("Message %(n)s (%(kind)s)") % {"n": position, "kind": KIND_NAMES[kind]}
    return _("%(where)s: %(problem)s") % {"where": where, "problem": problem}


def _item_problem(kind: str, item: dict) -> str:
    """What is wrong with one item, in words for staff ("" when nothing is)."""
    missing = [str(FIELD_NAMES[name]) for name in REQUIRED[kind] if not _is_text(item.get(name))]
    if missing:
        return _("enter the %(fields)s.") % {"fields": _(", ").join(missing)}
    for name, limit in LIMITS.get(kind, {}).items():
        if len(item[name]) > limit:
            return _("the %(field)s is longer than %(limit)s characters.") % {
                "field": FIELD_NAMES[name],
                "limit": limit,
            }
    if "quick_replies" in item and not _quick_replies_fit(item["quick_replies"]):
        return _("the quick replies do not fit LINE's limits.")
    if kind == "flex" and item.get("template", "notice") not in FLEX_TEMPLATES:
        return _("unknown card template: %(template)s") % {"template": item.get("template")}
    if kind == "image" and not _is_public_address(item["url"]):
        return _("Image addresses must start with https://.")
    links = [item.get(name) for name in ("url", "preview_url")]
    if any(link and not _is_public_address(link) for link in links):
        return _("Link addresses must start with https://.")
    return ""


def _quick_replies_fit(replies: Any) -> bool:
    if not isinstance(replies, list) or not 1 <= len(replies) <= MAX_QUICK_REPLIES:
        return False
    return all(
        isinstance(reply, dict)
        and _is_text(reply.get("label"))
        and len(reply["label"]) <= MAX_LABEL
        and _is_text(reply.get("data"))
        and len(reply["data"].encode()) <= MAX_POSTBACK_DATA
        for reply in replies
    )


def _is_public_address(link: Any) -> bool:
    """An https address, or this installation's own uploaded image on this machine.

    LINE fetches only https; the simulator also accepts http on loopback, which is what a
    development or test installation's own uploads are.
    """
    if not isinstance(link, str):
        return False
    if link.startswith("https://"):
        return True
    return is_own_image_url(link) and urlsplit(link).hostname in LOOPBACK_HOSTS


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def is_personal(items: list[dict]) -> bool:
    """True when a message names the recipient: it cannot go out as one multicast."""
    return any(v in str(item.get("text", "")) for item in items for v in PERSONAL_VARIABLES)


def _fill(text: str, variables: dict[str, str]) -> str:
    for name, value in variables.items():
        text = text.replace("{" + name + "}", value)
    return text


def _flex_notice(item: dict, variables: dict[str, str]) -> dict:
    body = [
        {"type": "text", "text": _fill(item["title"], variables), "weight": "bold", "wrap": True},
        {"type": "text", "text": _fill(item["body"], variables), "wrap": True, "margin": "md"},
    ]
    bubble: dict[str, Any] = {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "contents": body},
    }
    if item.get("url"):
        bubble["footer"] = {
            "type": "box",
            "layout": "vertical",
            "contents": [
                {
                    "type": "button",
                    "style": "primary",
                    "action": {"type": "uri", "label": _("Details")[:20], "uri": item["url"]},
                }
            ],
        }
    return {"type": "flex", "altText": _fill(item["title"], variables)[:400], "contents": bubble}


def _button(item: dict, variables: dict[str, str]) -> dict:
    text = _fill(item["text"], variables)
    return {
        "type": "template",
        "altText": text[:400],
        "template": {
            "type": "buttons",
            "text": text[:160],
            "actions": [
                {
                    "type": "postback",
                    "label": item["label"][:20],
                    "data": start_postback(item["procedure"]),
                    "displayText": item["label"][:300],
                }
            ],
        },
    }


def _text(item: dict, variables: dict[str, str]) -> dict:
    message: dict[str, Any] = {"type": "text", "text": _fill(item["text"], variables)[:5000]}
    if item.get("quick_replies"):
        message["quickReply"] = {
            "items": [
                {
                    "type": "action",
                    "action": {
                        "type": "postback",
                        "label": reply["label"],
                        "data": reply["data"],
                        "displayText": reply["label"],
                    },
                }
                for reply in item["quick_replies"]
            ]
        }
    return message


def render_items(items: list[dict], variables: dict[str, str]) -> list[dict]:
    """LINE message objects for the composed items, variables filled in."""
    rendered = []
    for item in items:
        if item["type"] == "text":
            rendered.append(_text(item, variables))
        elif item["type"] == "image":
            url = item["url"]
            rendered.append(
                {
                    "type": "image",
                    "originalContentUrl": url,
                    "previewImageUrl": item.get("preview_url") or url,
                }
            )
        elif item["type"] == "button":
            rendered.append(_button(item, variables))
        else:
            rendered.append(_flex_notice(item, variables))
    return rendered


def render_for(
    broadcast: Broadcast, *, friend: Friend | None = None, display_name: str = ""
) -> list[dict]:
    """The LINE messages of a broadcast, for one resident when personal variables are used."""
    variables = {
        "municipality": broadcast.municipality.name,
        "display_name": (friend.display_name if friend else display_name) or _("resident"),
    }
    return render_items(broadcast.messages, variables)
