"""Open311 clients in the console: a municipality's admins create one per application
(the key is shown once), see when each was last used, and revoke keys. Registered from
``reports.admin``."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govtech.access import staff_context
from govtech.console import TenantModelAdmin, console
from govtech.models import Role
from reports.models import Open311Client
from reports.open311.clients import open311_client_create, open311_client_revoke

ADMINS = frozenset({Role.ADMIN})


@admin.register(Open311Client, site=console)
class Open311ClientAdmin(TenantModelAdmin):
    list_display = ["name", "key_prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]
    view_roles = ADMINS
    edit_roles = ADMINS

    def get_fields(self, request, obj=None):
        if obj is not None:
            return ["name", *self.readonly_fields]
        return ["municipality", "name"] if staff_context(request).is_operator else ["name"]

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: the audit log and reports refer to it

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        municipality = staff_context(request).municipality or obj.municipality
        client, key = open311_client_create(
            actor=request.user, municipality=municipality, name=obj.name
        )
        obj.pk, obj.municipality = client.pk, municipality
        obj._state.adding = False
        messages.warning(
            request,
            _("The API key of %(name)s, shown this once (copy it now): %(key)s")
            % {"name": client.name, "key": key},
        )

    def log_addition(self, request, obj, message):
        # open311_client_create wrote the audit entry already.
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    @admin.action(description=gettext_lazy("Revoke the selected keys"))
    def revoke(self, request, queryset):
        now = timezone.now()
        for client in queryset:
            open311_client_revoke(actor=request.user, client=client, now=now)
        messages.success(request, _("The keys were revoked."))
