"""What residents sent that is not text: their photos and the places they shared.

Photos (``ResidentUpload``; an ``image`` answer's ``ref`` is the upload's id) are personal
data and never public: no URL serves the storage's ``uploads/`` folder. Staff see them
through the two views below, mounted by ``SubmissionAdmin.get_urls`` inside the console's
``admin_view`` (login, staff, never cached) as ``admin:procedures_submission_photo`` and
``admin:procedures_submission_photo_thumb``:

- another municipality's submission, or an upload not attached to this one, is a 404 like a
  missing one; a role that does not review submissions is a 403; a reviewer limited to
  other departments gets a 404 (``submissions_for_reviewer``);
- every view, full size or thumbnail, is written to the audit log;
- a thumbnail (JPEG, longest edge 320 px) is made once and kept in the storage beside the
  original (``upload_thumbnail_name``), so erasing the resident removes it too.

``submission_photos`` and ``submission_locations`` turn a submission's answers into what
``templates/casework/_photos.html`` and ``_map.html`` show; ``map_context`` adds the tile
settings (``MAP_TILE_URL`` empty: no map, the address and coordinates as text only).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.http import FileResponse, Http404, HttpRequest
from django.templatetags.static import static
from django.urls import URLPattern, path, reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_safe
from PIL import Image, UnidentifiedImageError

from govtech.access import staff_context
from govtech.maps import map_link
from govtech.models import User
from govtech.services import audit_log
from procedures.casework.selectors import REVIEW_ROLES
from procedures.engine.steps import localize
from procedures.models import ResidentUpload, Submission, upload_thumbnail_name
from procedures.selectors import submissions_for_reviewer

THUMB_EDGE = 320
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})  # what delivery/images.py stores
VIEWED = "procedures.submission.photo_viewed"


def media_urls(admin_view: Callable) -> list[URLPattern]:
    """The photo views, to mount under ``/admin/procedures/submission/`` with the console's
    ``admin_view``; names ``admin:procedures_submission_photo`` and ``…_photo_thumb``."""
    return [
        path(
            "<int:pk>/photos/<uuid:upload_id>/",
            admin_view(photo_full),
            name="procedures_submission_photo",
        ),
        path(
            "<int:pk>/photos/<uuid:upload_id>/thumb/",
            admin_view(photo_thumb),
            name="procedures_submission_photo_thumb",
        ),
    ]


# --- views -----------------------------------------------------------------------------


@require_safe
def photo_full(request: HttpRequest, pk: int, upload_id: uuid.UUID) -> FileResponse:
    """The photo as the resident sent it (already cleaned of EXIF when it was stored)."""
    submission, upload = _reviewed_upload(request, pk, upload_id)
    storage, name = upload.file.storage, upload.file.name or ""
    if not storage.exists(name):
        raise Http404
    _audit(request, submission, upload, "full")
    content_type = upload.content_type if upload.content_type in IMAGE_TYPES else ""
    return _private_image(
        storage.open(name, "rb"),
        content_type or "application/octet-stream",
        f"{submission.reference}-{upload.pk}{_extension(name)}",
    )


@require_safe
def photo_thumb(request: HttpRequest, pk: int, upload_id: uuid.UUID) -> FileResponse:
    """A JPEG of at most 320 px a side, made on the first view and kept in the storage."""
    submission, upload = _reviewed_upload(request, pk, upload_id)
    storage = upload.file.storage
    name = upload_thumbnail(upload)
    _audit(request, submission, upload, "thumb")
    return _private_image(
        storage.open(name, "rb"), "image/jpeg", f"{submission.reference}-{upload.pk}-thumb.jpg"
    )


def _reviewed_upload(
    request: HttpRequest, pk: int, upload_id: uuid.UUID
) -> tuple[Submission, ResidentUpload]:
    """The submission and its upload, for a staff member who reviews it.

    The submission is looked up in the request's tenant scope first, so every role of
    another municipality gets the same 404 as for a missing one; then the role (403);
    then the reviewer's departments and the upload's attachment (404 again).
    """
    submissions = Submission.objects.filter(pk=pk)
    if not submissions.exists():
        raise Http404
    staff = staff_context(request)
    if not staff.has_any(REVIEW_ROLES):
        raise PermissionDenied
    submission = submissions_for_reviewer(staff=staff, submissions=submissions).first()
    if submission is None:
        raise Http404
    upload = ResidentUpload.objects.filter(pk=upload_id, submission=submission).first()
    if upload is None or not upload.file:
        raise Http404
    return submission, upload


def _audit(request: HttpRequest, submission: Submission, upload: ResidentUpload, size: str) -> None:
    actor = cast(User, request.user)  # admin_view let no anonymous visitor through
    audit_log(actor, VIEWED, submission, {"upload": str(upload.pk), "size": size}, request=request)


def _private_image(file: File, content_type: str, filename: str) -> FileResponse:
    response = FileResponse(file, content_type=content_type, filename=filename)
    # A resident's photo: no shared or browser cache may keep it (admin_view adds more).
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _extension(name: str) -> str:
    return "." + name.rsplit(".", 1)[1] if "." in name.rsplit("/", 1)[-1] else ""


# --- thumbnails --------------------------------------------------------------------------


def upload_thumbnail(upload: ResidentUpload) -> str:
    """The storage name of the upload's thumbnail, made from the original on first use.

    Idempotent: a second call reads nothing but the storage's listing. Two first views at
    once may both make it; the one that lost the race removes its copy. Raises Http404
    when the original is gone or cannot be decoded.
    """
    storage, original = upload.file.storage, upload.file.name or ""
    name = upload_thumbnail_name(original)
    if storage.exists(name):
        return name
    if not storage.exists(original):
        raise Http404
    with storage.open(original, "rb") as source:
        content = _thumbnail_bytes(source.read())
    _save_once(storage, name, content)
    return name


def _thumbnail_bytes(data: bytes) -> bytes:
    """A JPEG whose longest edge is at most THUMB_EDGE; transparency laid on white."""
    try:
        image: Image.Image = Image.open(io.BytesIO(data))
        if image.format == "JPEG":
            image.draft("RGB", (THUMB_EDGE, THUMB_EDGE))  # decode at a reduced scale
        image.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
        raise Http404 from exc
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        image = background
    output = io.BytesIO()
    image.convert("RGB").save(output, format="JPEG", quality=80)
    return output.getvalue()


def _save_once(storage: Storage, name: str, content: bytes) -> None:
    saved = storage.save(name, ContentFile(content))
    if saved != name:  # made by a parallel view meanwhile; keep one file under the known name
        storage.delete(saved)


# --- what the templates show -----------------------------------------------------------------


@dataclass(frozen=True)
class PhotoLink:
    """One photo of a submission for templates/casework/_photos.html."""

    label: str
    full_url: str
    thumb_url: str


def photo_link(submission: Submission, upload_id: uuid.UUID | str, label: str = "") -> PhotoLink:
    args = [submission.pk, str(upload_id)]
    return PhotoLink(
        label=label,
        full_url=reverse("admin:procedures_submission_photo", args=args),
        thumb_url=reverse("admin:procedures_submission_photo_thumb", args=args),
    )


def submission_photos(submission: Submission) -> list[PhotoLink]:
    """The photos the submission's ``image`` answers refer to, in step order, labelled with
    the step's label; a reference to no upload attached to this submission is left out."""
    refs = [(step, _upload_ref(value)) for step, value in _answers_of(submission, "image")]
    wanted = {ref for _step, ref in refs if ref is not None}
    attached = set(submission.uploads.filter(pk__in=wanted).values_list("pk", flat=True))
    return [photo_link(submission, ref, _label(step)) for step, ref in refs if ref in attached]


