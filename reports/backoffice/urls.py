"""Back-office API URLs, mounted under /api/v1/ (Authorization: Bearer <token>)."""

from django.urls import path

from reports.backoffice import api

urlpatterns = [
    path("procedures/", api.ProcedureListView.as_view(), name="backoffice-procedure-list"),
    path(
        "procedures/<slug:key>/",
        api.ProcedureDetailView.as_view(),
        name="backoffice-procedure-detail",
    ),
    path("submissions/", api.SubmissionListView.as_view(), name="backoffice-submission-list"),
    path(
        "submissions/<str:reference>/",
        api.SubmissionDetailView.as_view(),
        name="backoffice-submission-detail",
    ),
    path(
        "submissions/<str:reference>/status/",
        api.SubmissionStatusView.as_view(),
        name="backoffice-submission-status",
    ),
    path(
        "submissions/<str:reference>/attachments/<uuid:upload_id>/",
        api.SubmissionAttachmentView.as_view(),
        name="backoffice-submission-attachment",
    ),
    path("bookings/", api.BookingListView.as_view(), name="backoffice-booking-list"),
    path("reports/", api.ReportListView.as_view(), name="backoffice-report-list"),
]
