"""Writes on procedures: drafts, publishing, rollback, import.

Published versions are only ever inserted. Every staff change is audited.
"""

import copy
import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from govtech.models import Department, Municipality, User
from govtech.services import ServiceError, audit_log
from govtech.tenancy import tenant_scope
from procedures.casework.services import case_open, submission_uploads_attach
from procedures.format import FormatError, validate_document
from procedures.incidents.services import report_register, submission_is_report
from procedures.models import (
    Conversation,
    Procedure,
    ProcedureVersion,
    ReferenceCounter,
    ReferenceSeries,
    ResidentUpload,
    Submission,
)
from procedures.residents.models import Resident
from procedures.selectors import document_problems


class DocumentRejected(ServiceError):
    """The document is not a valid procedure; ``errors`` are located FormatErrors."""

    def __init__(self, errors: list[FormatError]) -> None:
        self.errors = errors
        super().__init__("\n".join(error.located() for error in errors))


class DraftConflict(ServiceError):
    """Someone else saved the draft since this editor loaded it."""


def publishable_errors(
    document: dict[str, Any], *, municipality: Municipality | None
) -> list[FormatError]:
    """Everything that stops a document from being published: the format, a step asking
    for a My Number and, for ``municipality``, a reservation step whose resource is not
    one of its active resources. ``None`` only for a catalog template (no municipality).
    """
    return document_problems(document=document, municipality=municipality)


def _check_key(procedure: Procedure, document: dict[str, Any]) -> None:
    if document.get("key") != procedure.key:
        raise ServiceError(
            _('The document key "%(key)s" does not match the procedure "%(expected)s".')
            % {"key": document.get("key"), "expected": procedure.key}
        )


def procedure_create(
    *,
    actor: User | None,
    municipality: Municipality,
    document: dict[str, Any],
    department: Department | None = None,
) -> Procedure:
    """Create a procedure whose draft is ``document`` (which must be valid).

    Raises DocumentRejected with located errors, ServiceError when the key is taken.
    """
    errors = validate_document(document)
    if errors:
        raise DocumentRejected(errors)
    with tenant_scope(municipality):
        if Procedure.objects.filter(key=document["key"]).exists():
            raise ServiceError(
                _('A procedure with the key "%(key)s" already exists.') % {"key": document["key"]}
            )
        procedure = Procedure.objects.create(
            municipality=municipality,
            department=department,
            key=document["key"],
            draft=copy.deepcopy(document),
            draft_updated_by=actor,
        )
    audit_log(actor, "procedures.procedure.created", procedure, {"key": procedure.key})
    return procedure


def procedure_save_draft(
    *, actor: User | None, procedure: Procedure, document: dict[str, Any], expected_revision: int
) -> Procedure:
    """Save a new draft unless someone saved since ``expected_revision`` was loaded.

    The check and the write are one conditional UPDATE, so two simultaneous saves cannot
    both succeed. Raises DraftConflict. The draft may be invalid (work in progress).
    """
    _check_key(procedure, document)
    rows = Procedure.objects.with_scope(municipality=procedure.municipality)
    updated = rows.filter(pk=procedure.pk, draft_revision=expected_revision).update(
        draft=copy.deepcopy(document),
        draft_revision=F("draft_revision") + 1,
        draft_updated_at=timezone.now(),
        draft_updated_by=actor,
    )
    if not updated:
        raise DraftConflict(
            _("Someone else saved this draft after you opened it. Reload to see their changes.")
        )
    procedure.refresh_from_db()
    audit_log(
        actor, "procedures.procedure.draft_saved", procedure, {"revision": procedure.draft_revision}
    )
    return procedure


@transaction.atomic
def procedure_department_change(
    *, actor: User | None, procedure: Procedure, department: Department | None
) -> int:
    """Hand a procedure to another department (a reorganisation, 機構改革): its
    submissions that were the old department's move with it, so the new department's
    reviewers see the whole history and the old one's no longer do. Reports that
    routing sent to some other department stay there. Audited; returns how many moved."""
    stored = Procedure.objects.filter(pk=procedure.pk).values_list("department_id", flat=True)
    old_id = stored.get()  # not procedure.department_id: a form may have set it already
    new_id = department.pk if department is not None else None
    if old_id == new_id:
        return 0
    Procedure.objects.filter(pk=procedure.pk).update(department_id=new_id)
    procedure.department = department
    moved = Submission.objects.filter(procedure=procedure, department_id=old_id).update(
        department_id=new_id
    )
    audit_log(
        actor,
        "procedures.procedure.department_changed",
        procedure,
        {"from": old_id, "to": new_id, "submissions_moved": moved},
    )
    return moved


