"""Message-object validation that answers like LINE: a list of located errors.

LINE answers an invalid request with 400 and
``{"message": "The request body has N error(s)", "details": [{"message", "property"}]}``
where ``property`` is the JSON path (``messages[0].quickReply.items[2].action.label``).
The wording of the detail messages follows what LINE sends ("May not be empty",
"Length must be between 0 and 5000", "Size must be between 1 and 5", ...). Only the rules
that matter for this product are checked; unknown optional properties pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

MESSAGE_TYPES = [
    "text",
    "textV2",
    "image",
    "video",
    "audio",
    "location",
    "sticker",
    "template",
    "imagemap",
    "flex",
]
ACTION_TYPES = [
    "postback",
    "message",
    "uri",
    "datetimepicker",
    "camera",
    "cameraRoll",
    "location",
    "richmenuswitch",
    "clipboard",
]
FLEX_COMPONENT_TYPES = [
    "box",
    "button",
    "image",
    "icon",
    "text",
    "span",
    "separator",
    "filler",
    "video",
]
DATETIME_FORMATS = {"date": "%Y-%m-%d", "time": "%H:%M", "datetime": "%Y-%m-%dT%H:%M"}
# Plain http is accepted only for this machine, so the local demo can show its own media.
LOCAL_HOSTS = {"127.0.0.1", "localhost", "testserver", "[::1]", "::1"}


class Errors:
    """Collects (property, message) pairs in the order they are found."""

    def __init__(self) -> None:
        self.details: list[dict[str, str]] = []

    def add(self, prop: str, message: str) -> None:
        self.details.append({"message": message, "property": prop})

    def __bool__(self) -> bool:
        return bool(self.details)

    def body(self) -> dict[str, Any]:
        return {
            "message": f"The request body has {len(self.details)} error(s)",
            "details": self.details,
        }


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def check_required_str(
    errors: Errors, obj: dict, key: str, prop: str, max_len: int | None = None
) -> None:
    value = obj.get(key)
    if value is None:
        errors.add(f"{prop}.{key}", "must be specified")
    elif not _is_str(value):
        errors.add(f"{prop}.{key}", "must be a string")
    elif value == "":
        errors.add(f"{prop}.{key}", "May not be empty")
    elif max_len is not None and len(value) > max_len:
        errors.add(f"{prop}.{key}", f"Length must be between 0 and {max_len}")


def check_optional_str(errors: Errors, obj: dict, key: str, prop: str, max_len: int) -> None:
    value = obj.get(key)
    if value is None:
        return
    if not _is_str(value):
        errors.add(f"{prop}.{key}", "must be a string")
    elif len(value) > max_len:
        errors.add(f"{prop}.{key}", f"Length must be between 0 and {max_len}")


def check_url(errors: Errors, obj: dict, key: str, prop: str, *, required: bool = True) -> None:
    value = obj.get(key)
    if value is None and not required:
        return
    check_required_str(errors, obj, key, prop, max_len=2000)
    if not _is_str(value) or not value:
        return
    parts = urlsplit(value)
    local_http = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
    if parts.scheme != "https" and not local_http:
        errors.add(f"{prop}.{key}", "must be HTTPS")


def check_list(errors: Errors, value: Any, prop: str, lo: int, hi: int) -> bool:
    """True when ``value`` is a list whose size is within [lo, hi]."""
    if not isinstance(value, list):
        errors.add(prop, "must be specified" if value is None else "must be an array")
        return False
    if not lo <= len(value) <= hi:
        errors.add(prop, f"Size must be between {lo} and {hi}")
        return False
    return True


def check_number(errors: Errors, obj: dict, key: str, prop: str) -> None:
    value = obj.get(key)
    if value is None:
        errors.add(f"{prop}.{key}", "must be specified")
    elif isinstance(value, bool) or not isinstance(value, int | float):
        errors.add(f"{prop}.{key}", "must be a number")


def _check_object(errors: Errors, value: Any, prop: str) -> bool:
    if isinstance(value, dict):
        return True
    errors.add(prop, "must be specified" if value is None else "must be an object")
    return False


# --- actions -----------------------------------------------------------------


def _check_datetime_value(errors: Errors, action: dict, key: str, prop: str, mode: str) -> None:
    value = action.get(key)
    if value is None:
        return
    try:
        datetime.strptime(str(value), DATETIME_FORMATS[mode])
    except ValueError:
        errors.add(f"{prop}.{key}", f"Invalid {mode} format")


def _check_postback(errors: Errors, action: dict, prop: str) -> None:
    check_required_str(errors, action, "data", prop, max_len=300)
    check_optional_str(errors, action, "displayText", prop, 300)
    check_optional_str(errors, action, "text", prop, 300)
    option = action.get("inputOption")
    if option is not None and option not in {
        "closeRichMenu",
        "openRichMenu",
        "openKeyboard",
        "openVoice",
    }:
        errors.add(f"{prop}.inputOption", "Invalid inputOption")


def _check_datetimepicker(errors: Errors, action: dict, prop: str) -> None:
    check_required_str(errors, action, "data", prop, max_len=300)
    mode = action.get("mode")
    if mode not in DATETIME_FORMATS:
        errors.add(f"{prop}.mode", "Must be one of the following values: [date, time, datetime]")
        return
    for key in ("initial", "max", "min"):
        _check_datetime_value(errors, action, key, prop, mode)


def _check_uri(errors: Errors, action: dict, prop: str) -> None:
    check_required_str(errors, action, "uri", prop, max_len=1000)
    uri = action.get("uri")
    if _is_str(uri) and uri and not re.match(r"^(https?|line|tel|mailto):", uri):
        errors.add(f"{prop}.uri", "Invalid uri scheme")


ACTION_CHECKS: dict[str, Callable[[Errors, dict, str], None]] = {
    "postback": _check_postback,
    "message": lambda e, a, p: check_required_str(e, a, "text", p, max_len=300),
    "uri": _check_uri,
    "datetimepicker": _check_datetimepicker,
    "camera": lambda e, a, p: None,
    "cameraRoll": lambda e, a, p: None,
    "location": lambda e, a, p: None,
    "richmenuswitch": lambda e, a, p: (
        check_required_str(e, a, "richMenuAliasId", p, max_len=32),
        check_required_str(e, a, "data", p, max_len=300),
    ),
    "clipboard": lambda e, a, p: check_required_str(e, a, "clipboardText", p, max_len=1000),
}


def validate_action(
    errors: Errors, action: Any, prop: str, *, label_required: bool = False, label_max: int = 20
) -> None:
    """An action object; quick reply buttons and template buttons need a label."""
    if not _check_object(errors, action, prop):
        return
    kind = action.get("type")
    if kind not in ACTION_CHECKS:
        errors.add(
            f"{prop}.type", f"Must be one of the following values: [{', '.join(ACTION_TYPES)}]"
        )
        return
    if label_required:
        check_required_str(errors, action, "label", prop, max_len=label_max)
    else:
        check_optional_str(errors, action, "label", prop, label_max)
    ACTION_CHECKS[kind](errors, action, prop)


def validate_quick_reply(errors: Errors, quick_reply: Any, prop: str) -> None:
    if not _check_object(errors, quick_reply, prop):
        return
    items = quick_reply.get("items")
    if not check_list(errors, items, f"{prop}.items", 1, 13):
        return
    for index, item in enumerate(items):
        item_prop = f"{prop}.items[{index}]"
        if not _check_object(errors, item, item_prop):
            continue
        if item.get("type") != "action":
            errors.add(f"{item_prop}.type", "Must be one of the following values: [action]")
        check_url(errors, item, "imageUrl", item_prop, required=False)
        action = item.get("action")
        validate_action(errors, action, f"{item_prop}.action", label_required=True)
        if isinstance(action, dict) and action.get("type") == "richmenuswitch":
            errors.add(f"{item_prop}.action.type", "richmenuswitch is not supported in quick reply")


# --- flex --------------------------------------------------------------------


def _validate_flex_component(errors: Errors, component: Any, prop: str, depth: int = 0) -> None:
    if not _check_object(errors, component, prop):
        return
    kind = component.get("type")
    if kind not in FLEX_COMPONENT_TYPES:
        errors.add(
            f"{prop}.type",
            f"Must be one of the following values: [{', '.join(FLEX_COMPONENT_TYPES)}]",
        )
        return
    if kind == "box":
        if component.get("layout") not in {"horizontal", "vertical", "baseline"}:
            errors.add(
                f"{prop}.layout",
                "Must be one of the following values: [horizontal, vertical, baseline]",
            )
        contents = component.get("contents")
        if check_list(errors, contents, f"{prop}.contents", 0, 100) and depth < 20:
            for index, child in enumerate(contents):
                _validate_flex_component(errors, child, f"{prop}.contents[{index}]", depth + 1)
    elif (kind == "text" and component.get("contents") is None) or kind == "span":
        check_required_str(errors, component, "text", prop)
    elif kind == "button":
        validate_action(
            errors, component.get("action"), f"{prop}.action", label_required=True, label_max=40
        )
    elif kind in {"image", "icon"}:
        check_url(errors, component, "url", prop)
    if kind != "button" and component.get("action") is not None:
        validate_action(errors, component["action"], f"{prop}.action")


def _validate_bubble(errors: Errors, bubble: Any, prop: str) -> None:
    if not _check_object(errors, bubble, prop):
        return
    if bubble.get("type") != "bubble":
        errors.add(f"{prop}.type", "Must be one of the following values: [bubble]")
        return
    for block in ("header", "hero", "body", "footer"):
        if bubble.get(block) is not None:
            _validate_flex_component(errors, bubble[block], f"{prop}.{block}")


def validate_flex_container(errors: Errors, container: Any, prop: str) -> None:
    if not _check_object(errors, container, prop):
        return
    if container.get("type") == "carousel":
        bubbles = container.get("contents")
        if check_list(errors, bubbles, f"{prop}.contents", 1, 12):
            for index, bubble in enumerate(bubbles):
                _validate_bubble(errors, bubble, f"{prop}.contents[{index}]")
    elif container.get("type") == "bubble":
        _validate_bubble(errors, container, prop)
    else:
        errors.add(f"{prop}.type", "Must be one of the following values: [bubble, carousel]")


# --- templates ---------------------------------------------------------------


def _validate_template_actions(errors: Errors, actions: Any, prop: str, lo: int, hi: int) -> None:
    if check_list(errors, actions, prop, lo, hi):
        for index, action in enumerate(actions):
            validate_action(errors, action, f"{prop}[{index}]", label_required=True)


def validate_template(errors: Errors, template: Any, prop: str) -> None:
    if not _check_object(errors, template, prop):
        return
    kind = template.get("type")
    if kind == "buttons":
        has_header = template.get("title") or template.get("thumbnailImageUrl")
        check_required_str(errors, template, "text", prop, max_len=60 if has_header else 160)
        check_optional_str(errors, template, "title", prop, 40)
        _validate_template_actions(errors, template.get("actions"), f"{prop}.actions", 1, 4)
    elif kind == "confirm":
        check_required_str(errors, template, "text", prop, max_len=240)
        _validate_template_actions(errors, template.get("actions"), f"{prop}.actions", 2, 2)
    elif kind in {"carousel", "image_carousel"}:
        columns = template.get("columns")
        if check_list(errors, columns, f"{prop}.columns", 1, 10):
            for index, column in enumerate(columns):
                column_prop = f"{prop}.columns[{index}]"
                if _check_object(errors, column, column_prop):
                    hi = 1 if kind == "image_carousel" else 3
                    key = "action" if kind == "image_carousel" else "actions"
                    if kind == "image_carousel":
                        validate_action(errors, column.get(key), f"{column_prop}.{key}")
                    else:
                        check_required_str(errors, column, "text", column_prop, max_len=120)
                        _validate_template_actions(
                            errors, column.get(key), f"{column_prop}.{key}", 1, hi
                        )
    else:
        errors.add(
            f"{prop}.type",
            "Must be one of the following values: [buttons, confirm, carousel, image_carousel]",
        )


# --- messages ----------------------------------------------------------------


def _validate_text(errors: Errors, message: dict, prop: str) -> None:
    check_required_str(errors, message, "text", prop, max_len=5000)


def _validate_media(errors: Errors, message: dict, prop: str) -> None:
    check_url(errors, message, "originalContentUrl", prop)
    if message.get("type") != "audio":
        check_url(errors, message, "previewImageUrl", prop)
    else:
        check_number(errors, message, "duration", prop)


def _validate_location(errors: Errors, message: dict, prop: str) -> None:
    check_required_str(errors, message, "title", prop, max_len=100)
    check_required_str(errors, message, "address", prop, max_len=100)
    check_number(errors, message, "latitude", prop)
    check_number(errors, message, "longitude", prop)


def _validate_sticker(errors: Errors, message: dict, prop: str) -> None:
    check_required_str(errors, message, "packageId", prop)
    check_required_str(errors, message, "stickerId", prop)


def _validate_imagemap(errors: Errors, message: dict, prop: str) -> None:
    check_url(errors, message, "baseUrl", prop)
    check_required_str(errors, message, "altText", prop, max_len=1500)
    if _check_object(errors, message.get("baseSize"), f"{prop}.baseSize"):
        check_number(errors, message["baseSize"], "width", f"{prop}.baseSize")
        check_number(errors, message["baseSize"], "height", f"{prop}.baseSize")
    check_list(errors, message.get("actions"), f"{prop}.actions", 0, 50)


def _validate_template_message(errors: Errors, message: dict, prop: str) -> None:
    check_required_str(errors, message, "altText", prop, max_len=400)
    validate_template(errors, message.get("template"), f"{prop}.template")


def _validate_flex_message(errors: Errors, message: dict, prop: str) -> None:
    check_required_str(errors, message, "altText", prop, max_len=1500)
    validate_flex_container(errors, message.get("contents"), f"{prop}.contents")


MESSAGE_CHECKS: dict[str, Callable[[Errors, dict, str], None]] = {
    "text": _validate_text,
    "textV2": _validate_text,
    "image": _validate_media,
    "video": _validate_media,
    "audio": _validate_media,
    "location": _validate_location,
    "sticker": _validate_sticker,
    "imagemap": _validate_imagemap,
    "template": _validate_template_message,
    "flex": _validate_flex_message,
}


def validate_message(errors: Errors, message: Any, prop: str) -> None:
    if not _check_object(errors, message, prop):
        return
    kind = message.get("type")
    if kind not in MESSAGE_CHECKS:
        errors.add(
            f"{prop}.type", f"Must be one of the following values: [{', '.join(MESSAGE_TYPES)}]"
        )
        return
    MESSAGE_CHECKS[kind](errors, message, prop)
    if message.get("quickReply") is not None:
        validate_quick_reply(errors, message["quickReply"], f"{prop}.quickReply")


def validate_messages(errors: Errors, messages: Any, prop: str = "messages") -> None:
    """The ``messages`` array of a send request: 1 to 5 valid message objects."""
    if not check_list(errors, messages, prop, 1, 5):
        return
    for index, message in enumerate(messages):
        validate_message(errors, message, f"{prop}[{index}]")
