"""The OpenAPI description of each back-office endpoint (``extend_schema`` arguments):
request and response schemas with examples, and the errors every endpoint may answer.
Kept apart from the views so that the views read as code."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from reports.backoffice.serializers import (
    BookingPageSerializer,
    BookingQuerySerializer,
    ErrorSerializer,
    ProcedureDetailSerializer,
    ProcedureListSerializer,
    ReportPageSerializer,
    ReportQuerySerializer,
    StatusChangedSerializer,
    StatusChangeSerializer,
    SubmissionDetailSerializer,
    SubmissionPageSerializer,
    SubmissionQuerySerializer,
)

TAG = "back office"
BASE = "https://govtech.example.lg.jp/api/v1"


def _error(name: str, detail: str, code: str) -> OpenApiExample:
    return OpenApiExample(name, value={"detail": detail, "code": code}, response_only=True)


UNAUTHORIZED = OpenApiResponse(
    ErrorSerializer,
    description="No token, or an unknown, revoked or expired one.",
    examples=[
        _error("Expired token", "The token has expired.", "token_expired"),
        _error("Revoked token", "The token has been revoked.", "token_revoked"),
    ],
)
NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="Missing, or not reachable by this token (another department).",
    examples=[_error("Not found", "Not found.", "not_found")],
)
THROTTLED = OpenApiResponse(
    ErrorSerializer,
    description="Too many requests for this token; retry after the Retry-After header.",
    examples=[
        _error("Throttled", "Request was throttled. Expected available in 12 seconds.", "throttled")
    ],
)
BAD_QUERY = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="A filter is malformed (field name → messages).",
    examples=[
        OpenApiExample(
            "Bad date", value={"submitted_from": ["Date has wrong format."]}, response_only=True
        )
    ],
)


def _ok(serializer: type, description: str, example: dict[str, Any]) -> OpenApiResponse:
    return OpenApiResponse(
        serializer,
        description=description,
        examples=[OpenApiExample("Example", value=example, response_only=True)],
    )


DEPARTMENT = {"code": "kankyo", "name": "環境課"}
PROCEDURE = {
    "key": "bulky-waste",
    "title": "粗大ごみ収集の申込",
    "kind": "application",
    "department": DEPARTMENT,
    "version": 3,
    "published_at": "2026-11-02T09:30:00+09:00",
}
SUBMISSION = {
    "reference": "DC-2026-000123",
    "procedure": "bulky-waste",
    "version": 3,
    "status": "submitted",
    "status_label": "受付済み",
    "department": DEPARTMENT,
    "channel": "line",
    "submitted_at": "2026-12-01T10:15:00+09:00",
    "last_activity_at": "2026-12-01T10:15:00+09:00",
    "due_at": "2026-12-08T10:15:00+09:00",
    "url": f"{BASE}/submissions/DC-2026-000123/",
}
ATTACHMENT_ID = "6f1c2f9e-8a43-4c1e-9a55-3f0d1b2c4e5a"
SUBMISSION_DETAIL = {
    **SUBMISSION,
    "fee": 1000,
    "language": "ja",
    "resident": {"name": "山田太郎", "language": "ja"},
    "answers": [
        {
            "id": "items",
            "type": "multi_choice",
            "label": "出す品目",
            "text": "ソファ",
            "value": ["sofa"],
        },
        {
            "id": "photo",
            "type": "image",
            "label": "品目の写真",
            "text": "写真1枚",
            "value": {"ref": ATTACHMENT_ID, "content_type": "image/jpeg"},
        },
    ],
    "timeline": [
        {
            "at": "2026-12-01T10:15:00+09:00",
            "kind": "submitted",
            "label": "受付",
            "from_status": "",
            "to_status": "",
            "reason": "",
        },
    ],
    "attachments": [
        {
            "id": ATTACHMENT_ID,
            "step": "photo",
            "content_type": "image/jpeg",
            "size": 48213,
            "url": f"{BASE}/submissions/DC-2026-000123/attachments/{ATTACHMENT_ID}/",
        },
    ],
    "next_statuses": ["in_review", "accepted", "rejected", "returned"],
}
BOOKING = {
    "id": 812,
    "resource": {"key": "kodomo-hiroba", "name": "こども広場"},
    "starts_at": "2026-12-02T10:00:00+09:00",
    "ends_at": "2026-12-02T11:00:00+09:00",
    "status": "confirmed",
    "party_size": 2,
    "source": "line",
    "name": "佐藤花子",
    "phone": "",
    "submission": "DC-2026-000124",
    "created_at": "2026-11-28T19:02:00+09:00",
    "cancelled_at": None,
}
REPORT = {
    "reference": "DC-2026-000130",
    "category": {"key": "road", "name": "道路"},
    "status": "in_review",
    "status_label": "対応中",
    "latitude": 35.681236,
    "longitude": 139.767125,
    "address": "東京都千代田区丸の内1-9-1",
    "merged_into": None,
    "created_at": "2026-12-03T08:40:00+09:00",
    "closed_at": None,
    "url": f"{BASE}/submissions/DC-2026-000130/",
}


def _page(serializer: type, description: str, row: dict[str, Any], path: str) -> OpenApiResponse:
    example = {
        "next": f"{BASE}/{path}/?cursor=cD0yMDI2LTEyLTAx",
        "previous": None,
        "results": [row],
    }
    return _ok(serializer, description, example)


PROCEDURE_LIST: dict[str, Any] = {
    "operation_id": "backoffice_procedures_list",
    "summary": "Published procedures",
    "description": "The published procedures of the token's departments (all without any).",
    "tags": [TAG],
    "responses": {
        200: _ok(ProcedureListSerializer, "Procedures by key.", {"results": [PROCEDURE]}),
        401: UNAUTHORIZED,
        429: THROTTLED,
    },
}
PROCEDURE_DETAIL: dict[str, Any] = {
    "operation_id": "backoffice_procedures_retrieve",
    "summary": "A published procedure and its definition",
    "tags": [TAG],
    "responses": {
        200: _ok(
            ProcedureDetailSerializer,
            "The procedure with its live version's document.",
            {
                **PROCEDURE,
                "definition": {
                    "format": "govtech.procedure.v1",
                    "key": "bulky-waste",
                    "kind": "application",
                    "title": {"ja": "粗大ごみ収集の申込"},
                    "steps": [{"id": "confirm", "type": "confirm"}],
                },
            },
        ),
        401: UNAUTHORIZED,
        404: NOT_FOUND,
        429: THROTTLED,
    },
}
SUBMISSION_LIST: dict[str, Any] = {
    "operation_id": "backoffice_submissions_list",
    "summary": "Submissions, newest first",
    "description": (
        "Residents' submissions the token reaches, filtered; a page at a time (follow "
        "`next`). To synchronise, ask for `updated_since` the time of your last run."
    ),
    "tags": [TAG],
    "parameters": [SubmissionQuerySerializer],
    "responses": {
        200: _page(SubmissionPageSerializer, "A page of submissions.", SUBMISSION, "submissions"),
        400: BAD_QUERY,
        401: UNAUTHORIZED,
        429: THROTTLED,
    },
}
SUBMISSION_DETAIL_OP: dict[str, Any] = {
    "operation_id": "backoffice_submissions_retrieve",
    "summary": "A submission: answers, timeline, attachments",
    "description": "Reading it is written to the municipality's audit log, naming the token.",
    "tags": [TAG],
    "responses": {
        200: _ok(SubmissionDetailSerializer, "The submission.", SUBMISSION_DETAIL),
        401: UNAUTHORIZED,
        404: NOT_FOUND,
        429: THROTTLED,
    },
}
SUBMISSION_STATUS: dict[str, Any] = {
    "operation_id": "backoffice_submissions_status_create",
    "summary": "Change a submission's status",
    "description": (
        "The same workflow rules as the console; the resident gets the procedure's "
        "message. Needs a read-and-write token. Send an `Idempotency-Key` to make a retry "
        "safe: the same key with the same body returns the first response."
    ),
    "tags": [TAG],
    "parameters": [
        OpenApiParameter(
            "Idempotency-Key",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            required=False,
            description="Any unique string per change, e.g. a UUID.",
        )
    ],
    "request": StatusChangeSerializer,
    "examples": [
        OpenApiExample(
            "Accept",
            value={"status": "accepted", "notify": True, "expected_status": "in_review"},
            request_only=True,
        ),
        OpenApiExample(
            "Reject with a reason",
            value={"status": "rejected", "reason": "対象外の品目です。"},
            request_only=True,
        ),
    ],
    "responses": {
        200: _ok(
            StatusChangedSerializer,
            "The status was changed.",
            {
                "reference": "DC-2026-000123",
                "previous_status": "in_review",
                "status": "accepted",
                "status_label": "承認",
                "notified": True,
                "changed_at": "2026-12-04T14:00:00+09:00",
            },
        ),
        400: OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="The body is malformed.",
            examples=[
                OpenApiExample(
                    "Bad status",
                    value={"status": ['"done" is not a valid choice.']},
                    response_only=True,
                )
            ],
        ),
        401: UNAUTHORIZED,
        403: OpenApiResponse(
            ErrorSerializer,
            description="The token may only read.",
            examples=[_error("Read-only token", "This token may only read.", "token_read_only")],
        ),
        404: NOT_FOUND,
        409: OpenApiResponse(
            ErrorSerializer,
            description="The workflow does not allow it, or the status changed meanwhile.",
            examples=[
                _error(
                    "Not allowed",
                    "A submission that is “却下” cannot be moved to that status.",
                    "transition_refused",
                )
            ],
        ),
        422: OpenApiResponse(
            ErrorSerializer,
            description="The Idempotency-Key was used for another request.",
            examples=[
                _error(
                    "Key reused",
                    "This Idempotency-Key was already used for another request.",
                    "idempotency_key_reused",
                )
            ],
        ),
        429: THROTTLED,
    },
}
SUBMISSION_ATTACHMENT: dict[str, Any] = {
    "operation_id": "backoffice_submissions_attachments_retrieve",
    "summary": "Download a file the resident sent",
    "description": "The file itself (a photo). Each download is audited, naming the token.",
    "tags": [TAG],
    "responses": {
        (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
        (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The file."),
        401: UNAUTHORIZED,
        404: NOT_FOUND,
        429: THROTTLED,
    },
}
BOOKING_LIST: dict[str, Any] = {
    "operation_id": "backoffice_bookings_list",
    "summary": "Bookings by slot time",
    "description": "Bookings of the token's departments' resources. Audited, naming the token.",
    "tags": [TAG],
    "parameters": [BookingQuerySerializer],
    "responses": {
        200: _page(BookingPageSerializer, "A page of bookings.", BOOKING, "bookings"),
        400: BAD_QUERY,
        401: UNAUTHORIZED,
        429: THROTTLED,
    },
}
REPORT_LIST: dict[str, Any] = {
    "operation_id": "backoffice_reports_list",
    "summary": "Reports (通報), newest first",
    "description": "With their exact place. Audited, naming the token.",
    "tags": [TAG],
    "parameters": [ReportQuerySerializer],
    "responses": {
        200: _page(ReportPageSerializer, "A page of reports.", REPORT, "reports"),
        400: BAD_QUERY,
        401: UNAUTHORIZED,
        429: THROTTLED,
    },
}
