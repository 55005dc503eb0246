"""The back-office API (``/api/v1/``, ``Authorization: Bearer <token>``): procedures,
submissions (list, detail, status change, attachments), bookings and reports of the
token's municipality and departments. One view per operation: parse → access (the
token's scope and departments, a 404 for anything else) → selector or service → render.

Reads of residents' personal data (a submission's detail, an attachment, bookings,
reports with their exact place) write one audit entry per request naming the token.
The submission list carries no personal data and is not audited.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from govtech.services import ServiceError
from procedures.casework import workflow
from procedures.casework.services import CaseRefused
from reports.backoffice import presenters, selectors
from reports.backoffice import schema as docs
from reports.backoffice.authentication import BackOfficeView, HasApiToken, MayWrite, token_of
from reports.backoffice.serializers import (
    BookingQuerySerializer,
    BookingSerializer,
    ProcedureDetailSerializer,
    ProcedureListSerializer,
    ReportQuerySerializer,
    ReportSerializer,
    StatusChangedSerializer,
    StatusChangeSerializer,
    SubmissionDetailSerializer,
    SubmissionQuerySerializer,
    SubmissionSummarySerializer,
)
from reports.backoffice.services import (
    IdempotencyKeyReused,
    api_idempotent,
    api_read_audit,
    api_submission_transition,
    request_fingerprint,
)


class _Pages(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class SubmissionPages(_Pages):
    ordering = ("-submitted_at", "-id")


class BookingPages(_Pages):
    ordering = ("starts_at", "id")


class ReportPages(_Pages):
    ordering = ("-created_at", "-id")


def _query(serializer_class: type, request: Request) -> dict[str, Any]:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _page(view: BackOfficeView, pages: _Pages, queryset, rows, serializer: type) -> Response:
    """One page of ``queryset``: ``rows`` makes its dicts, ``serializer`` renders each."""
    page = pages.paginate_queryset(queryset, view.request, view=view)
    return pages.get_paginated_response(serializer(rows(page or []), many=True).data)


# --- procedures ---------------------------------------------------------------------------


class ProcedureListView(BackOfficeView):
    @extend_schema(**docs.PROCEDURE_LIST)
    def get(self, request: Request) -> Response:
        procedures = selectors.token_procedures(token=token_of(request))
        rows = [presenters.procedure_row(procedure) for procedure in procedures]
        return Response(ProcedureListSerializer({"results": rows}).data)


class ProcedureDetailView(BackOfficeView):
    @extend_schema(**docs.PROCEDURE_DETAIL)
    def get(self, request: Request, key: str) -> Response:
        procedure = selectors.token_procedure(token=token_of(request), key=key)
        if procedure is None:
            raise Http404
        row = presenters.procedure_row(procedure, definition=True)
        return Response(ProcedureDetailSerializer(row).data)


# --- submissions --------------------------------------------------------------------------


class SubmissionListView(BackOfficeView):
    @extend_schema(**docs.SUBMISSION_LIST)
    def get(self, request: Request) -> Response:
        query = _query(SubmissionQuerySerializer, request)
        filters = selectors.SubmissionFilters(
            procedure=query.get("procedure", ""),
            status=query.get("status", ""),
            submitted_from=query.get("submitted_from"),
            submitted_to=query.get("submitted_to"),
            updated_since=query.get("updated_since"),
        )
        submissions = selectors.api_submissions(token=token_of(request), filters=filters)
        absolute = request.build_absolute_uri
        return _page(
            self,
            SubmissionPages(),
            submissions,
            lambda page: [presenters.submission_row(s, absolute) for s in page],
            SubmissionSummarySerializer,
        )


def _submission(request: Request, reference: str):
    submission = selectors.api_submission(token=token_of(request), reference=reference)
    if submission is None:
        raise Http404
    return submission


class SubmissionDetailView(BackOfficeView):
    @extend_schema(**docs.SUBMISSION_DETAIL_OP)
    def get(self, request: Request, reference: str) -> Response:
        token = token_of(request)
        submission = _submission(request, reference)
        row = presenters.submission_detail(
            submission,
            events=selectors.submission_events(submission=submission),
            uploads=selectors.submission_attachments(submission=submission),
            absolute=request.build_absolute_uri,
        )
        api_read_audit(token=token, what="submission", target=submission)
        return Response(SubmissionDetailSerializer(row).data)


class SubmissionStatusView(BackOfficeView):
    """Change a submission's status as a reviewer would in the console."""

    permission_classes = [HasApiToken, MayWrite]

    @extend_schema(**docs.SUBMISSION_STATUS)
    def post(self, request: Request, reference: str) -> Response:
        body = StatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, submission = token_of(request), _submission(request, reference)
        key = request.headers.get("Idempotency-Key", "").strip()[:255]

        def perform() -> tuple[int, dict[str, Any]]:
            return status.HTTP_200_OK, _transition(token, submission, body.validated_data)

        try:
            if not key:
                code, data = perform()
            else:
                fingerprint = request_fingerprint("POST", request.path, body.validated_data)
                code, data = api_idempotent(
                    token=token, key=key, fingerprint=fingerprint, perform=perform
                )
        except IdempotencyKeyReused as reused:
            return _error(
                str(reused), "idempotency_key_reused", status.HTTP_422_UNPROCESSABLE_ENTITY
            )
        except CaseRefused as refused:
            return _error(str(refused), "transition_refused", status.HTTP_409_CONFLICT)
        except ServiceError as refused:
            return _error(str(refused), "refused", status.HTTP_403_FORBIDDEN)
        return Response(data, status=code)


