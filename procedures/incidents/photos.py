"""A report's "after" photo: uploaded by staff with a status change, checked like the
photos residents send, sent to the reporter in LINE and shown on the case page.

LINE fetches an image message's ``originalContentUrl`` and ``previewImageUrl`` itself, over
https and without credentials, so the reporter's copy is served by ``after_photo_view``
under an address signed with ``django.core.signing``: it names the photo (never a storage
path), cannot be guessed or altered, and expires after ``SIGNED_URL_DAYS``. Only "after"
photos are served that way; the reporter's own photos stay behind the console.

Files: ``reports/<municipality id>/<random hex>.jpg|png`` and ``…-preview.jpg`` (at most
240 px wide, what the chat shows) in the default storage.
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django_scopes import scopes_disabled
from PIL import Image

from govtech.models import User
from govtech.ratelimit import public_rate_limit
from govtech.services import audit_log
from procedures import engine
from procedures.casework.models import CaseEvent
from procedures.casework.services import case_transition
from procedures.images import MAX_BYTES, CleanImage, ImageRejected, clean_image
from procedures.incidents.models import Report, ReportPhoto, ReportPhotoKind
from procedures.models import Submission

SIGNED_URL_DAYS = 90  # a reporter scrolling back months later still sees the photo
SALT = "procedures.incidents.after-photo"
PREVIEW_BOX = (240, 2400)
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


def after_photo_clean(data: bytes) -> CleanImage:
    """The checks of a resident's photo: JPEG or PNG (WebP becomes JPEG), at most 10 MB
    and a bounded number of pixels, EXIF (GPS position, camera serial) dropped by
    re-encoding from pixels. Raises ImageRejected with a message for staff."""
    clean = clean_image(data)
    if len(clean.content) > MAX_BYTES:
        raise ImageRejected(_("This photo is larger than 10 MB once cleaned; make it smaller."))
    return clean


def _store(report: Report, clean: CleanImage) -> str:
    folder = f"reports/{report.municipality_id}"
    name = uuid.uuid4().hex
    stored = default_storage.save(f"{folder}/{name}{clean.extension}", ContentFile(clean.content))
    default_storage.save(preview_name(stored), ContentFile(_preview(clean)))
    return stored


def preview_name(stored: str) -> str:
    return stored.rsplit(".", 1)[0] + "-preview.jpg"


def _preview(clean: CleanImage) -> bytes:
    image: Image.Image = Image.open(io.BytesIO(clean.content))
    image.thumbnail(PREVIEW_BOX)
    if image.mode != "RGB":
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A") if "A" in image.getbands() else None)
        image = background
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=85)
    return output.getvalue()


def _discard(stored: str) -> None:
    for name in (stored, preview_name(stored)):
        default_storage.delete(name)


def report_transition(
    *,
    actor: User,
    submission: Submission,
    to: str,
    reason: str = "",
    notify: bool = True,
    expected: str | None = None,
    photo: CleanImage | None = None,
    now: datetime | None = None,
) -> CaseEvent:
    """``case_transition`` for a report, with an optional "after" photo: stored as the
    report's ``ReportPhoto`` (kind after, not public), named on the timeline event and sent
    to the reporter after the status message through the outbox (a signed address LINE can
    fetch). The files are written before the transaction and removed again when the
    transition is refused (CaseRefused, as ``case_transition``). Audited."""
    now = now or timezone.now()
    if photo is None:
        return case_transition(
            actor=actor,
            submission=submission,
            to=to,
            reason=reason,
            notify=notify,
            expected=expected,
            now=now,
        )
    report = Report.objects.get(submission_id=submission.pk)
    stored = _store(report, photo)
    try:
        with transaction.atomic():
            after = ReportPhoto.objects.create(
                municipality_id=report.municipality_id,
                report=report,
                kind=ReportPhotoKind.AFTER,
                file=stored,
                content_type=photo.content_type,
                created_at=now,
            )
            event = case_transition(
                actor=actor,
                submission=submission,
                to=to,
                reason=reason,
                notify=notify,
                expected=expected,
                now=now,
                attachments=[after_photo_prompt(after)],
            )
            event.data["after_photo"] = after.pk
            event.save(update_fields=["data"])
            audit_log(
                actor,
                "procedures.report.after_photo_added",
                report,
                {"photo": after.pk, "event": event.pk, "bytes": len(photo.content)},
            )
    except BaseException:
        _discard(stored)
        raise
    return event


# --- the signed address ------------------------------------------------------------------------


def after_photo_prompt(photo: ReportPhoto) -> engine.ImagePrompt:
    return engine.ImagePrompt(
        url=after_photo_url(photo, preview=False),
        preview_url=after_photo_url(photo, preview=True),
        alt=_("Photo after the work"),
    )


def after_photo_url(photo: ReportPhoto, *, preview: bool) -> str:
    """The absolute, signed address of an after photo (or its preview) under SITE_URL."""
    token = signing.TimestampSigner(salt=SALT).sign_object({"p": photo.pk, "v": int(preview)})
    return f"{settings.SITE_URL}{reverse('report-after-photo', args=[token])}"


def _photo_of(token: str) -> tuple[ReportPhoto, bool]:
    try:
        value = signing.TimestampSigner(salt=SALT).unsign_object(
            token, max_age=timedelta(days=SIGNED_URL_DAYS)
        )
    except signing.BadSignature:  # altered, forged or expired: the same as missing
        raise Http404 from None
    # No tenant on this request (LINE's servers fetch it); the signature names the photo.
    with scopes_disabled():
        photo = ReportPhoto.objects.filter(pk=value.get("p"), kind=ReportPhotoKind.AFTER).first()
    if photo is None or not photo.file:
        raise Http404
    return photo, bool(value.get("v"))


@require_safe
@public_rate_limit("report-photos")
def after_photo_view(request: HttpRequest, token: str) -> FileResponse:
    """An after photo for LINE's servers and the reporter's phone: no login, its signed
    address is the key. A bad, altered or expired signature is a 404."""
    photo, preview = _photo_of(token)
    stored = photo.file.name or ""
    name = preview_name(stored) if preview else stored
    if not default_storage.exists(name):
        raise Http404
    extension = name.rsplit(".", 1)[-1]
    response = FileResponse(
        default_storage.open(name, "rb"), content_type=CONTENT_TYPES.get(extension, "image/jpeg")
    )
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
