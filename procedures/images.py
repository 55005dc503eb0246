"""Photos residents and staff send: checked, re-encoded, stripped of EXIF (including GPS)."""

import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
# The longest edge a stored photo keeps: plenty to see a pothole or read a sign, and LINE
# shows nothing larger on a phone.
MAX_EDGE = 2048
# What may be decoded at all, read from the header before any pixel is. A JPEG decodes
# at 1/2, 1/4 or 1/8 scale (draft mode), so even a 200-megapixel phone photo costs
# about 40 MB; PNG and WebP decode at full size (4 bytes a pixel), so they are held to
# 12 megapixels (a phone screenshot is about 4). A 236 KB 9000×9000 PNG once cost a
# worker 310 MB before it was refused.
MAX_PIXELS = {"JPEG": 200_000_000, "PNG": 12_000_000, "WEBP": 12_000_000}
# Pillow's own guard (warning above, error at twice this) is set to the same ceiling.
Image.MAX_IMAGE_PIXELS = max(MAX_PIXELS.values())
ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/jpeg"}


class ImageRejected(Exception):
    """Not an image we accept; the message can be shown to the resident."""


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    content_type: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return ".png" if self.content_type == "image/png" else ".jpg"


def _open(data: bytes, max_edge: int) -> Image.Image:
    """Decode ``data`` after checking its header: format, then dimensions, then pixels."""
    image = _header(data)
    if image.format not in ACCEPTED:
        raise ImageRejected(_("Please send a JPEG or PNG photo."))
    if image.width * image.height > MAX_PIXELS[image.format]:
        raise ImageRejected(
            _("This photo is too large (%(width)d × %(height)d pixels). Please send a smaller one.")
            % {"width": image.width, "height": image.height}
        )
    if image.format == "JPEG":
        image.draft("RGB", (max_edge, max_edge))  # decode at the smallest scale that suffices
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image.load()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError, OSError) as exc:
            raise ImageRejected(_("This file is not a photo we can accept.")) from exc
    return image


def _header(data: bytes) -> Image.Image:
    """Open lazily: Pillow reads the header, not the pixels."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data))
        except (
            UnidentifiedImageError,
            Image.DecompressionBombWarning,
            Image.DecompressionBombError,
            OSError,
        ) as exc:
            raise ImageRejected(_("This file is not a photo we can accept.")) from exc


def clean_image(data: bytes, *, max_edge: int = MAX_EDGE) -> CleanImage:
    """Check size and real type, apply the EXIF rotation, shrink, re-encode without metadata.

    Dimensions are checked from the header before decoding, so memory per call is bounded
    (about 50 MB for the largest image accepted). Re-encoding from pixels drops EXIF (GPS
    position, camera serial), XMP and comments. The longest edge is at most ``max_edge``.
    """
    if len(data) > MAX_BYTES:
        raise ImageRejected(_("This photo is larger than 10 MB."))
    image = _open(data, max_edge)
    content_type = ACCEPTED[str(image.format)]  # _open accepted nothing else
    keeps_alpha = content_type == "image/png" and (
        "A" in image.getbands() or "transparency" in image.info
    )
    if image.mode not in ("RGB", "RGBA", "L", "LA"):  # palette, CMYK…: resample in colour
        image = image.convert("RGBA" if keeps_alpha else "RGB")
    # Shrink first, so the copies made below are of the small image.
    image.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
    image = ImageOps.exif_transpose(image).convert("RGBA" if keeps_alpha else "RGB")
    # A new image from raw pixels carries no metadata at all.
    pixels = Image.frombytes(image.mode, image.size, image.tobytes())
    output = io.BytesIO()
    if content_type == "image/png":
        pixels.save(output, format="PNG", optimize=True)
    else:
        pixels.save(output, format="JPEG", quality=88, optimize=True)
    return CleanImage(output.getvalue(), content_type, pixels.width, pixels.height)
