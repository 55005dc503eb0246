"""Console pages of incident reports: categories (with "set up the standard categories"),
routing areas (GeoJSON pasted or uploaded, previewed on a map) and the report settings.

Admins edit; designers may look. Every change is audited (``TenantModelAdmin``); a
category's procedure is chosen among the municipality's report procedures.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from govtech.access import staff_context
from govtech.console import TenantModelAdmin, console
from procedures.incidents.categories import report_categories_standard_ensure
from procedures.incidents.forms import ReportAreaForm, ReportCategoryForm, ReportSettingsForm
from procedures.incidents.models import ReportArea, ReportCategory, ReportSettings
from procedures.models import Procedure

VIEW_ROLES = frozenset({"admin", "designer"})
EDIT_ROLES = frozenset({"admin"})


class _ReportAdmin(TenantModelAdmin):
    view_roles = VIEW_ROLES
    edit_roles = EDIT_ROLES


@admin.register(ReportCategory, site=console)
class ReportCategoryAdmin(_ReportAdmin):
    form = ReportCategoryForm
    list_display = ["name", "key", "department", "procedure", "is_public", "is_active", "position"]
    list_select_related = ["department", "procedure"]
    search_fields = ["key", "name"]
    change_list_template = "incidents/category_change_list.html"

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "procedure":
            # Only report procedures; the one-to-one refuses one another category has.
            kwargs["queryset"] = Procedure.objects.filter(draft__kind="report").order_by("key")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_urls(self):
        view = self.admin_site.admin_view(standard_categories_view)
        return [
            path("standard/", view, name="procedures_reportcategory_standard"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        can_edit = self.has_add_permission(request)
        extra = {**(extra_context or {}), "can_set_up_standard": can_edit}
        return super().changelist_view(request, extra)


@require_POST
def standard_categories_view(request: HttpRequest) -> HttpResponse:
    """「標準の種類を作成」: 道路, 公園, 河川, 不法投棄, 街路灯, その他 with their procedures."""
    staff = staff_context(request)
    if not staff.has_any(EDIT_ROLES) or staff.municipality is None:
        raise PermissionDenied
    created = report_categories_standard_ensure(
        actor=request.user,  # type: ignore[arg-type]
        municipality=staff.municipality,
    )
    if created:
        names = "、".join(category.name for category in created)
        messages.success(request, _("Created: %(names)s") % {"names": names})
    else:
        messages.info(request, _("The standard categories exist already."))
    return redirect("admin:procedures_reportcategory_changelist")


@admin.register(ReportArea, site=console)
class ReportAreaAdmin(_ReportAdmin):
    form = ReportAreaForm
    list_display = ["name", "category", "department", "priority"]
    list_select_related = ["category", "department"]
    change_form_template = "incidents/area_change_form.html"

    def render_change_form(self, request, context, *args, **kwargs):
        context["area_map"] = area_map_config()
        return super().render_change_form(request, context, *args, **kwargs)


def area_map_config() -> dict | None:
    """What static/incidents/area-map.js needs; None when no tile server is configured."""
    if not settings.MAP_TILE_URL:
        return None
    return {
        "tiles": {
            "url": settings.MAP_TILE_URL,
            "attribution": settings.MAP_TILE_ATTRIBUTION,
            "maxZoom": settings.MAP_TILE_MAX_ZOOM,
        },
    }


@admin.register(ReportSettings, site=console)
class ReportSettingsAdmin(_ReportAdmin):
    """One row per municipality: its unique constraint refuses a second (the form says so;
    asking here would cost every console page a query, its menu asks who may add)."""

    form = ReportSettingsForm
    list_display = [
        "municipality",
        "default_department",
        "duplicate_radius_m",
        "duplicate_days",
        "public_enabled",
        "public_precision_m",
    ]

    def has_delete_permission(self, request, obj=None):
        return False
