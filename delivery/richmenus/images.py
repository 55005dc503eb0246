"""Rich menu images: an upload checked against LINE's rules, or one drawn with Pillow from
the areas' labels and a simple icon per kind of action, in a Japanese font.

LINE takes a JPEG or PNG of at most 1 MB whose size is the menu's (Messaging API
reference, "Upload rich menu image").
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from delivery.richmenus.layouts import SIZES

MAX_BYTES = 1024 * 1024
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
FONT_PATH = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"
BACKGROUND = (246, 248, 250)
TILE = (255, 255, 255)
ACCENT = {
    "procedure": (6, 199, 85),
    "uri": (37, 99, 235),
    "text": (100, 116, 139),
    "tab": (15, 23, 42),
    "applications": (234, 88, 12),
    "spots": (14, 165, 233),
    "faq": (147, 51, 234),
}
DISASTER_ACCENT = (220, 38, 38)


class MenuImageRejected(Exception):
    """An uploaded image LINE would refuse; the message says why, for staff."""


def menu_image_check(data: bytes, *, size: str) -> str:
    """The content type of an upload LINE accepts for a menu of ``size``.
    Raises MenuImageRejected."""
    if len(data) > MAX_BYTES:
        raise MenuImageRejected(_("The image is larger than 1 MB."))
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, dimensions = image.format, image.size
    except (UnidentifiedImageError, OSError):
        raise MenuImageRejected(_("The file is not a JPEG or PNG image.")) from None
    if kind not in FORMATS:
        raise MenuImageRejected(_("The file is not a JPEG or PNG image."))
    if dimensions != SIZES[size]:
        width, height = SIZES[size]
        raise MenuImageRejected(
            _("The image must be %(width)s × %(height)s pixels for this size.")
            % {"width": width, "height": height}
        )
    return FORMATS[kind]


def _font(pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(getattr(settings, "RICH_MENU_FONT", FONT_PATH), pixels)


def menu_image_draw(
    *, size: str, areas: list[dict[str, Any]], current_tab: str = "", disaster: bool = False
) -> bytes:
    """A PNG of the menu: a tile per area with its icon and label. A tab area pointing at
    ``current_tab`` is drawn selected. At most 1 MB (flat colours compress well)."""
    width, height = SIZES[size]
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for area in areas:
        _tile(
            draw,
            area,
            current=area.get("kind") == "tab" and area.get("value") == current_tab,
            disaster=disaster,
        )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _tile(
    draw: ImageDraw.ImageDraw, area: dict[str, Any], *, current: bool, disaster: bool
) -> None:
    b = area["bounds"]
    box = (b["x"] + 6, b["y"] + 6, b["x"] + b["width"] - 6, b["y"] + b["height"] - 6)
    colour = DISASTER_ACCENT if disaster else ACCENT.get(area.get("kind", ""), ACCENT["text"])
    if area.get("kind") == "tab":
        fill, ink = (colour, (255, 255, 255)) if current else ((226, 232, 240), (51, 65, 85))
        draw.rectangle(box, fill=fill)
        _label(draw, box, str(area.get("label") or ""), ink, scale=0.42)
        return
    draw.rounded_rectangle(box, radius=28, fill=TILE, outline=(203, 213, 225), width=4)
    icon_box = _icon_box(box)
    _icon(draw, area.get("kind", ""), icon_box, colour)
    text_box = (box[0], icon_box[3], box[2], box[3])
    _label(draw, text_box, str(area.get("label") or ""), (30, 41, 59), scale=0.28)


def _icon_box(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    height = box[3] - box[1]
    side = int(min(box[2] - box[0], height) * 0.38)
    cx, top = (box[0] + box[2]) // 2, box[1] + int(height * 0.14)
    return (cx - side // 2, top, cx + side // 2, top + side)


def _icon(draw: ImageDraw.ImageDraw, kind: str, box: tuple[int, int, int, int], colour) -> None:
    """A simple pictogram per kind of action, drawn from shapes (no icon files)."""
    x0, y0, x1, y1 = box
    w = x1 - x0
    line = max(6, w // 14)
    if kind == "procedure":  # a form: a sheet with lines
        draw.rounded_rectangle(box, radius=w // 10, outline=colour, width=line)
        for i in range(1, 4):
            y = y0 + i * (y1 - y0) // 4
            draw.line((x0 + w // 5, y, x1 - w // 5, y), fill=colour, width=line)
    elif kind == "uri":  # a globe
        draw.ellipse(box, outline=colour, width=line)
        draw.ellipse((x0 + w // 4, y0, x1 - w // 4, y1), outline=colour, width=line)
        draw.line((x0, (y0 + y1) // 2, x1, (y0 + y1) // 2), fill=colour, width=line)
    elif kind == "spots":  # a map pin
        draw.ellipse((x0 + w // 5, y0, x1 - w // 5, y0 + 3 * w // 5), outline=colour, width=line)
        draw.polygon(
            [(x0 + w // 4, y0 + w // 2), (x1 - w // 4, y0 + w // 2), ((x0 + x1) // 2, y1)],
            fill=colour,
        )
    elif kind == "faq":  # a speech bubble with a question mark
        draw.rounded_rectangle((x0, y0, x1, y1 - w // 5), radius=w // 5, outline=colour, width=line)
        _label(draw, (x0, y0, x1, y1 - w // 5), "?", colour, scale=0.6)
    elif kind == "applications":  # a clipboard with a tick
        draw.rounded_rectangle(box, radius=w // 10, outline=colour, width=line)
        draw.line(
            [
                (x0 + w // 4, y0 + w // 2),
                (x0 + w // 2 - w // 12, y1 - w // 4),
                (x1 - w // 5, y0 + w // 4),
            ],
            fill=colour,
            width=line,
        )
    else:  # text: a bubble
        draw.rounded_rectangle((x0, y0 + w // 8, x1, y1 - w // 8), radius=w // 4, fill=colour)


def _label(draw, box, text: str, ink, *, scale: float) -> None:
    """``text`` centred in ``box``, shrunk until it fits on one line."""
    if not text:
        return
    width, height = box[2] - box[0], box[3] - box[1]
    pixels = max(24, int(height * scale))
    font = _font(pixels)
    while pixels > 24 and draw.textlength(text, font=font) > width * 0.9:
        pixels -= 4
        font = _font(pixels)
    draw.text(
        ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), text, font=font, fill=ink, anchor="mm"
    )
