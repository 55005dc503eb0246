"""Images of broadcasts: uploaded by staff, cleaned, stored, and served publicly for LINE.

LINE fetches an image message's ``originalContentUrl`` (JPEG or PNG, ≤ 10 MB) and
``previewImageUrl`` (JPEG or PNG, ≤ 1 MB, the picture shown in the chat) itself, over
https, without credentials. So these two files are public by design, each under an
unguessable name (a random UUID) in ``broadcast-images/<municipality id>/`` of the
default storage, served by ``broadcast_image`` under ``SITE_URL``.

Nothing else in the storage can be reached that way: the URL pattern admits only a
number and a UUID name with a known ending, and the view builds the path itself. Photos
residents send live under ``uploads/`` and stay private.
"""

import io
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from PIL import Image

from delivery.images import MAX_BYTES, CleanImage, ImageRejected, clean_image
from govtech.models import Municipality, User
from govtech.services import audit_log

IMAGE_DIR = "broadcast-images"
NAME_PATTERN = r"[0-9a-f]{32}(?:-preview)?\.(?:jpg|png)"
URL_PATTERN = rf"^{IMAGE_DIR}/(?P<municipality_id>[0-9]+)/(?P<name>{NAME_PATTERN})$"
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}
PREVIEW_BOX = (240, 2400)  # 240 px wide keeps the chat picture far below LINE's 1 MB
CACHE_SECONDS = 365 * 24 * 60 * 60  # a name is never reused: the file never changes


@dataclass(frozen=True)
class BroadcastImage:
    url: str
    preview_url: str
    width: int
    height: int


def broadcast_image_store(
    *, actor: User | None, municipality: Municipality, data: bytes
) -> BroadcastImage:
    """Check, clean and store an image for broadcasts, with the small version for the chat.

    The image is re-encoded from its pixels (no EXIF, so no GPS position or camera
    serial). Each call stores new files under a fresh random name and never overwrites.
    Raises ImageRejected, with a message for staff, when the file is not a JPEG or PNG
    image or is larger than 10 MB; nothing is stored then. Audited.
    """
    clean = clean_image(data)
    if len(clean.content) > MAX_BYTES:  # re-encoding can grow a heavily compressed JPEG
        raise ImageRejected(_("This image is larger than 10 MB once cleaned; make it smaller."))
    name = uuid.uuid4().hex
    folder = f"{IMAGE_DIR}/{municipality.pk}"
    original = default_storage.save(f"{folder}/{name}{clean.extension}", ContentFile(clean.content))
    preview = default_storage.save(f"{folder}/{name}-preview.jpg", ContentFile(_preview(clean)))
    audit_log(
        actor,
        "delivery.broadcast.image_uploaded",
        municipality,
        {"file": original, "bytes": len(clean.content), "size": [clean.width, clean.height]},
    )
    return BroadcastImage(public_url(original), public_url(preview), clean.width, clean.height)


def _preview(clean: CleanImage) -> bytes:
    """A JPEG at most 240 px wide; transparency is laid on white, as LINE's chat shows it."""
    image: Image.Image = Image.open(io.BytesIO(clean.content))
    image.thumbnail(PREVIEW_BOX)
    if image.mode != "RGB":
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A") if "A" in image.getbands() else None)
        image = background
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=85)
    return output.getvalue()


def public_url(stored_name: str) -> str:
    """The public address of a stored broadcast image (``broadcast-images/<id>/<name>``)."""
    _dir, municipality_id, name = stored_name.split("/")
    path = reverse("broadcast-image", kwargs={"municipality_id": municipality_id, "name": name})
    return f"{settings.SITE_URL}{path}"


def is_own_image_url(link: str) -> bool:
    """True for an address of this installation's broadcast images."""
    return link.startswith(f"{settings.SITE_URL}/{IMAGE_DIR}/")


@require_safe
def broadcast_image(request: HttpRequest, municipality_id: str, name: str) -> FileResponse:
    """A broadcast image for LINE's servers and residents' phones: no login, cached long.

    Only names the URL pattern admits; a missing file is a 404. No database query: the
    file is public by its (unguessable) name alone.
    """
    if not re.fullmatch(NAME_PATTERN, name) or not municipality_id.isdigit():
        raise Http404
    path = f"{IMAGE_DIR}/{int(municipality_id)}/{name}"
    if not default_storage.exists(path):
        raise Http404
    response = FileResponse(
        default_storage.open(path, "rb"), content_type=CONTENT_TYPES[name.rsplit(".", 1)[1]]
    )
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    return response
