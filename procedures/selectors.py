"""Reads on procedures. Callers run inside a tenant scope."""

from django.db.models import QuerySet

from procedures.diff import Change, document_diff
from procedures.models import Procedure, ProcedureVersion


def procedure_by_key(*, key: str) -> Procedure | None:
    return Procedure.objects.select_related("live_version").filter(key=key).first()


def live_procedures() -> QuerySet[Procedure]:
    """Procedures residents can start now, with their live version loaded."""
    return Procedure.objects.filter(live_version__isnull=False).select_related("live_version")


def procedure_for_keyword(*, text: str) -> Procedure | None:
    """The live procedure whose trigger keyword the resident typed (exact match, trimmed).

    Keywords come from the live version, not the draft: residents only see what is published.
    """
    typed = text.strip()
    if not typed:
        return None
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
