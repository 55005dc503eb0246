"""Composed broadcast items → LINE message objects.

Items: ``{"type": "text", "text"}`` (``{display_name}`` and ``{municipality}`` are
replaced), ``{"type": "image", "url"}``, ``{"type": "button", "text", "label",
"procedure"}`` (a button that starts a procedure) and ``{"type": "flex", "template":
"notice", "title", "body", "url"?}``.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from procedures.runtime import start_postback

MAX_ITEMS = 5
PERSONAL_VARIABLES = ("{display_name}",)
FLEX_TEMPLATES = ("notice",)


def validate_items(items: Any) -> None:
    """Raise ValidationError unless ``items`` is a list of 1–5 well-formed items."""
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise ValidationError(_("A broadcast has 1 to 5 messages."))
    required = {
        "text": ("text",),
        "image": ("url",),
        "button": ("text", "label", "procedure"),
        "flex": ("title", "body"),
    }
    for item in items:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in required:
            raise ValidationError(_("Unknown message type: %(type)s") % {"type": kind})
        missing = [name for name in required[kind] if not _is_text(item.get(name))]
        if missing:
            raise ValidationError(
                _("Missing %(fields)s in a %(type)s message.")
                % {"fields": ", ".join(missing), "type": kind}
            )
        if kind == "image" and not str(item["url"]).startswith("https://"):
            raise ValidationError(_("Image addresses must start with https://."))
        links = [item.get(name) for name in ("url", "preview_url")]
        if any(
            link and not (isinstance(link, str) and link.startswith("https://")) for link in links
        ):
            raise ValidationError(_("Link addresses must start with https://."))


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


def render_items(items: list[dict], variables: dict[str, str]) -> list[dict]:
    """LINE message objects for the composed items, variables filled in."""
    rendered = []
    for item in items:
        if item["type"] == "text":
            rendered.append({"type": "text", "text": _fill(item["text"], variables)[:5000]})
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
