"""Console pages: resident attributes, segments (rule builder, live count), broadcasts
(approval, cancel, test send, progress bar), broadcast policy and calendar reminders."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from delivery.broadcasts import preview, rule_builder, selectors, services
from delivery.broadcasts.models import (
    AttributeField,
    Broadcast,
    BroadcastPolicy,
    BroadcastStatus,
    ReminderRule,
    Segment,
)
from delivery.broadcasts.segments import validate_rules
from delivery.line_api import LineApiError
from delivery.models import LineChannel
from govtech.access import staff_context
from govtech.console import TenantModelAdmin, console
from govtech.services import ServiceError

BROADCAST_ROLES = frozenset({"admin", "broadcaster"})


@admin.register(AttributeField, site=console)
class AttributeFieldAdmin(TenantModelAdmin):
    list_display = ["key", "label", "kind"]
    view_roles = BROADCAST_ROLES


@admin.register(BroadcastPolicy, site=console)
class BroadcastPolicyAdmin(TenantModelAdmin):
    list_display = ["municipality", "approval_required", "quota_ceiling", "requests_per_second"]
    view_roles = BROADCAST_ROLES


@admin.register(ReminderRule, site=console)
class ReminderRuleAdmin(TenantModelAdmin):
    list_display = ["name", "attribute_key", "attribute_value", "send_time", "is_active"]
    view_roles = BROADCAST_ROLES
    edit_roles = BROADCAST_ROLES


class SegmentForm(forms.ModelForm):
    """The admin adds Meta (fields come from the admin, at request time, inside the scope)."""

    def clean_rules(self):
        rules = self.cleaned_data["rules"]
        validate_rules(rules)
        return rules


def _channel(request) -> LineChannel:
    channel = LineChannel.objects.first()  # the request's tenant scope limits this
    if channel is None:
        raise Http404
    return channel


@admin.register(Segment, site=console)
class SegmentAdmin(TenantModelAdmin):
    form = SegmentForm
    fields = ["municipality", "name", "rules"]
    list_display = ["name", "created_at"]
    view_roles = BROADCAST_ROLES
    edit_roles = BROADCAST_ROLES
    change_form_template = "broadcasts/segment_change_form.html"

    def get_urls(self):
        count = self.admin_site.admin_view(require_POST(self.count_view))
        return [path("count/", count, name="delivery_segment_count"), *super().get_urls()]

    def count_view(self, request):
        """The live count for the rule builder: rules in, one COUNT(*) out."""
        if not self.has_view_permission(request):
            raise Http404
        try:
            rules = json.loads(request.body or b"{}")
            count = selectors.segment_count(channel=_channel(request), rules=rules)
        except (ValueError, ValidationError) as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        return JsonResponse({"count": count})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "rule_builder": rule_builder.builder_config()}
        return super().changeform_view(request, object_id, form_url, extra_context)


class BroadcastForm(forms.ModelForm):
    def clean_messages(self):
        from delivery.broadcasts.messages import validate_items

        items = self.cleaned_data["messages"]
        validate_items(items)
        return items


@admin.register(Broadcast, site=console)
class BroadcastAdmin(TenantModelAdmin):
    form = BroadcastForm
    fields = ["municipality", "channel", "title", "segment", "messages", "scheduled_at"]
    list_display = ["title", "status", "scheduled_at", "recipients_count", "sent_count"]
    list_filter = ["status"]
    view_roles = BROADCAST_ROLES
    edit_roles = BROADCAST_ROLES
    actions = ["submit", "approve", "cancel", "test_send"]
    change_form_template = "broadcasts/broadcast_change_form.html"
    readonly_fields = [
        "status",
        "approved_by",
        "approved_at",
        "started_at",
        "frozen_at",
        "finished_at",
        "recipients_count",
        "sent_count",
        "failed_count",
        "skipped_count",
        "error",
    ]

    def has_change_permission(self, request, obj=None):
        editable = obj is None or obj.status == BroadcastStatus.DRAFT
        return editable and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        progress = self.admin_site.admin_view(self.progress_view)
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("<int:pk>/progress/", progress, name="delivery_broadcast_progress"),
            path("<int:pk>/preview/", preview, name="delivery_broadcast_preview"),
            *super().get_urls(),
        ]

    def progress_view(self, request, pk):
        """Polled by the progress bar: sent / failed / skipped / remaining."""
        if not self.has_view_permission(request):
            raise Http404
        broadcast = get_object_or_404(Broadcast, pk=pk)
        return JsonResponse(selectors.broadcast_progress(broadcast=broadcast))

    def preview_view(self, request, pk):
        """The LINE messages the sender will send, for the preview (sample name filled in)."""
        if not self.has_view_permission(request):
            raise Http404
        broadcast = get_object_or_404(Broadcast, pk=pk)
        return JsonResponse(preview.broadcast_preview(broadcast=broadcast))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["progress"] = selectors.broadcast_progress(broadcast=obj)
            extra_context["quota"] = self._quota(obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def _quota(self, broadcast):
        from delivery.line_api import LineClient

        try:
            with LineClient(broadcast.channel.access_token) as client:
                quota, used = client.quota(retries=0), client.quota_consumption(retries=0)
        except LineApiError:
            return None
        projected = selectors.audience(broadcast=broadcast).count()
        return {"quota": quota, "used": used, "projected": projected}

    def _each(self, request, queryset, service, done):
        for broadcast in queryset:
            try:
                service(actor=request.user, broadcast=broadcast)
                self.message_user(request, done % {"title": broadcast.title}, messages.SUCCESS)
            except (ServiceError, LineApiError) as exc:
                self.message_user(request, f"{broadcast.title}: {exc}", messages.ERROR)

    @admin.action(description=_("Submit (for approval when required)"))
    def submit(self, request, queryset):
        self._each(request, queryset, services.broadcast_submit, _("Submitted: %(title)s"))

    @admin.action(description=_("Approve"))
    def approve(self, request, queryset):
        if not staff_context(request).has_any({"admin"}):
            self.message_user(request, _("Only a municipality admin can approve."), messages.ERROR)
            return
        self._each(request, queryset, services.broadcast_approve, _("Approved: %(title)s"))

    @admin.action(description=_("Cancel before sending"))
    def cancel(self, request, queryset):
        self._each(request, queryset, services.broadcast_cancel, _("Cancelled: %(title)s"))

    @admin.action(description=_("Send a test to the test residents"))
    def test_send(self, request, queryset):
        self._each(request, queryset, services.broadcast_test_send, _("Test sent: %(title)s"))