@dataclass(frozen=True)
class MapPoint:
    """A place for templates/casework/_map.html; coordinates are None for a typed address."""

    label: str
    address: str = ""
    lat: float | None = None
    lon: float | None = None

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def coordinates(self) -> str:
        return f"{self.lat:.6f}, {self.lon:.6f}" if self.has_coordinates else ""

    @property
    def link(self) -> str:
        """「地図で見る」: only where maps are on (a tile URL) and a link is configured."""
        if self.lat is None or self.lon is None or not settings.MAP_TILE_URL:
            return ""
        return map_link(self.lat, self.lon)


def submission_locations(submission: Submission) -> list[MapPoint]:
    """The places of the submission's ``location`` answers, in step order."""
    return [
        MapPoint(
            label=_label(step),
            address=str(value.get("address") or value.get("title") or ""),
            lat=_coordinate(value.get("latitude")),
            lon=_coordinate(value.get("longitude")),
        )
        for step, value in _answers_of(submission, "location")
        if isinstance(value, dict)
    ]


def map_context(points: Iterable[MapPoint], *, map_id: str = "casework-map") -> dict[str, Any]:
    """The ``map`` that templates/casework/_map.html reads: the points as text, and the
    configuration map.js draws from (None when no tile URL is set: no map is drawn)."""
    points = list(points)
    drawn = [p for p in points if p.has_coordinates]
    config = None
    if settings.MAP_TILE_URL and drawn:
        config = {
            "tiles": {
                "url": settings.MAP_TILE_URL,
                "attribution": settings.MAP_TILE_ATTRIBUTION,
                "maxZoom": settings.MAP_TILE_MAX_ZOOM,
            },
            "points": [{"lat": p.lat, "lon": p.lon, "label": p.address or p.label} for p in drawn],
            "icon": {
                "url": static("vendor/leaflet/images/marker-icon.png"),
                "retinaUrl": static("vendor/leaflet/images/marker-icon-2x.png"),
                "shadowUrl": static("vendor/leaflet/images/marker-shadow.png"),
            },
        }
    return {"id": map_id, "config_id": f"{map_id}-config", "points": points, "config": config}


def _answers_of(submission: Submission, step_type: str) -> list[tuple[dict, Any]]:
    steps = submission.definition.get("steps", [])
    return [
        (step, submission.answers[step["id"]])
        for step in steps
        if step.get("type") == step_type and step.get("id") in submission.answers
    ]


def _label(step: dict) -> str:
    return localize(step.get("label") or step.get("prompt"), get_language() or "ja", step["id"])


def _upload_ref(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value.get("ref"))) if isinstance(value, dict) else None
    except ValueError:
        return None


def _coordinate(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
