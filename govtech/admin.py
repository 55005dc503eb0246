"""Console pages for municipalities, departments, staff, vendors and the audit log."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.password_validation import validate_password
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from govtech.access import staff_context
from govtech.console import AuditedAdminMixin, RoleAdminMixin, TenantModelAdmin, console
from govtech.models import AuditLogEntry, Department, Municipality, Role, User, Vendor
from govtech.services import ServiceError, staff_create, staff_set_roles

OPERATORS_ONLY: frozenset[str] = frozenset()


@admin.register(Municipality, site=console)
class MunicipalityAdmin(RoleAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "prefecture", "population"]
    search_fields = ["name", "slug"]
    edit_roles = frozenset({"admin"})

    def get_queryset(self, request):
        staff = staff_context(request)
        queryset = super().get_queryset(request)
        if staff.is_operator:
            return queryset
        if staff.municipality is None:
            return queryset.none()
        return queryset.filter(pk=staff.municipality.pk)

    def get_readonly_fields(self, request, obj=None):
        return [] if staff_context(request).is_operator else ["slug"]

    def has_add_permission(self, request):
        return staff_context(request).is_operator

    def has_delete_permission(self, request, obj=None):
        return staff_context(request).is_operator


@admin.register(Department, site=console)
class DepartmentAdmin(TenantModelAdmin):
    list_display = ["name", "code", "email", "phone"]
    search_fields = ["name", "code"]


class StaffForm(forms.ModelForm):
    """Create or edit a staff member of the current municipality, roles included."""

    roles = forms.MultipleChoiceField(
        label=_("roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )
    departments = forms.ModelMultipleChoiceField(
        label=_("departments"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Reviewers handle the submissions of these departments (all when empty)."),
    )
    password = forms.CharField(
        label=_("initial password"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=_("At least 12 characters. Leave empty when editing to keep the password."),
    )

    class Meta:
        model = User
        fields = ["email", "display_name", "is_active"]

    def __init__(self, *args, municipality: Municipality | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.municipality = municipality
        self.fields["departments"].queryset = Department.objects.all()
        if self.instance.pk:
            self.fields["email"].disabled = True
            memberships = self.instance.memberships.all()
            self.initial["roles"] = [m.role for m in memberships]
            first = memberships.first()
            self.initial["departments"] = list(first.departments.all()) if first else []

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if not self.instance.pk and not password:
            raise forms.ValidationError(_("A new staff member needs an initial password."))
        if password:
            validate_password(password, self.instance if self.instance.pk else None)
        return password


@admin.register(User, site=console)
class StaffUserAdmin(RoleAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Municipality admins manage their own staff; operators see every account."""

    form = StaffForm
    list_display = ["email", "display_name", "roles_display", "is_active", "last_login"]
    search_fields = ["email", "display_name"]
    list_filter = ["is_active"]
    ordering = ["email"]
    edit_roles = frozenset({"admin"})
    view_roles = frozenset({"admin"})

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        staff = staff_context(request)
        queryset = super().get_queryset(request).prefetch_related("memberships")
        if staff.is_operator:
            return queryset
        if staff.municipality is None:
            return queryset.none()
        # Memberships are scoped: the join only sees this municipality's rows.
        return queryset.filter(memberships__municipality=staff.municipality).distinct()

    @admin.display(description=_("roles"))
    def roles_display(self, obj: User) -> str:
        return ", ".join(str(Role(m.role).label) for m in obj.memberships.all())

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        municipality = staff_context(request).municipality

        class BoundStaffForm(form_class):
            def __init__(self, *args, **kw):
                super().__init__(*args, municipality=municipality, **kw)

        return BoundStaffForm

    def has_add_permission(self, request):
        # An operator works across tenants; staff are added from inside a municipality.
        return staff_context(request).municipality is not None and super().has_add_permission(
            request
        )

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the audit log keeps pointing at the account

    def save_model(self, request, obj, form, change):
        municipality = staff_context(request).municipality
        data = form.cleaned_data
        try:
            if not change:
                created = staff_create(
                    actor=request.user,
                    municipality=municipality,
                    email=data["email"],
                    password=data["password"],
                    roles=data["roles"],
                    display_name=data["display_name"],
                    departments=data["departments"],
                )
                obj.pk = created.pk
                obj.refresh_from_db()
                return
            if data.get("password"):
                obj.set_password(data["password"])
            obj.save()
            if municipality is not None:
                staff_set_roles(
                    actor=request.user,
                    municipality=municipality,
                    user=obj,
                    roles=data["roles"],
                    departments=data["departments"],
                )
        except ServiceError as exc:
            messages.error(request, str(exc))

    def save_related(self, request, form, formsets, change):
        """Roles and departments are saved by the staff services, not as plain m2m fields."""


@admin.register(Vendor, site=console)
class VendorAdmin(RoleAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "website"]
    view_roles = OPERATORS_ONLY
    edit_roles = OPERATORS_ONLY
    filter_horizontal = ["members"]


@admin.register(AuditLogEntry, site=console)
class AuditLogEntryAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Read-only: the audit log is appended to by services, never edited."""

    list_display = ["at", "actor_label", "action", "target_type", "target_label", "ip_address"]
    list_filter = ["action"]
    search_fields = ["actor_label", "action", "target_label"]
    date_hierarchy = "at"
    view_roles = frozenset({"admin"})
    edit_roles = OPERATORS_ONLY
    list_select_related = ["municipality"]

    def get_list_filter(self, request):
        if staff_context(request).is_operator:
            return ["municipality", *self.list_filter]
        return self.list_filter

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
