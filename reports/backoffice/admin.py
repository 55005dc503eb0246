"""Back-office API tokens in the console: a municipality's admins issue one per system
(the token is shown once), see each one's access, expiry and last use, and revoke them.
Tokens are never edited or deleted: the audit log names them. Registered from
``reports.admin``."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govtech.access import staff_context
from govtech.console import TenantModelAdmin, console
from govtech.models import Department, Role
from govtech.services import ServiceError
from reports.backoffice.models import ApiToken
from reports.backoffice.services import api_token_create, api_token_revoke, max_token_days

ADMINS = frozenset({Role.ADMIN})
DEFAULT_DAYS = 90


class ApiTokenForm(forms.ModelForm):
    # Built per request (a scoped query); at import there is no scope.
    departments: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label=gettext_lazy("departments"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Only these departments' submissions, bookings and reports; none: all."
        ),
    )

    class Meta:
        model = ApiToken
        fields = ["municipality", "name", "scope", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "departments" in self.fields:  # not on the (read-only) page of an issued token
            self.fields["departments"].queryset = Department.objects.all()

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        now = timezone.now()
        if expires_at <= now:
            raise forms.ValidationError(_("The expiry date must be in the future."))
        if expires_at > now + timedelta(days=max_token_days()):
            raise forms.ValidationError(
                _("A token may be valid for at most %(days)d days.") % {"days": max_token_days()}
            )
        return expires_at


@admin.register(ApiToken, site=console)
class ApiTokenAdmin(TenantModelAdmin):
    form = ApiTokenForm
    list_display = [
        "name",
        "key_prefix",
        "scope",
        "department_names",
        "expires_at",
        "last_used_at",
        "state",
    ]
    readonly_fields = ["key_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]
    view_roles = ADMINS
    edit_roles = ADMINS

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("departments")

    def get_fields(self, request, obj=None):
        fields = ["name", "scope", "departments", "expires_at"]
        if obj is not None:
            return [*fields, *self.readonly_fields]
        return ["municipality", *fields] if staff_context(request).is_operator else fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # A token's access is fixed when issued: issue another one to change it.
        return ["name", "scope", "departments", "expires_at", *self.readonly_fields]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("expires_at", timezone.now() + timedelta(days=DEFAULT_DAYS))
        return initial

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: the audit log refers to it

    @admin.display(description=gettext_lazy("departments"))
    def department_names(self, obj: ApiToken) -> str:
        names = [department.name for department in obj.departments.all()]
        return "、".join(names) or _("All departments")

    @admin.display(description=gettext_lazy("state"))
    def state(self, obj: ApiToken) -> str:
        if obj.revoked_at is not None:
            return _("Revoked")
        if obj.is_expired():
            return _("Expired")
        return _("Active")

    def save_model(self, request, obj, form, change):
        municipality = staff_context(request).municipality or form.cleaned_data["municipality"]
        try:
            token, key = api_token_create(
                actor=request.user,
                municipality=municipality,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.cleaned_data["expires_at"],
                departments=form.cleaned_data["departments"],
            )
        except ServiceError as refused:
            messages.error(request, str(refused))
            return
        obj.pk, obj.municipality = token.pk, municipality
        obj._state.adding = False
        messages.warning(
            request,
            _("The token of %(name)s, shown this once (copy it now): %(key)s")
            % {"name": token.name, "key": key},
        )

    def save_related(self, request, form, formsets, change):
        pass  # api_token_create set the departments

    def log_addition(self, request, obj, message):
        # api_token_create wrote the audit entry already.
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        now = timezone.now()
        for token in queryset:
            api_token_revoke(actor=request.user, token=token, now=now)
        messages.success(request, _("The tokens were revoked."))
