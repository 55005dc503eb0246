"""The casework console's URLs, mounted under the submission admin
(``/admin/procedures/submission/``) by ``SubmissionAdmin.get_urls`` with the console's
``admin_view`` (login, staff, CSRF, never cached); names ``admin:procedures_submission_<name>``.

The inbox and the case page are the admin's own changelist and change URLs
(``SubmissionAdmin.changelist_view`` and ``change_view`` hand over to ``views``).
"""

from collections.abc import Callable

from django.urls import URLPattern, path

from procedures.casework import views


def casework_urls(admin_view: Callable) -> list[URLPattern]:
    def route(pattern: str, view: Callable, name: str) -> URLPattern:
        return path(pattern, admin_view(view), name=f"procedures_submission_{name}")

    return [
        route("<int:pk>/status/", views.case_status, "status"),
        route("<int:pk>/return/", views.case_return, "return"),
        route("<int:pk>/assign/", views.case_assign_view, "assign"),
        route("<int:pk>/note/", views.case_note_view, "note"),
        route("<int:pk>/message/", views.case_message_view, "message"),
        route("workflow/<int:pk>/", views.workflow_page, "workflow"),
    ]
