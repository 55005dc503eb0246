"""Reads on procedures. Callers run inside a tenant scope."""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from govtech.access import StaffContext
from govtech.models import Municipality
from procedures.diff import Change, document_diff
from procedures.format import FormatError, validate_document
from procedures.models import Procedure, ProcedureVersion, Submission
from procedures.steptypes import binding_problems


def procedure_by_key(*, key: str) -> Procedure | None:
    return Procedure.objects.select_related("live_version").filter(key=key).first()


def submissions_for_reviewer(
    *, staff: StaffContext, submissions: QuerySet[Submission] | None = None
) -> QuerySet[Submission]:
    """The ``submissions`` (default: all in the current scope) a staff member reviews:
    every one for admins and operators, otherwise those of the departments they review
    (every one when no department is assigned to them). A submission's department is its
    procedure's unless a report was routed elsewhere."""
    queryset = Submission.objects.all() if submissions is None else submissions
    if staff.is_operator or staff.is_admin or not staff.reviewer_department_ids:
        return queryset
    return queryset.filter(department__in=staff.reviewer_department_ids)


def live_procedures() -> QuerySet[Procedure]:
    """Procedures residents can start now, with their live version loaded."""
    return Procedure.objects.filter(live_version__isnull=False).select_related("live_version")


def procedure_for_keyword(*, text: str) -> Procedure | None:
    """The live procedure whose trigger keyword the resident typed (exact match, trimmed).

    Keywords come from the live version, not the draft: residents only see what is published.
    Every text a resident sends asks this, so the documents are not read each time: the
    live versions' ids and publishing times (one light query) name a keyword index built
    once from them (a version never changes once published); only a match reads its
    procedure.
    """
    typed = text.strip()
    if not typed:
        return None
    live = tuple(
        live_procedures().values_list("pk", "live_version_id", "live_version__published_at")
    )
    index = _KEYWORD_INDEXES.get(live)
    if index is None:
        index = _keyword_index(live)
    found = index.get(typed)
    if found is None:
        return None
    procedure = live_procedures().filter(pk=found[0], live_version_id=found[1]).first()
    if procedure is None:  # republished or withdrawn meanwhile: read it as it is now
        return _procedure_for_keyword_read(typed)
    return procedure


# Keyword → (procedure id, live version id), by the live versions it was built from. A
# memo, not state: its key is read from the database on every use. The publishing time is
# part of it because a rolled-back id can be given again (SQLite, a test's rollback).
LiveVersions = tuple[tuple[int, int, datetime], ...]
_KEYWORD_INDEXES: dict[LiveVersions, dict[str, tuple[int, int]]] = {}
_KEYWORD_INDEXES_KEPT = 256


def _keyword_index(live: LiveVersions) -> dict[str, tuple[int, int]]:
    """The first live procedure (in ``live_procedures()`` order) of each keyword."""
    versions = ProcedureVersion.objects.filter(pk__in=[version for _p, version, _at in live])
    documents = dict(versions.values_list("pk", "document"))
    index: dict[str, tuple[int, int]] = {}
    for procedure_id, version_id, _published_at in live:
        document = documents.get(version_id) or {}
        for keyword in document.get("triggers", {}).get("keywords", []):
            index.setdefault(keyword.strip(), (procedure_id, version_id))
    if len(_KEYWORD_INDEXES) >= _KEYWORD_INDEXES_KEPT:
        _KEYWORD_INDEXES.clear()
    _KEYWORD_INDEXES[live] = index
    return index


def _procedure_for_keyword_read(typed: str) -> Procedure | None:
    for procedure in live_procedures():
        version = procedure.live_version
        if version is None:  # never: live_procedures() filters on live_version
            continue
        keywords = version.document.get("triggers", {}).get("keywords", [])
        if typed in (keyword.strip() for keyword in keywords):
            return procedure
    return None


def procedure_diff(*, old: ProcedureVersion, new: ProcedureVersion | Procedure) -> list[Change]:
    """Changes from a version to a later version (or to a procedure's current draft)."""
    new_document = new.draft if isinstance(new, Procedure) else new.document
    return document_diff(old.document, new_document)


def procedure_export(*, procedure: Procedure, draft: bool = False) -> dict | None:
    """The portable document: the live version's, or the draft. None when nothing is live."""
    if draft:
        return procedure.draft
    return procedure.live_version.document if procedure.live_version else None


def document_problems(
    *, document: Any, municipality: Municipality | None, include_warnings: bool = False
) -> list[FormatError]:
    """Located problems of ``document`` as ``municipality`` would publish it, in order.

    The format's checks, plus what the step bindings find against the municipality (a
    reservation step whose resource is not one of its active resources). ``None``: a
    catalog template, checked as a portable document (what its steps bind is the
    publisher's and means nothing yet).
    """
    extra = unbound_steps(document=document, municipality=municipality) if municipality else []
    return validate_document(document, include_warnings=include_warnings, extra=extra)


def unbound_steps(*, document: Any, municipality: Municipality) -> list[FormatError]:
    """Steps that do not bind something ``municipality`` has yet (a reservation step
    whose resource is not one of its active resources).

    What a designer must fill in after importing a template made elsewhere (like the
    placeholders without a value): choose this municipality's facility in the builder.
    """
    return binding_problems(document=document, municipality=municipality)
