"""The dashboards in the console: registered on the aggregate of friends so that the
console's page list shows 「ダッシュボード」; its list URL is the overview, and nothing of
Django's add/change pages is reachable (the rows are written only by the aggregation)."""

from django.contrib import admin
from django.urls import path

from govtech.console import ALL_ROLES, TenantModelAdmin, console
from reports.dashboards import views
from reports.dashboards.models import DailyFriends


@admin.register(DailyFriends, site=console)
class DashboardAdmin(TenantModelAdmin):
    view_roles = ALL_ROLES
    edit_roles: frozenset[str] = frozenset()

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return obj is None and super().has_view_permission(request, obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("", view(views.dashboard_view), name="reports_dashboard"),
            path(
                "procedure/<int:pk>/",
                view(views.procedure_dashboard_view),
                name="reports_dashboard_procedure",
            ),
            path(
                "reservations/",
                view(views.reservations_dashboard_view),
                name="reports_dashboard_reservations",
            ),
            *super().get_urls(),
        ]
