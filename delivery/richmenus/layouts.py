"""LINE's standard rich menu layouts, the actions an area may have, and the LINE rich
menu object a tab becomes.

Sizes and limits are LINE's (Messaging API reference, "Rich menu object"): 800 to 2500
pixels wide, at least 250 high, width / height at least 1.45, up to 20 areas; the two
sizes the LINE Official Account Manager offers are 2500 × 1686 and 2500 × 843.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from delivery.faq.chat import faq_postback
from delivery.spots.chat import LOOKING_FOR, spot_postback
from procedures.casework.postbacks import case_postback
from procedures.engine.steps import postback
from procedures.runtime import start_postback

SIZES = {"large": (2500, 1686), "compact": (2500, 843)}
MAX_AREAS = 20
MAX_LABEL = 20  # LINE: an action label is at most 20 characters
TAB_ALIAS_PREFIX = "gt"
TAB_KEY = re.compile(r"^[a-z0-9_-]{1,12}$")

# name → (size, [(x, y, width, height) as fractions of the menu]): the grids of the LINE
# Official Account Manager's templates.


def _grid(size: str, cells: list[tuple[float, float, float, float]]) -> list[dict[str, int]]:
    width, height = SIZES[size]
    bounds = []
    for x, y, w, h in cells:
        left, top = round(x * width), round(y * height)
        right, bottom = round((x + w) * width), round((y + h) * height)
        bounds.append({"x": left, "y": top, "width": right - left, "height": bottom - top})
    return bounds


_T = 1 / 3
LAYOUTS: dict[str, tuple[str, list[tuple[float, float, float, float]]]] = {
    "large-6": ("large", [(c * _T, r / 2, _T, 0.5) for r in range(2) for c in range(3)]),
    "large-4": ("large", [(c / 2, r / 2, 0.5, 0.5) for r in range(2) for c in range(2)]),
    "large-4-wide": ("large", [(0, 0, 1, 0.5)] + [(c * _T, 0.5, _T, 0.5) for c in range(3)]),
    "large-3": ("large", [(0, 0, 1, 0.5), (0, 0.5, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)]),
    "large-3-left": ("large", [(0, 0, 0.5, 1), (0.5, 0, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)]),
    "large-2": ("large", [(0, 0, 0.5, 1), (0.5, 0, 0.5, 1)]),
    "large-2-rows": ("large", [(0, 0, 1, 0.5), (0, 0.5, 1, 0.5)]),
    "large-1": ("large", [(0, 0, 1, 1)]),
    "compact-3": ("compact", [(c * _T, 0, _T, 1) for c in range(3)]),
    "compact-2": ("compact", [(0, 0, 0.5, 1), (0.5, 0, 0.5, 1)]),
    "compact-2-wide": ("compact", [(0, 0, 2 * _T, 1), (2 * _T, 0, _T, 1)]),
    "compact-1": ("compact", [(0, 0, 1, 1)]),
}


def layout_bounds(name: str) -> tuple[str, list[dict[str, int]]]:
    """(size, area bounds) of a standard layout. Raises KeyError for an unknown name."""
    size, cells = LAYOUTS[name]
    return size, _grid(size, cells)


ACTION_KINDS = {
    "procedure": gettext_lazy("Start a procedure"),
    "uri": gettext_lazy("Open a web page"),
    "text": gettext_lazy("Send a text"),
    "tab": gettext_lazy("Switch to another tab"),
    "applications": gettext_lazy("申請状況 (my applications)"),
    "spots": gettext_lazy("Spot search"),
    "faq": gettext_lazy("FAQ answer"),
}


def tab_alias(set_id: int, key: str) -> str:
    """The rich menu alias of one tab: [A-Za-z0-9_-], at most 32 characters."""
    return f"{TAB_ALIAS_PREFIX}{set_id}-{key}"


def line_action(area: dict[str, Any], *, set_id: int) -> dict[str, Any]:
    """The LINE action object of a designer's area (already validated)."""
    kind, value = area["kind"], str(area.get("value") or "")
    label = str(area.get("label") or "")[:MAX_LABEL] or str(ACTION_KINDS[kind])[:MAX_LABEL]
    if kind == "procedure":
        return _postback(label, start_postback(value), label)
    if kind == "uri":
        return {"type": "uri", "label": label, "uri": value}
    if kind == "text":
        return {"type": "message", "label": label, "text": value}
    if kind == "tab":
        return {
            "type": "richmenuswitch",
            "label": label,
            "richMenuAliasId": tab_alias(set_id, value),
            "data": postback("menu", "tab", value),
        }
    if kind == "applications":
        return _postback(label, case_postback("list"), "申請状況")
    if kind == "spots":
        if value in LOOKING_FOR:
            return _postback(label, spot_postback(value), label)
        return {"type": "message", "label": label, "text": "スポット検索"}
    return _postback(label, faq_postback(int(value)), label)  # faq


