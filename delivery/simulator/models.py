"""The simulator's own state: what the LINE platform would know.

Nothing here is tenant-owned: the simulator plays LINE, a system outside every
municipality, so these models use plain managers (no django-scopes) and never point
at the product's models.
"""

import secrets
import uuid

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

if not apps.is_installed("delivery.simulator"):
    # Else Django would quietly count these models as the delivery app's (the package
    # they live in), and a makemigrations would put them back in production's schema.
    raise ImproperlyConfigured(
        "delivery.simulator is imported but not installed (SIMULATOR_ENABLED is off)."
        " Production code reaches it through delivery.simulator_adapter only."
    )

__all__ = [
    "SimulatorApiCall",
    "SimulatorChannel",
    "SimulatorFriendship",
    "SimulatorMessageContent",
    "SimulatorNarrowcast",
    "SimulatorRateCounter",
    "SimulatorReplyToken",
    "SimulatorRetryKey",
    "SimulatorRichMenu",
    "SimulatorRichMenuAlias",
    "SimulatorRichMenuLink",
    "SimulatorTranscriptEntry",
    "SimulatorUser",
]

# Requests per window, per endpoint family, per channel, as LINE publishes them.
# {family: [max requests, window seconds]}
DEFAULT_RATE_LIMITS: dict[str, list[int]] = {
    "reply": [2000, 1],
    "push": [2000, 1],
    "multicast": [200, 1],
    "narrowcast": [60, 3600],
    "broadcast": [60, 3600],
    "narrowcast_progress": [2000, 1],
    "richmenu_write": [100, 3600],
    # Link and unlink for many users are "other endpoints" (2,000/s); only the batch
    # replace endpoint, not emulated, is limited to 3 an hour.
    "bulk_link": [2000, 1],
    "default": [2000, 1],
}


def default_rate_limits() -> dict[str, list[int]]:
    return {family: list(limit) for family, limit in DEFAULT_RATE_LIMITS.items()}


def new_line_user_id() -> str:
    """A LINE user ID: ``U`` and 32 lowercase hex digits."""
    return "U" + secrets.token_hex(16)


def new_channel_secret() -> str:
    return secrets.token_hex(16)


def new_channel_access_token() -> str:
    return secrets.token_urlsafe(128)


def new_line_message_id() -> str:
    """LINE message IDs are decimal strings of 18 digits."""
    return str(10**17 + secrets.randbelow(9 * 10**17))


class SimulatorChannel(models.Model):
    """A Messaging API channel (a municipality's LINE official account) inside the simulator."""

    channel_id = models.CharField(_("channel ID"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    municipality = models.CharField(
        _("municipality"), max_length=100, blank=True, help_text=_("A label such as demo-city.")
    )
    channel_secret = models.CharField(
        _("channel secret"), max_length=64, default=new_channel_secret
    )
    channel_access_token = models.CharField(
        _("channel access token"), max_length=255, unique=True, default=new_channel_access_token
    )
    bot_user_id = models.CharField(
        _("bot user ID"), max_length=33, unique=True, default=new_line_user_id
    )
    basic_id = models.CharField(_("basic ID"), max_length=20, blank=True)
    picture_url = models.URLField(_("picture URL"), blank=True)
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    webhook_enabled = models.BooleanField(_("webhook enabled"), default=True)
    reply_token_ttl_seconds = models.PositiveIntegerField(
        _("reply token lifetime (seconds)"), default=60
    )
    rate_limits = models.JSONField(_("rate limits"), default=default_rate_limits, blank=True)
    monthly_quota = models.PositiveIntegerField(
        _("monthly message quota"), null=True, blank=True, help_text=_("Empty means unlimited.")
    )
    record_transcript = models.BooleanField(
        _("record delivered messages"),
        default=True,
        help_text=_("Off for load tests: deliveries are counted, not written to the transcript."),
    )
    lean_sending = models.BooleanField(
        _("lean sending (benchmarks)"),
        default=False,
        help_text=_(
            "On for benchmarks only: multicast keeps authentication, the rate limit, validation,"
            " the 500-recipient cap and retry keys (409), but skips the recipient lookup,"
            " quota counting and the API call log, and keeps connections alive."
        ),
    )
    default_rich_menu = models.ForeignKey(
        "SimulatorRichMenu", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("simulator channel")
        verbose_name_plural = _("simulator channels")
        ordering = ["channel_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.channel_id})"


class SimulatorUser(models.Model):
    """A resident's LINE account. One user ID for all channels (one provider)."""

    class Language(models.TextChoices):
        """What LINE's profile says for the app's display language (a few of them)."""

        JA = "ja", _("Japanese")
        EN = "en", _("English")
        ZH_HANS = "zh-Hans", _("Chinese (Simplified)")
        ZH_HANT = "zh-Hant", _("Chinese (Traditional)")
        KO = "ko", _("Korean")
        VI = "vi", _("Vietnamese")
        PT_BR = "pt-BR", _("Portuguese (Brazil)")
        ES = "es", _("Spanish")
        ID = "id", _("Indonesian")
        TH = "th", _("Thai")

    user_id = models.CharField(_("user ID"), max_length=33, unique=True, default=new_line_user_id)
    display_name = models.CharField(_("display name"), max_length=100)
    picture_url = models.URLField(_("picture URL"), blank=True)
    status_message = models.CharField(_("status message"), max_length=500, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language, default=Language.JA)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("simulator user")
        verbose_name_plural = _("simulator users")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.user_id})"


class SimulatorFriendship(models.Model):
    """Whether a user has added a channel as a friend, or blocked it (LINE's unfollow)."""

    class Status(models.TextChoices):
        FRIEND = "friend", _("friend")
        BLOCKED = "blocked", _("blocked")

    channel = models.ForeignKey(
        SimulatorChannel, on_delete=models.CASCADE, related_name="friendships"
    )
    user = models.ForeignKey(SimulatorUser, on_delete=models.CASCADE, related_name="friendships")
    status = models.CharField(max_length=10, choices=Status, default=Status.FRIEND)
    changed_at = models.DateTimeField(auto_now=True)
    # Set by the loading-animation endpoint; the chat page shows dots until then.
    loading_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "user"], name="sim_friendship_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.channel_id}: {self.status}"


class SimulatorTranscriptEntry(models.Model):
    """One message in a chat, either way, in the order LINE saw them (by ``id``).

    ``in``: the webhook event exactly as sent. ``out``: one LINE message object exactly
    as the API received it, one row per delivered recipient.
    """

    class Direction(models.TextChoices):
        IN = "in", _("resident → bot")
        OUT = "out", _("bot → resident")

    channel = models.ForeignKey(SimulatorChannel, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(SimulatorUser, on_delete=models.CASCADE, related_name="transcript")
    direction = models.CharField(max_length=3, choices=Direction)
    at = models.DateTimeField()
    message = models.JSONField()
    line_message_id = models.CharField(max_length=20, blank=True)
    webhook_event_id = models.CharField(max_length=26, blank=True, db_index=True)
    webhook_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # What the LINE app shows for a postback with displayText; not part of the event.
    display_text = models.CharField(max_length=300, blank=True)
    api_request_id = models.CharField(max_length=36, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "channel", "id"], name="sim_transcript_chat")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.direction}"


