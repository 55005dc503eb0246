"""The admin console: Django's admin, made multi-tenant and role-aware.

Every ModelAdmin of a tenant-owned model derives from ``TenantModelAdmin``. Its queryset
is already restricted by the request's tenant scope (TenantScopeMiddleware); on top of
that it decides who may view or change by role, fills the municipality on create, and
writes every change to the audit log.
"""

from collections.abc import Callable

from django.contrib import admin
from django.db import models
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from govtech.access import staff_context
from govtech.models import Municipality
from govtech.services import audit_log

ALL_ROLES = frozenset({"admin", "designer", "reviewer", "broadcaster"})


class ConsoleSite(admin.AdminSite):
    site_header = _("govtech console")
    site_title = _("govtech console")
    index_title = _("Home")
    index_template = "console/home.html"
    # What the home page shows for the signed-in staff member, as template context. Set by
    # ``reports.admin`` (reports reads every app; govtech may not import them).
    home_context: Callable[[HttpRequest], dict] | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Context every console page gets from apps govtech may not import (delivery's
        # disaster mode banner), registered in their AppConfig.ready.
        self._page_context: list[Callable[[HttpRequest], dict]] = []

    def page_context_register(self, provider: Callable[[HttpRequest], dict]) -> None:
        if provider not in self._page_context:
            self._page_context.append(provider)

    def has_permission(self, request: HttpRequest) -> bool:
        staff = staff_context(request)
        return request.user.is_active and (
            staff.is_operator or bool(staff.roles) or staff.is_vendor
        )

    def login(self, request, extra_context=None):
        """Staff log in through allauth (rate limits, MFA), never the bare admin form."""
        next_url = request.GET.get("next") or reverse("admin:index")
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")

    def index(self, request, extra_context=None):
        context = dict(extra_context or {})
        if self.home_context is not None:
            context.update(self.home_context(request))
        return super().index(request, context)

    def each_context(self, request):
        context = super().each_context(request)
        context["staff"] = staff_context(request)
        for provider in self._page_context:
            context.update(provider(request))
        return context


console = ConsoleSite(name="admin")


class RoleAdminMixin:
    """Permissions by role instead of Django's per-model permission rows.

    ``view_roles`` may look, ``edit_roles`` may add/change/delete. Operators may do both.
    """

    view_roles: frozenset[str] = ALL_ROLES
    edit_roles: frozenset[str] = frozenset({"admin"})
    # Addresses typed without a scheme are https (Django 6's default, without its warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django's admin redirects to the index for a missing object; we answer 404, the
        # same for "does not exist" and "belongs to another municipality".
        raise Http404

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        return staff_context(request).has_any(self.view_roles | self.edit_roles)

    def has_add_permission(self, request, *args):
        return staff_context(request).has_any(self.edit_roles)

    def has_change_permission(self, request, obj=None):
        return staff_context(request).has_any(self.edit_roles)

    def has_delete_permission(self, request, obj=None):
        return staff_context(request).has_any(self.edit_roles)


class AuditedAdminMixin:
    """Every add/change/delete made in the console is written to the audit log."""

    def _audit(self, request, obj, verb, detail):
        action = f"{obj._meta.label_lower}.{verb}"
        audit_log(request.user, action, obj, {"change": detail}, request=request)

    def log_addition(self, request, obj, message):
        self._audit(request, obj, "created", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, obj, "changed", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, obj, "deleted", "")
        return super().log_deletions(request, queryset)


class PersonalDataAdminMixin:
    """Pages that show a resident's personal data: every view is audited.

    Set ``viewed_action`` (e.g. ``"procedures.submission.viewed"``).
    """

    viewed_action: str = ""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200 and request.method == "GET":
            obj = self.get_object(request, object_id)
            audit_log(request.user, self.viewed_action, obj, request=request)
        return response


def titled_filter(title) -> type[admin.FieldListFilter]:
    """A list filter for a field whose verbose name is missing or English: Django's usual
    filter for the field, headed ``title`` (a translated string)."""

    class Titled(admin.FieldListFilter):
        def __new__(cls, field, request, params, model, model_admin, field_path):
            chosen = admin.FieldListFilter.create(
                field, request, params, model, model_admin, field_path=field_path
            )
            chosen.title = title
            return chosen

    return Titled


class TenantModelAdmin(RoleAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Base admin for models with a ``municipality`` foreign key."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Staff cannot pick a municipality: the field shows theirs, read-only. Keeping it
        # in the form (disabled) lets unique constraints that include it be validated.
        staff = staff_context(request)
        if db_field.name == "municipality" and not staff.is_operator:
            kwargs["queryset"] = Municipality.objects.filter(pk=staff.municipality.pk)
            kwargs["initial"] = staff.municipality
            kwargs["disabled"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if staff_context(request).is_operator and "municipality" not in filters:
            filters.insert(0, "municipality")
        return filters


__all__ = [
    "AuditedAdminMixin",
    "ConsoleSite",
    "PersonalDataAdminMixin",
    "RoleAdminMixin",
    "TenantModelAdmin",
    "console",
    "titled_filter",
]