def _transition(token, submission, data: dict[str, Any]) -> dict[str, Any]:
    previous = submission.status
    event = api_submission_transition(
        token=token,
        submission=submission,
        to=data["status"],
        reason=data["reason"],
        notify=data["notify"],
        expected=data.get("expected_status"),
    )
    return StatusChangedSerializer(
        {
            "reference": submission.reference,
            "previous_status": previous,
            "status": submission.status,
            "status_label": workflow.status_label(submission.status, workflow.kind_of(submission)),
            "changed_at": event.created_at,
            "notified": bool(event.notice_id),
        }
    ).data


def _error(detail: str, code: str, http_status: int) -> Response:
    return Response({"detail": detail, "code": code}, status=http_status)


class SubmissionAttachmentView(BackOfficeView):
    @extend_schema(**docs.SUBMISSION_ATTACHMENT)
    def get(self, request: Request, reference: str, upload_id: str) -> FileResponse:
        token = token_of(request)
        submission = _submission(request, reference)
        upload = selectors.submission_attachment(submission=submission, upload_id=upload_id)
        name = upload.file.name if upload is not None else None
        if upload is None or not name or not upload.file.storage.exists(name):
            raise Http404
        api_read_audit(
            token=token, what="attachment", target=submission, data={"upload": str(upload.pk)}
        )
        response = FileResponse(
            upload.file.storage.open(name, "rb"),
            content_type=upload.content_type or "application/octet-stream",
            filename=f"{submission.reference}-{upload.pk}{_extension(name)}",
        )
        # A resident's file: no shared or browser cache may keep it.
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


def _extension(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""


# --- bookings and reports ---------------------------------------------------------------------


class BookingListView(BackOfficeView):
    @extend_schema(**docs.BOOKING_LIST)
    def get(self, request: Request) -> Response:
        query = _query(BookingQuerySerializer, request)
        filters = selectors.BookingFilters(
            resource=query.get("resource", ""),
            status=query.get("status", ""),
            date_from=query.get("date_from"),
            date_to=query.get("date_to"),
        )
        token = token_of(request)
        bookings = selectors.api_bookings(token=token, filters=filters)

        def rows(page) -> list[dict[str, Any]]:
            if page:
                ids = [booking.pk for booking in page]
                api_read_audit(token=token, what="bookings", data={"bookings": ids})
            return [presenters.booking_row(booking) for booking in page]

        return _page(self, BookingPages(), bookings, rows, BookingSerializer)


class ReportListView(BackOfficeView):
    @extend_schema(**docs.REPORT_LIST)
    def get(self, request: Request) -> Response:
        query = _query(ReportQuerySerializer, request)
        bbox = query.get("bbox")
        filters = selectors.ReportFilters(
            category=query.get("category", ""),
            status=query.get("status", ""),
            bbox=tuple(float(part) for part in bbox.split(",")) if bbox else None,  # type: ignore[arg-type]
        )
        token = token_of(request)
        reports = selectors.api_reports(token=token, filters=filters)
        absolute = request.build_absolute_uri

        def rows(page) -> list[dict[str, Any]]:
            if page:
                references = [report.submission.reference for report in page]
                api_read_audit(token=token, what="reports", data={"reports": references})
            return [presenters.report_row(report, absolute) for report in page]

        return _page(self, ReportPages(), reports, rows, ReportSerializer)
