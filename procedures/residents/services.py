"""Writes on residents: creating them, their attributes, the outbox, export and erasure.

``resident_notify`` is how anything in procedures tells a resident something: it writes
a Notice in the caller's transaction and publishes ``procedures.residents.send_notice``
after commit; a channel registered by another app (LINE in delivery) sends it. No
network call happens here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from govtech.models import Municipality
from govtech.publish import publish_task_on_commit
from govtech.services import audit_log
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.models import ResidentUpload, upload_thumbnail_name
from procedures.residents.models import Notice, NoticeStatus, Resident
from procedures.residents.registry import (
    NoticeSendFailed,
    notice_channels,
    resident_data_contributors,
)
from procedures.residents.signals import resident_attributes_changed

SEND_NOTICE_TASK = "procedures.residents.send_notice"
OFFER_FREED_PLACE_TASK = "procedures.reservations.offer_freed_place"


def resident_create(
    *,
    municipality: Municipality,
    language: str = "ja",
    is_test: bool = False,
    display_name: str = "",
) -> Resident:
    """A new resident of ``municipality`` (a channel links its identity to it), named as
    on that channel when it says (their LINE name)."""
    with tenant_scope(municipality):
        return Resident.objects.create(
            municipality=municipality,
            language=language,
            is_test=is_test,
            display_name=display_name[:100],
        )


def resident_language_set(*, resident: Resident, language: str) -> Resident:
    """Store the language the resident chose (a code of procedures.languages, checked by
    the caller against the municipality's offer). Idempotent; no audit: the resident's
    own setting, not staff's."""
    if resident.language != language:
        resident.language = language
        with tenant_scope(resident.municipality):
            resident.save(update_fields=["language"])
    return resident


def resident_for_handle(
    *,
    municipality: Municipality,
    handle: str,
    language: str = "ja",
    is_test: bool = False,
    display_name: str = "",
) -> Resident:
    """The resident named ``handle`` (e.g. ``terminal:taro``), created once (named
    ``display_name``); idempotent, also when two callers create it at the same time (the
    unique handle)."""
    with tenant_scope(municipality):
        found = Resident.objects.filter(handle=handle).first()
        if found is not None:
            return found
        try:
            with transaction.atomic():
                return Resident.objects.create(
                    municipality=municipality,
                    handle=handle,
                    language=language,
                    is_test=is_test,
                    display_name=display_name[:100],
                )
        except IntegrityError:
            return Resident.objects.get(handle=handle)


def resident_attributes_update(*, resident: Resident, values: dict[str, Any]) -> dict[str, Any]:
    """Merge ``values`` into the resident's attributes under a row lock (two profile
    submissions at once lose nothing). Returns the attributes as stored."""
    with tenant_scope(resident.municipality), transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        locked.attributes = {**locked.attributes, **values}
        locked.save(update_fields=["attributes"])
        transaction.on_commit(
            lambda: resident_attributes_changed.send(sender=Resident, resident=locked)
        )
    resident.attributes = locked.attributes
    return locked.attributes


def resident_attribute_forget(*, resident: Resident, key: str) -> dict[str, Any]:
    """Remove ``key`` from the resident's attributes under a row lock (an option they
    held was removed by staff). Returns the attributes as stored; like an update, it is
    announced after commit (the resident may leave a segment and its rich menu)."""
    with tenant_scope(resident.municipality), transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        locked.attributes = {k: v for k, v in locked.attributes.items() if k != key}
        locked.save(update_fields=["attributes"])
        transaction.on_commit(
            lambda: resident_attributes_changed.send(sender=Resident, resident=locked)
        )
    resident.attributes = locked.attributes
    return locked.attributes


# --- the outbox -----------------------------------------------------------------------------


def resident_notify(
    *, resident: Resident, prompts: Sequence[engine.Prompt], once_key: str
) -> Notice | None:
    """Tell ``resident`` the ``prompts`` (already in their language), once per ``once_key``.

    Writes the Notice inside the caller's transaction and publishes the send task after
    commit, so a rolled-back caller tells nobody. A second call with the same key (a task
    that runs twice) finds the row and publishes nothing. None when there is nothing to say.
    """
    if not prompts:
        return None
    with tenant_scope(resident.municipality):
        try:
            with transaction.atomic():
                notice = Notice.objects.create(
                    municipality=resident.municipality,
                    resident=resident,
                    once_key=once_key,
                    prompts=[prompt.to_dict() for prompt in prompts],
                )
        except IntegrityError:  # the same notice was written before
            return Notice.objects.get(once_key=once_key)
    publish_task_on_commit(SEND_NOTICE_TASK, notice.pk, municipality_id=notice.municipality_id)
    return notice


def _claim(notice_id: int) -> Notice | None:
    """Take a pending notice for this attempt; None when sent, failed or taken meanwhile."""
    notice = Notice.objects.filter(pk=notice_id, status=NoticeStatus.PENDING).first()
    if notice is None:
        return None
    taken = Notice.objects.filter(
        pk=notice.pk, status=NoticeStatus.PENDING, attempts=notice.attempts
    ).update(attempts=notice.attempts + 1)
    if not taken:
        return None
    notice.attempts += 1
    return notice


def _finish(notice: Notice, status: str, *, channel: str = "", error: str = "") -> None:
    notice.status, notice.channel, notice.error = status, channel, error[:2000]
    notice.sent_at = timezone.now() if status == NoticeStatus.SENT else None
    notice.save(update_fields=["status", "channel", "error", "sent_at"])


def notice_send(*, notice_id: int, final_attempt: bool = True) -> str:
    """Send one notice through the first channel that reaches its resident (inside the
    tenant scope, outside any transaction: channels call the network).

    Claimed with a conditional update, so two runs at once send once; a channel sends
    with the notice's retry key, so a run after a crash does not deliver twice. A
    transient failure leaves the row pending (error recorded) and raises NoticeSendFailed
    for the caller to retry, unless ``final_attempt``: then, like any permanent failure,
    it is recorded as failed. Returns the notice's status (or ``claimed-elsewhere``).
    """
    notice = _claim(notice_id)
    if notice is None:
        return "claimed-elsewhere"
    resident = notice.resident
    channel = next((c for c in notice_channels() if c.reaches(resident)), None)
    if channel is None:
        _finish(notice, NoticeStatus.UNREACHABLE)
        return notice.status
    try:
        channel.send(notice)
    except NoticeSendFailed as exc:
        if exc.retryable and not final_attempt:
            _finish(notice, NoticeStatus.PENDING, channel=channel.name, error=str(exc))
            raise
        _finish(notice, NoticeStatus.FAILED, channel=channel.name, error=str(exc))
        return notice.status
    _finish(notice, NoticeStatus.SENT, channel=channel.name)
    return notice.status


# --- export and erasure ---------------------------------------------------------------------


# What an export holds of each kind of row: the resident's related manager and fields.
EXPORTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "conversations": (
        "conversations",
        ("id", "procedure__key", "status", "state", "language", "started_at", "updated_at"),
    ),
    "submissions": (
        "submissions",
        ("reference", "procedure__key", "answers", "fee", "status", "submitted_at"),
    ),
    "uploads": ("uploads", ("id", "content_type", "size", "created_at")),
    "bookings": (
        "bookings",
        ("id", "resource__key", "slot__starts_at", "party_size", "status", "created_at"),
    ),
    "waitlist": (
        "waitlist_entries",
        ("id", "slot__starts_at", "party_size", "status", "created_at"),
    ),
    "notices": ("notices", ("once_key", "prompts", "status", "sent_at")),
}
RESIDENT_FIELDS = ("id", "language", "attributes", "consents", "is_test", "created_at")