def _postback(label: str, data: str, display_text: str) -> dict[str, Any]:
    return {"type": "postback", "label": label, "data": data, "displayText": display_text}


def line_rich_menu(tab: dict[str, Any], *, set_id: int, name: str) -> dict[str, Any]:
    """The rich menu object LINE is sent for one frozen tab."""
    width, height = SIZES[tab["size"]]
    return {
        "size": {"width": width, "height": height},
        "selected": True,
        "name": name[:300],
        "chatBarText": tab["chat_bar_text"],
        "areas": [
            {"bounds": area["bounds"], "action": line_action(area, set_id=set_id)}
            for area in tab["areas"]
        ],
    }


def validate_areas(
    areas: Any,
    *,
    size: str,
    tab_keys: set[str] | None,
    procedure_keys: set[str],
    faq_ids: set[int],
) -> None:
    """Raise ValidationError unless every area fits the menu and has one valid action.
    ``tab_keys`` None: a tab switch may name a tab not created yet (publishing checks)."""
    if not isinstance(areas, list) or not 1 <= len(areas) <= MAX_AREAS:
        raise ValidationError(_("A menu has 1 to 20 areas."))
    width, height = SIZES[size]
    for number, area in enumerate(areas, start=1):
        _check_bounds(area, number, width, height)
        _check_action(area, number, tab_keys, procedure_keys, faq_ids)


def _check_bounds(area: Any, number: int, width: int, height: int) -> None:
    bounds = area.get("bounds") if isinstance(area, dict) else None
    values = [bounds.get(k) for k in ("x", "y", "width", "height")] if bounds else []
    if len(values) != 4 or not all(isinstance(v, int) and v >= 0 for v in values):
        raise ValidationError(_("Area %(n)s: its position is missing.") % {"n": number})
    x, y, w, h = values
    if w == 0 or h == 0 or x + w > width or y + h > height:
        raise ValidationError(_("Area %(n)s lies outside the menu.") % {"n": number})


def _check_action(
    area: dict,
    number: int,
    tab_keys: set[str] | None,
    procedure_keys: set[str],
    faq_ids: set[int],
) -> None:
    kind, value = area.get("kind"), str(area.get("value") or "")
    invalid = (
        kind not in ACTION_KINDS
        or (kind == "procedure" and value not in procedure_keys)
        or (kind == "uri" and not value.startswith(("https://", "http://", "tel:")))
        or (kind == "text" and not 1 <= len(value) <= 300)
        or (kind == "tab" and not TAB_KEY.match(value))
        or (kind == "tab" and tab_keys is not None and value not in tab_keys)
        or (kind == "spots" and value and value not in LOOKING_FOR)
        or (kind == "faq" and not (value.isdigit() and int(value) in faq_ids))
    )
    if invalid:
        raise ValidationError(_("Area %(n)s: choose what it does.") % {"n": number})
