"""Console URLs of incident reports.

``report_case_urls``: the report part of a case page, mounted under the submission admin
by ``SubmissionAdmin.get_urls`` (names ``admin:procedures_submission_report_<name>``).
The categories, areas and settings pages are the ModelAdmins of ``procedures.incidents.admin``.
"""

from collections.abc import Callable

from django.urls import URLPattern, path

from procedures.incidents import views


def report_case_urls(admin_view: Callable) -> list[URLPattern]:
    def route(pattern: str, view: Callable, name: str) -> URLPattern:
        return path(pattern, admin_view(view), name=f"procedures_submission_report_{name}")

    return [
        route("<int:pk>/report/category/", views.report_category_view, "category"),
        route("<int:pk>/report/photos/<int:photo>/", views.report_photo_view, "photo"),
        route("<int:pk>/report/note/", views.report_note_view, "note"),
    ]