def _insert_version(
    *,
    actor: User | None,
    procedure: Procedure,
    document: dict[str, Any],
    change_note: str,
    restored_from: ProcedureVersion | None = None,
) -> ProcedureVersion:
    procedures = Procedure.objects.with_scope(municipality=procedure.municipality)
    versions = ProcedureVersion.objects.with_scope(municipality=procedure.municipality)
    # Lock the procedure row: version numbers are taken one publish at a time.
    procedures.select_for_update().filter(pk=procedure.pk).first()
    last = versions.filter(procedure=procedure).aggregate(last=Max("number"))["last"] or 0
    version = versions.create(
        municipality=procedure.municipality,
        procedure=procedure,
        number=last + 1,
        document=copy.deepcopy(document),
        published_by=actor,
        change_note=change_note,
        restored_from=restored_from,
    )
    procedures.filter(pk=procedure.pk).update(live_version=version)
    procedure.live_version = version
    return version


@transaction.atomic
def procedure_publish(
    *, actor: User | None, procedure: Procedure, change_note: str = ""
) -> ProcedureVersion:
    """Freeze the current draft as the next immutable version and make it live.

    Raises DocumentRejected (located errors, including a step asking for a My Number and
    a reservation step whose resource is not an active one of the procedure's
    municipality). Conversations already in progress stay on the version they started with.
    """
    errors = publishable_errors(procedure.draft, municipality=procedure.municipality)
    if errors:
        raise DocumentRejected(errors)
    _check_key(procedure, procedure.draft)
    version = _insert_version(
        actor=actor, procedure=procedure, document=procedure.draft, change_note=change_note
    )
    audit_log(
        actor,
        "procedures.procedure.published",
        procedure,
        {"version": version.number, "note": change_note},
    )
    return version


@transaction.atomic
def procedure_rollback(
    *, actor: User | None, procedure: Procedure, version: ProcedureVersion, change_note: str = ""
) -> ProcedureVersion:
    """Republish an older version's document as a new version (history is never rewritten).

    The draft is left as it is, so work in progress is not lost. Raises DocumentRejected
    when the old version could not be published today (e.g. it books a reservation
    resource since removed or made inactive): residents could not complete it.
    """
    if version.procedure_id != procedure.pk:
        raise ServiceError(_("That version belongs to another procedure."))
    errors = publishable_errors(version.document, municipality=procedure.municipality)
    if errors:
        raise DocumentRejected(errors)
    note = change_note or _("Restored version %(number)s") % {"number": version.number}
    new_version = _insert_version(
        actor=actor,
        procedure=procedure,
        document=version.document,
        change_note=note,
        restored_from=version,
    )
    audit_log(
        actor,
        "procedures.procedure.rolled_back",
        procedure,
        {"version": new_version.number, "restored_from": version.number},
    )
    return new_version


@transaction.atomic
def procedure_unpublish(*, actor: User | None, procedure: Procedure) -> None:
    """Stop new conversations from starting. Ones in progress may still finish."""
    procedures = Procedure.objects.with_scope(municipality=procedure.municipality)
    procedures.filter(pk=procedure.pk).update(live_version=None)
    procedure.live_version = None
    audit_log(actor, "procedures.procedure.unpublished", procedure)


@transaction.atomic
def procedure_import(
    *,
    actor: User | None,
    municipality: Municipality,
    document: dict[str, Any],
    publish: bool = False,
    change_note: str = "",
    department: Department | None = None,
) -> Procedure:
    """Import a portable document: a new procedure, or a new draft of the one with its key.

    All or nothing: on DocumentRejected nothing is created or changed. A draft may book
    a resource the municipality does not have yet; publishing refuses it.
    """
    if publish:
        errors = publishable_errors(document, municipality=municipality)
    else:
        errors = validate_document(document)
    if errors:
        raise DocumentRejected(errors)
    with tenant_scope(municipality):
        procedure = Procedure.objects.filter(key=document["key"]).first()
        if procedure is None:
            procedure = procedure_create(
                actor=actor, municipality=municipality, document=document, department=department
            )
        else:
            procedure = procedure_save_draft(
                actor=actor,
                procedure=procedure,
                document=document,
                expected_revision=procedure.draft_revision,
            )
        if publish:
            procedure_publish(
                actor=actor, procedure=procedure, change_note=change_note or _("Imported")
            )
    audit_log(actor, "procedures.procedure.imported", procedure, {"published": publish})
    return procedure


