"""Reads for the builder pages. Callers run inside the staff member's tenant scope."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db.models import QuerySet

from delivery.models import LineChannel
from govtech.models import Municipality, User
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


def simulator_channel_for(*, municipality: Municipality) -> LineChannel | None:
    """The municipality's LINE channel that the local simulator serves, if any.

    None where the simulator is off (production): Try it needs it.
    """
    if not settings.SIMULATOR_ENABLED:
        return None
    from delivery.simulator.selectors import channel_by_id

    channels = LineChannel.objects.filter(municipality=municipality).order_by("pk")
    return next((c for c in channels if channel_by_id(channel_id=c.channel_id)), None)


def trial_line_user_id(*, user: User) -> str:
    """A stable LINE user ID (``U`` + 32 hex) for a staff member's test resident."""
    digest = hashlib.sha256(f"govtech-builder-test:{user.pk}".encode()).hexdigest()
    return "U" + digest[:32]
