"""Rows of the back-office API as plain dicts (what the output serializers render).
Labels are in Japanese as the console shows them (statuses follow the request's
language)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.urls import reverse

from govtech.models import Department
from procedures.casework import workflow
from procedures.casework.answers import answer_rows
from procedures.casework.models import CaseEvent, CaseEventKind
from procedures.engine.steps import localize
from procedures.incidents.models import Report
from procedures.models import Procedure, ProcedureVersion, ResidentUpload, Submission
from procedures.reservations.models import Booking

# Builds an absolute URL from a path (``request.build_absolute_uri``).
Absolute = Callable[[str], str]


def department_row(department: Department | None) -> dict[str, str] | None:
    return {"code": department.code, "name": department.name} if department else None


def procedure_row(procedure: Procedure, *, definition: bool = False) -> dict[str, Any]:
    version = cast(ProcedureVersion, procedure.live_version)  # token_procedures: live only
    row = {
        "key": procedure.key,
        "title": localize(version.document.get("title"), "ja", procedure.key),
        "kind": version.document.get("kind", ""),
        "department": department_row(procedure.department),
        "version": version.number,
        "published_at": version.published_at,
    }
    if definition:
        row["definition"] = version.document
    return row


def submission_url(reference: str, absolute: Absolute) -> str:
    return absolute(reverse("backoffice-submission-detail", args=[reference]))


def submission_row(submission: Submission, absolute: Absolute) -> dict[str, Any]:
    kind = workflow.kind_of(submission)
    return {
        "reference": submission.reference,
        "procedure": submission.procedure.key,
        "version": submission.version.number if submission.version is not None else None,
        "status": submission.status,
        "status_label": workflow.status_label(submission.status, kind),
        "department": department_row(submission.department),
        "channel": submission.channel,
        "submitted_at": submission.submitted_at,
        "last_activity_at": submission.last_activity_at,
        "due_at": submission.due_at,
        "url": submission_url(submission.reference, absolute),
    }


def submission_detail(
    submission: Submission,
    *,
    events: list[CaseEvent],
    uploads: list[ResidentUpload],
    absolute: Absolute,
) -> dict[str, Any]:
    definition = submission.definition
    flow, kind = workflow.workflow_for(submission.procedure), workflow.kind_of(submission)
    return {
        **submission_row(submission, absolute),
        "fee": submission.fee,
        "language": submission.language,
        "resident": {
            "name": submission.resident.display_name,
            "language": submission.resident.language,
        },
        "answers": [
            {
                "id": r.step_id,
                "type": r.step_type,
                "label": r.label,
                "text": r.text,
                "value": r.value,
            }
            for r in answer_rows(definition, submission.answers, lang="ja")
        ],
        "timeline": [timeline_row(event, kind) for event in events],
        "attachments": attachment_rows(submission, uploads, absolute),
        "next_statuses": list(workflow.next_statuses(flow, submission.status, kind)),
    }


def timeline_row(event: CaseEvent, kind: str) -> dict[str, Any]:
    """An event as a back office needs it: what happened and any status move; staff's
    internal notes and messages are not repeated here (their text stays in the console)."""
    data = event.data or {}
    moved = event.kind in (CaseEventKind.STATUS, CaseEventKind.WITHDRAWN)
    return {
        "at": event.created_at,
        "kind": event.kind,
        "label": str(CaseEventKind(event.kind).label),
        "from_status": str(data.get("from", "")) if moved else "",
        "to_status": str(data.get("to", workflow.WITHDRAWN)) if moved else "",
        "reason": str(data.get("reason", "")) if moved else "",
    }


def _answered_steps(answers: dict[str, Any]) -> dict[str, str]:
    """Upload id → the step it answers."""
    return {
        str(value.get("ref")): step
        for step, value in answers.items()
        if isinstance(value, dict) and value.get("ref")
    }


def attachment_rows(
    submission: Submission, uploads: list[ResidentUpload], absolute: Absolute
) -> list[dict[str, Any]]:
    steps = _answered_steps(submission.answers)
    return [
        {
            "id": upload.pk,
            "step": steps.get(str(upload.pk), ""),
            "content_type": upload.content_type,
            "size": upload.size,
            "url": absolute(
                reverse("backoffice-submission-attachment", args=[submission.reference, upload.pk])
            ),
        }
        for upload in uploads
    ]


def booking_row(booking: Booking) -> dict[str, Any]:
    resident = booking.resident
    return {
        "id": booking.pk,
        "resource": {"key": booking.resource.key, "name": booking.resource.name},
        "starts_at": booking.slot.starts_at,
        "ends_at": booking.slot.ends_at,
        "status": booking.status,
        "party_size": booking.party_size,
        "source": booking.source,
        "name": resident.display_name if resident else booking.contact_name,
        "phone": booking.contact_phone,
        "submission": booking.submission.reference if booking.submission is not None else None,
        "created_at": booking.created_at,
        "cancelled_at": booking.cancelled_at,
    }


def report_row(report: Report, absolute: Absolute) -> dict[str, Any]:
    submission, category = report.submission, report.category
    merged = report.merged_into
    return {
        "reference": submission.reference,
        "category": {"key": category.key, "name": category.name} if category else None,
        "status": submission.status,
        "status_label": workflow.status_label(submission.status, workflow.REPORT),
        "latitude": report.latitude,
        "longitude": report.longitude,
        "address": report.address,
        "merged_into": merged.submission.reference if merged is not None else None,
        "created_at": report.created_at,
        "closed_at": report.closed_at,
        "url": submission_url(submission.reference, absolute),
    }