def _next_reference(municipality: Municipality, now, *, is_test: bool = False) -> str:
    """``DC-2026-000123``: per municipality and (Tokyo) year, gapless, one at a time.

    A designer's test submission gets ``TEST-DC-2026-000001`` from a series of its own.
    The counter row is locked for the rest of the transaction, so two submissions at the
    same instant get different numbers.
    """
    year = timezone.localtime(now).year
    series = ReferenceSeries.TEST if is_test else ReferenceSeries.RESIDENTS
    counters = ReferenceCounter.objects.with_scope(municipality=municipality)
    counter = counters.select_for_update().filter(year=year, series=series).first()
    if counter is None:  # the year's first submission: create the row, then lock it
        try:
            with transaction.atomic():
                counters.get_or_create(municipality=municipality, year=year, series=series)
        except IntegrityError:  # created concurrently by another submission: fine
            pass
        counter = counters.select_for_update().get(year=year, series=series)
    counter.last += 1
    counter.save(update_fields=["last"])
    prefix = f"{series}-" if series else ""
    return f"{prefix}{municipality.submission_prefix}-{year}-{counter.last:06d}"


@transaction.atomic(savepoint=False)
def submission_create(
    *, conversation: Conversation, answers: dict[str, Any], fee: int | None, now
) -> Submission:
    """Store what the resident sent, pinned to the conversation's version.

    Gives it the next reference number and its procedure's department, attaches the
    resident's uploads it refers to, registers a report (routed by category and area) for
    a ``report``-kind procedure and opens its case (revision 1, timeline, due date).
    Called once per conversation (the one-to-one link refuses a second submission).

    All of it or nothing, in the caller's transaction (or one of its own) but without a
    savepoint: an error marks the enclosing block for rollback. A caller that goes on
    after catching one wraps this in an atomic block of its own, as the runtime's
    ``_submit`` does (a refused hold or a failure there stores nothing, the turn goes on).
    """
    municipality = conversation.municipality
    version = conversation.version
    submission = Submission.objects.with_scope(municipality=municipality).create(
        municipality=municipality,
        reference=_next_reference(municipality, now, is_test=conversation.is_test),
        procedure_id=conversation.procedure_id,
        version=version,
        conversation=conversation,
        resident=conversation.resident,
        answers=answers,
        fee=fee,
        language=conversation.language,
        channel=conversation.channel,
        department_id=conversation.procedure.department_id,
        is_test=conversation.is_test,
        last_activity_at=now,
    )
    with tenant_scope(municipality):
        submission_uploads_attach(submission=submission, answers=answers)
        if submission_is_report(submission):
            report_register(submission=submission, now=now)
        case_open(submission=submission, now=now)
    return submission


def resident_upload_store(
    *,
    upload_id: uuid.UUID,
    municipality: Municipality,
    resident: Resident,
    content: bytes,
    content_type: str,
    width: int | None,
    height: int | None,
    extension: str,
) -> ResidentUpload:
    """Store a checked, cleaned file a resident sent. Idempotent on ``upload_id``.

    The transport chooses a stable id (e.g. from LINE's message id), so processing the
    same message twice stores one file.
    """
    uploads = ResidentUpload.objects.with_scope(municipality=municipality)
    existing = uploads.filter(pk=upload_id).first()
    if existing is not None:
        return existing
    upload = ResidentUpload(
        id=upload_id,
        municipality=municipality,
        resident=resident,
        content_type=content_type,
        size=len(content),
        width=width,
        height=height,
        created_at=timezone.now(),
    )
    upload.file.save(f"{upload_id}{extension}", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            upload.save(force_insert=True)
    except IntegrityError:  # stored by a parallel run
        upload.file.delete(save=False)
        return uploads.get(pk=upload_id)
    return upload