class SimulatorReplyToken(models.Model):
    """A reply token handed out with a webhook event: single use, short-lived."""

    token = models.CharField(max_length=64, unique=True)
    channel = models.ForeignKey(SimulatorChannel, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(SimulatorUser, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.token


class SimulatorRetryKey(models.Model):
    """An accepted ``X-Line-Retry-Key``: a second request with it gets 409."""

    channel = models.ForeignKey(SimulatorChannel, on_delete=models.CASCADE, related_name="+")
    key = models.UUIDField()
    accepted_request_id = models.CharField(max_length=36)
    sent_messages = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "key"], name="sim_retry_key_unique"),
        ]

    def __str__(self) -> str:
        return str(self.key)


class SimulatorMessageContent(models.Model):
    """The bytes of a message a resident sent (an image), served by the content API."""

    message_id = models.CharField(max_length=20, unique=True)
    channel = models.ForeignKey(SimulatorChannel, on_delete=models.CASCADE, related_name="+")
    content_type = models.CharField(max_length=100)
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.message_id


def new_rich_menu_id() -> str:
    return "richmenu-" + uuid.uuid4().hex


class SimulatorRichMenu(models.Model):
    """A rich menu as created through the API; ``body`` is the request as received."""

    channel = models.ForeignKey(
        SimulatorChannel, on_delete=models.CASCADE, related_name="rich_menus"
    )
    rich_menu_id = models.CharField(max_length=60, unique=True, default=new_rich_menu_id)
    body = models.JSONField()
    image = models.BinaryField(null=True, blank=True)
    image_content_type = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.rich_menu_id


class SimulatorRichMenuAlias(models.Model):
    channel = models.ForeignKey(SimulatorChannel, on_delete=models.CASCADE, related_name="+")
    alias_id = models.CharField(max_length=32)
    rich_menu = models.ForeignKey(
        SimulatorRichMenu, on_delete=models.CASCADE, related_name="aliases"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "alias_id"], name="sim_alias_unique"),
        ]

    def __str__(self) -> str:
        return self.alias_id


class SimulatorRichMenuLink(models.Model):
    """The rich menu linked to one user (it wins over the channel's default)."""

    channel = models.ForeignKey(SimulatorChannel, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(SimulatorUser, on_delete=models.CASCADE, related_name="+")
    rich_menu = models.ForeignKey(SimulatorRichMenu, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "user"], name="sim_richmenu_link_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.rich_menu_id}"


class SimulatorNarrowcast(models.Model):
    """Progress of one narrowcast request (the simulator delivers at once)."""

    channel = models.ForeignKey(SimulatorChannel, on_delete=models.CASCADE, related_name="+")
    request_id = models.CharField(max_length=36, unique=True)
    phase = models.CharField(max_length=12, default="waiting")
    target_count = models.PositiveIntegerField(default=0)
    success_count = models.PositiveIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0)
    accepted_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.request_id


class SimulatorRateCounter(models.Model):
    """Requests counted in one fixed window; in the DB so that every process shares it."""

    channel = models.ForeignKey(SimulatorChannel, on_delete=models.CASCADE, related_name="+")
    family = models.CharField(max_length=30)
    window = models.BigIntegerField(help_text="Start of the window, in seconds since the epoch.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "family", "window"], name="sim_rate_counter_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family}@{self.window}: {self.count}"


class SimulatorApiCall(models.Model):
    """One Messaging API request: the log, and the source of quota consumption."""

    channel = models.ForeignKey(
        SimulatorChannel, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    request_id = models.CharField(max_length=36, unique=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()
    quota_consumed = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"
