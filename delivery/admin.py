"""Console pages: the municipality's LINE channel and its friends."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from delivery.line_api import LineApiError
from delivery.models import Friend, LineChannel, WebhookEvent
from delivery.services import line_channel_test_send, line_channel_verify
from govtech.console import PersonalDataAdminMixin, TenantModelAdmin, console, titled_filter

SECRET_HELP = _("Stored encrypted. Leave empty to keep the current value.")


CHANNEL_ID_UNAVAILABLE = _(
    "This channel ID cannot be registered. Check it in the LINE Developers console; if it "
    "is right, ask the operator of this installation."
)


class LineChannelForm(forms.ModelForm):
    """Secrets are write-only: the form never shows them back."""

    channel_secret = forms.CharField(
        label=_("channel secret"), widget=forms.PasswordInput(render_value=False), required=False
    )
    access_token = forms.CharField(
        label=_("channel access token"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
    )

    class Meta:
        model = LineChannel
        fields = [
            "municipality",
            "name",
            "channel_id",
            "channel_secret",
            "access_token",
            "bot_user_id",
            "mode",
            "welcome_message",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("channel_secret", "access_token"):
            self.fields[name].initial = ""
            if self.instance.pk:
                self.fields[name].help_text = SECRET_HELP

    def _secret(self, name: str) -> str:
        value = self.cleaned_data.get(name, "").strip()
        if not value and not self.instance.pk:
            raise forms.ValidationError(_("This field is required."))
        return value or getattr(self.instance, name)

    def clean_channel_id(self) -> str:
        """Unique across the installation, which the form's own (tenant-scoped) check misses.

        The message is the same whoever holds the ID, so it tells an admin nothing about
        other municipalities.
        """
        channel_id = self.cleaned_data["channel_id"]
        with scopes_disabled():
            taken = LineChannel.objects.filter(channel_id=channel_id).exclude(pk=self.instance.pk)
            if taken.exists():
                raise forms.ValidationError(CHANNEL_ID_UNAVAILABLE)
        return channel_id

    def clean_channel_secret(self) -> str:
        return self._secret("channel_secret")

    def clean_access_token(self) -> str:
        return self._secret("access_token")


@admin.register(LineChannel, site=console)
class LineChannelAdmin(TenantModelAdmin):
    form = LineChannelForm
    list_display = ["name", "channel_id", "mode", "webhook"]
    readonly_fields = ["webhook"]
    actions = ["verify_connection", "send_test_message"]
    view_roles = frozenset({"admin", "broadcaster"})
    edit_roles = frozenset({"admin"})

    @admin.display(description=_("webhook URL"))
    def webhook(self, obj: LineChannel) -> str:
        if not obj.pk:
            return "—"
        return format_html(
            "<code>{}</code><br><small>{}</small>",
            obj.webhook_url,
            _("Enter this URL in the LINE Developers console (Messaging API → Webhook URL)."),
        )

    @admin.action(description=_("Verify the connection to LINE"))
    def verify_connection(self, request, queryset):
        for channel in queryset:
            try:
                info = line_channel_verify(actor=request.user, channel=channel)
            except LineApiError as exc:
                messages.error(
                    request,
                    _("%(name)s: LINE refused: %(error)s") % {"name": channel, "error": exc},
                )
                continue
            messages.success(
                request,
                _("%(name)s: connected as %(bot)s")
                % {"name": channel, "bot": info["display_name"]},
            )

    @admin.action(description=_("Send a test message to test residents"))
    def send_test_message(self, request, queryset):
        for channel in queryset:
            sent = line_channel_test_send(actor=request.user, channel=channel)
            messages.info(
                request,
                _("%(name)s: test message sent to %(count)s test residents")
                % {"name": channel, "count": sent},
            )


@admin.register(Friend, site=console)
class FriendAdmin(PersonalDataAdminMixin, TenantModelAdmin):
    """Residents who added the account. Their choices are theirs: staff only mark test accounts."""

    viewed_action = "delivery.friend.viewed"

    list_display = ["__str__", "language", "is_following", "followed_at", "is_test"]
    list_filter = ["is_following", "is_test", "language"]
    search_fields = ["display_name"]
    fields = [
        "display_name",
        "language",
        "is_following",
        "followed_at",
        "unfollowed_at",
        "resident_attributes",
        "is_test",
    ]
    readonly_fields = [
        "display_name",
        "language",
        "is_following",
        "followed_at",
        "unfollowed_at",
        "resident_attributes",
    ]
    view_roles = frozenset({"admin", "broadcaster"})
    edit_roles = frozenset({"admin"})

    @admin.display(description=_("attributes"))
    def resident_attributes(self, obj: Friend) -> dict:
        return obj.resident.attributes

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent, site=console)
class WebhookEventAdmin(TenantModelAdmin):
    """For operators diagnosing delivery: what LINE sent and what became of it.

    The model's fields carry no verbose names (changing them is a migration), so every
    column and field is a display method with a translated description.
    """

    list_display = ["received", "kind", "state", "redelivery", "event_id"]
    list_filter = [
        ("status", titled_filter(_("status"))),
        ("event_type", titled_filter(_("event type"))),
        ("is_redelivery", titled_filter(_("redelivered by LINE"))),
    ]
    fields = ["event_id", "kind", "state", "failure", "redelivery", "received", "processed"]
    readonly_fields = fields
    view_roles = frozenset()
    edit_roles = frozenset()

    @admin.display(description=_("received at"), ordering="received_at")
    def received(self, obj):
        return obj.received_at

    @admin.display(description=_("event type"), ordering="event_type")
    def kind(self, obj):
        return obj.event_type

    @admin.display(description=_("status"), ordering="status")
    def state(self, obj):
        return obj.get_status_display()

    @admin.display(description=_("redelivered by LINE"), boolean=True)
    def redelivery(self, obj):
        return obj.is_redelivery

    @admin.display(description=_("webhook event ID"))
    def event_id(self, obj):
        return obj.webhook_event_id

    @admin.display(description=_("error"))
    def failure(self, obj):
        return obj.error or "—"

    @admin.display(description=_("processed at"))
    def processed(self, obj):
        return obj.processed_at or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


from delivery.broadcasts import admin as _broadcasts_admin  # noqa: E402, F401
from delivery.disaster import admin as _disaster_admin  # noqa: E402, F401
from delivery.faq import admin as _faq_admin  # noqa: E402, F401
from delivery.richmenus import admin as _richmenus_admin  # noqa: E402, F401
from delivery.spots import admin as _spots_admin  # noqa: E402, F401
