"""The console's home page: each role's block of today's work (selectors in ``home``),
and the admins of exports (pages in ``reports.views``).

Registered on the console site here because ``reports`` reads from every app and
``govtech`` (where the site lives) may not import them.
"""

from dataclasses import dataclass
from typing import Any, cast

from django.contrib import admin
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from govtech.access import StaffContext, staff_context
from govtech.console import TenantModelAdmin, console
from govtech.models import Municipality, Role, User
from procedures.incidents.map import has_report_categories
from reports import home
from reports import views as export_views
from reports.exports.selectors import EXPORT_ROLES, procedures_for_exporter
from reports.models import ExportJob, ScheduledExport

# Which roles see which block: only the work that is theirs.
BLOCK_ROLES = {
    "approvals": {Role.ADMIN},
    "submissions": {Role.ADMIN, Role.REVIEWER},
    "drafts": {Role.DESIGNER},
    "broadcasts": {Role.BROADCASTER},
    "channels": {Role.ADMIN, Role.BROADCASTER},
}


@dataclass
class Todo:
    text: str
    url: str


def inbox_url(queue: str) -> str:
    """The reviewer's inbox opened on ``queue``."""
    return f"{reverse('admin:procedures_submission_changelist')}?{urlencode({'queue': queue})}"


def broadcasts_url(status: str) -> str:
    query = urlencode({"status__exact": status})
    return f"{reverse('admin:delivery_broadcast_changelist')}?{query}"


def _shows(staff: StaffContext, block: str) -> bool:
    return bool(staff.roles & BLOCK_ROLES[block])


def home_context(request: HttpRequest) -> dict[str, Any]:
    """The blocks of the signed-in staff member's home page, and the to-do list on top."""
    staff = staff_context(request)
    if staff.is_operator:
        return {"home": {"municipalities": home.operator_municipalities()}, "todos": []}
    if staff.municipality is None:
        return {"home": {}, "todos": []}
    blocks = _blocks(request, staff)
    return {"home": blocks, "todos": _todos(blocks)}


def _blocks(request: HttpRequest, staff: StaffContext) -> dict[str, Any]:
    municipality = cast(Municipality, staff.municipality)  # checked by the caller
    blocks: dict[str, Any] = {}
    if _shows(staff, "approvals"):
        user = cast(User, request.user)  # the console admits only signed-in staff
        blocks["approvals"] = home.approvals_for(municipality=municipality, user=user)
    if _shows(staff, "submissions"):
        user = cast(User, request.user)
        counts = home.reviewer_queue_counts(staff=staff, user=user, now=timezone.now())
        blocks["submissions"] = [(row, inbox_url(row.queue)) for row in counts]
        blocks["report_map"] = has_report_categories()
    if _shows(staff, "drafts"):
        blocks["drafts"] = home.designer_drafts(municipality=municipality)
    if _shows(staff, "broadcasts"):
        blocks["broadcasts"] = home.broadcaster_work(municipality=municipality)
    if _shows(staff, "channels"):
        blocks["channels"] = _channels(municipality)
    return blocks


def _channels(municipality) -> list[home.ChannelHealth]:
    rows = home.channel_health(municipality=municipality, now=timezone.now())
    for row in rows:
        row.quota = home.channel_quota(channel=row.channel)
    return rows


def _todos(blocks: dict[str, Any]) -> list[Todo]:
    """One line per thing waiting for this person, most urgent first."""
    todos: list[Todo] = []
    approvals = blocks.get("approvals")
    if approvals is not None and approvals.count:
        text = ngettext(
            "%(count)s broadcast is waiting for your approval.",
            "%(count)s broadcasts are waiting for your approval.",
            approvals.count,
        )
        todos.append(Todo(text % {"count": approvals.count}, broadcasts_url("awaiting")))
    for row, url in blocks.get("submissions", []):
        if row.count and row.queue != "in_review":  # being worked on: not a to-do itself
            text = _("Submissions “%(status)s”: %(count)s") % {
                "status": row.label,
                "count": row.count,
            }
            todos.append(Todo(text, url))
    todos += _broadcast_todos(blocks.get("broadcasts"))
    todos += _draft_todos(blocks.get("drafts"))
    todos += _channel_todos(blocks.get("channels", []))
    return todos


def _broadcast_todos(work: home.BroadcastWork | None) -> list[Todo]:
    if work is None:
        return []
    todos = []
    if work.awaiting_count:
        text = _("Broadcasts waiting for approval: %(count)s") % {"count": work.awaiting_count}
        todos.append(Todo(text, broadcasts_url("awaiting")))
    if work.drafts_count:
        text = _("Broadcast drafts not yet submitted: %(count)s") % {"count": work.drafts_count}
        todos.append(Todo(text, broadcasts_url("draft")))
    return todos


def _draft_todos(work: home.DraftWork | None) -> list[Todo]:
    if work is None or not work.changed_count:
        return []
    text = _("Procedures with changes not yet published: %(count)s") % {"count": work.changed_count}
    return [Todo(text, reverse("admin:procedures_procedure_changelist"))]


def _channel_todos(rows: list[home.ChannelHealth]) -> list[Todo]:
    url = reverse("admin:delivery_webhookevent_changelist")
    return [
        Todo(
            _("%(channel)s: check the errors of the last 24 hours.")
            % {"channel": row.channel.name},
            url,
        )
        for row in rows
        if not row.ok
    ]


console.home_context = home_context


# --- exports -------------------------------------------------------------------------------


@admin.register(ExportJob, site=console)
class ExportJobAdmin(TenantModelAdmin):
    """Exports live on their own pages (``reports.views``); the list is the exports page."""

    view_roles = EXPORT_ROLES
    edit_roles: frozenset[str] = frozenset()

    def has_add_permission(self, request, *args):
        return False

    def has_view_permission(self, request, obj=None):
        # A job is shown by its own page (the creator's and the department's, see
        # reports.exports.selectors.jobs_for_staff), never by Django's change form.
        return obj is None and super().has_view_permission(request, obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("", view(export_views.exports_view), name="reports_exports"),
            path("<int:pk>/", view(export_views.job_view), name="reports_export_job"),
            path(
                "<int:pk>/download/",
                view(export_views.download_view),
                name="reports_export_download",
            ),
            path(
                "submission/<int:pk>/pdf/",
                view(export_views.submission_pdf_view),
                name="reports_submission_pdf",
            ),
            *super().get_urls(),
        ]


@admin.register(ScheduledExport, site=console)
class ScheduledExportAdmin(TenantModelAdmin):
    """Admins schedule exports; reviewers see those of the procedures they review."""

    list_display = ["procedure", "department", "format", "frequency", "time_of_day", "is_active"]
    list_filter = ["frequency", "format", "is_active"]
    list_select_related = ["procedure", "department"]
    readonly_fields = ["last_window_end", "created_by"]
    view_roles = EXPORT_ROLES
    edit_roles = frozenset({"admin"})

    def get_queryset(self, request):
        reviewed = procedures_for_exporter(staff=staff_context(request)).values("pk")
        return super().get_queryset(request).filter(procedure__in=reviewed)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            obj.municipality = staff_context(request).municipality or obj.procedure.municipality
        super().save_model(request, obj, form, change)


# API tokens, dashboards, survey results and Open311 clients register themselves on import.
from reports.backoffice import admin as backoffice_admin  # noqa: E402, F401
from reports.dashboards import admin as dashboards_admin  # noqa: E402, F401
from reports.open311 import admin as open311_admin  # noqa: E402, F401
from reports.surveys import admin as survey_admin  # noqa: E402, F401
