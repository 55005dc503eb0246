"""Reads for the builder pages. Callers run inside the staff member's tenant scope."""

from __future__ import annotations

from django.db.models import QuerySet

from procedures.models import Procedure, ProcedureVersion


def procedure_for_builder(*, pk: int) -> Procedure | None:
    """The procedure (in the current tenant scope) with its live version and municipality
    loaded (the builder checks reservation steps against the municipality's resources)."""
    return (
        Procedure.objects.select_related("live_version", "department", "municipality")
        .filter(pk=pk)
        .first()
    )


def procedure_versions(*, procedure: Procedure) -> QuerySet[ProcedureVersion]:
    """Every published version, newest first, with who published it."""
    return (
        ProcedureVersion.objects.filter(procedure=procedure)
        .select_related("published_by", "restored_from")
        .order_by("-number")
    )
