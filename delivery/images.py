"""Photos residents send: checked, re-encoded, stripped of EXIF (including GPS)."""

import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # larger than any phone photo; stops decompression bombs
ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/jpeg", "HEIF": "image/jpeg"}


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


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (
            UnidentifiedImageError,
            Image.DecompressionBombWarning,
            Image.DecompressionBombError,
            OSError,
        ) as exc:
            raise ImageRejected(_("This file is not a photo we can accept.")) from exc
    if image.format not in ACCEPTED:
        raise ImageRejected(_("Please send a JPEG or PNG photo."))
    if image.width * image.height > MAX_PIXELS:
        raise ImageRejected(_("This photo is too large."))
    return image


def clean_image(data: bytes) -> CleanImage:
    """Check size and real type, apply the EXIF rotation, and re-encode without metadata.

    Re-encoding from pixels drops EXIF (GPS position, camera serial), XMP and comments.
    """
    if len(data) > MAX_BYTES:
        raise ImageRejected(_("This photo is larger than 10 MB."))
    image = _open(data)
    content_type = ACCEPTED[image.format]
    image = ImageOps.exif_transpose(image)
    keeps_alpha = content_type == "image/png" and (
        "A" in image.getbands() or "transparency" in image.info
    )
    image = image.convert("RGBA" if keeps_alpha else "RGB")
    # A new image from raw pixels carries no metadata at all.
    pixels = Image.frombytes(image.mode, image.size, image.tobytes())
    output = io.BytesIO()
    if content_type == "image/png":
        pixels.save(output, format="PNG", optimize=True)
    else:
        pixels.save(output, format="JPEG", quality=88, optimize=True)
    return CleanImage(output.getvalue(), content_type, pixels.width, pixels.height)