def _json_safe(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value) if isinstance(value, uuid.UUID) else value


def _rows(queryset, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{k: _json_safe(v) for k, v in row.items()} for row in queryset.values(*fields)]


def resident_export(*, actor, resident: Resident) -> dict[str, Any]:
    """Everything kept about one resident, JSON-safe: their record, conversations,
    submissions, uploads, bookings, waitlist entries and notices, and what each
    registered contributor (e.g. delivery's LINE identities) keeps. Audited."""
    with tenant_scope(resident.municipality):
        [record] = _rows(Resident.objects.filter(pk=resident.pk), RESIDENT_FIELDS)
        data: dict[str, Any] = {"resident": record}
        for key, (related, fields) in EXPORTED.items():
            data[key] = _rows(getattr(resident, related).all(), fields)
        for contributor in resident_data_contributors():
            data[contributor.name] = contributor.export(resident)
    audit_log(actor, "procedures.resident.exported", resident, {})
    return data


def _delete_files(names: list[str]) -> None:
    storage = ResidentUpload.file.field.storage
    for name in names:
        storage.delete(name)


def resident_erase(*, actor, resident: Resident) -> dict[str, int]:
    """Delete everything about one resident in one transaction: each contributor's part
    first (e.g. delivery's LINE identities and messages), then the resident with their
    conversations, submissions and uploaded files, bookings, waitlist entries and
    notices. Places they held are released by the deletion and offered to the waitlist
    after commit; the files (with their staff thumbnails) are removed after commit. Returns
    rows per kind. Audited (the audit entry keeps the resident's id only)."""
    counts: dict[str, int] = {}
    with tenant_scope(resident.municipality), transaction.atomic():
        for contributor in resident_data_contributors():
            counts[contributor.name] = contributor.erase(resident)
        stored = [upload.file.name for upload in resident.uploads.all() if upload.file.name]
        files = stored + [upload_thumbnail_name(name) for name in stored]  # staff thumbnails
        freed = set(resident.bookings.filter(status="confirmed").values_list("slot_id", flat=True))
        _total, per_model = Resident.objects.filter(pk=resident.pk).delete()
        counts.update(per_model)
        transaction.on_commit(lambda: _delete_files(files))
        for slot_id in sorted(freed):
            publish_task_on_commit(
                OFFER_FREED_PLACE_TASK, slot_id, municipality_id=resident.municipality_id
            )
    audit_log(
        actor,
        "procedures.resident.erased",
        data={"resident": resident.pk, **counts},
        municipality=resident.municipality,
    )
    return counts
