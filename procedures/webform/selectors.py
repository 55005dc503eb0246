"""Reads for the web form: live procedures by key, a resident's conversation and
submissions of one procedure. Called inside the municipality's tenant scope."""

from __future__ import annotations

from procedures.models import Conversation, Procedure, Submission
from procedures.residents.models import Resident
from procedures.selectors import live_procedures


def live_procedure(*, key: str) -> Procedure | None:
    """The procedure residents can start under ``key`` (published, not withdrawn)."""
    return live_procedures().filter(key=key).first()


def web_conversation(*, resident: Resident, procedure: Procedure) -> Conversation | None:
    """The resident's latest conversation of the procedure (open or just finished)."""
    return (
        Conversation.objects.filter(resident=resident, procedure=procedure, is_test=False)
        .select_related("version")
        .order_by("-updated_at", "-pk")
        .first()
    )


def latest_submission(*, resident: Resident, procedure: Procedure) -> Submission | None:
    return (
        Submission.objects.filter(resident=resident, procedure=procedure, is_test=False)
        .select_related("version", "conversation")
        .order_by("-submitted_at", "-pk")
        .first()
    )


def status_submission(*, submission_id: int) -> Submission | None:
    return (
        Submission.objects.filter(pk=submission_id, is_test=False)
        .select_related("procedure", "version")
        .first()
    )
