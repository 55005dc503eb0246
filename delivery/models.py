"""Models of delivery: the product's LINE side (channels, friends, webhook events,
outbound messages). The LINE simulator's state is its own app's (delivery.simulator)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from delivery.broadcasts.models import *  # noqa: F403  (segments, broadcasts, reminders)
from delivery.disaster.models import *  # noqa: F403  (disaster mode, shelters, safety checks)
from delivery.faq.models import *  # noqa: F403  (FAQ entries, unanswered questions)
from delivery.richmenus.models import *  # noqa: F403  (rich menus and their links)
from delivery.spots.models import *  # noqa: F403  (spots and their imports)
from govtech.crypto import EncryptedTextField
from govtech.models import TenantOwned
from procedures.models import Resident


class ChannelMode(models.TextChoices):
    ACTIVE = "active", _("Active: this installation answers residents")
    STANDBY = "standby", _("Standby: events are received but not answered")


class LineChannel(TenantOwned):
    """A municipality's LINE official account (a Messaging API channel).

    The secret and the access token are encrypted at rest (govtech.crypto).
    """

    name = models.CharField(_("name"), max_length=100)
    channel_id = models.CharField(_("channel ID"), max_length=20, unique=True)
    channel_secret = EncryptedTextField(_("channel secret"))
    access_token = EncryptedTextField(_("channel access token"))
    bot_user_id = models.CharField(_("bot user ID"), max_length=33, blank=True)
    mode = models.CharField(
        _("mode"), max_length=10, choices=ChannelMode.choices, default=ChannelMode.ACTIVE
    )
    welcome_message = models.TextField(
        _("welcome message"),
        blank=True,
        help_text=_(
            "Sent when a resident adds the account as a friend. Empty: a standard greeting."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("LINE channel")
        verbose_name_plural = _("LINE channels")
        ordering = ["channel_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.channel_id})"

    @property
    def webhook_url(self) -> str:
        return f"{settings.SITE_URL}/line/webhook/{self.channel_id}/"


class Friend(TenantOwned):
    """A resident's LINE identity on one channel (they added the account). Never a console
    user. Attributes, consents and conversations belong to the ``resident``."""

    resident = models.ForeignKey(
        Resident,
        on_delete=models.CASCADE,
        related_name="line_friends",
        verbose_name=_("resident"),
    )
    channel = models.ForeignKey(
        LineChannel, on_delete=models.CASCADE, related_name="friends", verbose_name=_("channel")
    )
    line_user_id = models.CharField(_("LINE user ID"), max_length=33)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    picture_url = models.URLField(_("picture URL"), max_length=500, blank=True)
    is_following = models.BooleanField(_("following"), default=True)
    followed_at = models.DateTimeField(_("followed at"), null=True, blank=True)
    unfollowed_at = models.DateTimeField(_("blocked at"), null=True, blank=True)
    is_test = models.BooleanField(
        _("test resident"), default=False, help_text=_("A staff member's test account.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("friend")
        verbose_name_plural = _("friends")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "line_user_id"], name="friend_unique_per_channel"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.line_user_id

    @property
    def conversation_language(self) -> str:
        """The resident's chosen language (first taken from this LINE profile's
        ``language``, procedures.languages.profile_language; changed with 「Language / 言語」)."""
        return self.resident.language


class EventStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DONE = "done", _("Processed")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class WebhookEvent(TenantOwned):
    """One webhook event as LINE sent it, stored once (unique webhookEventId).

    Events of one resident are processed in LINE's timestamp order, one at a time.
    """

    channel = models.ForeignKey(LineChannel, on_delete=models.CASCADE, related_name="+")
    webhook_event_id = models.CharField(max_length=40, unique=True)
    line_user_id = models.CharField(max_length=33, blank=True, db_index=True)
    event_type = models.CharField(max_length=30)
    timestamp = models.BigIntegerField(help_text="LINE's event time, ms since the epoch")
    payload = models.JSONField()
    is_redelivery = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=EventStatus.choices, default=EventStatus.PENDING, db_index=True
    )
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["timestamp", "id"]
        indexes = [models.Index(fields=["channel", "line_user_id", "status", "timestamp"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.webhook_event_id}"


class OutboundStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to send")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboundMessage(TenantOwned):
    """Messages to send to one resident, written before sending (the intent row).

    ``retry_key`` is sent as X-Line-Retry-Key on push, so a second attempt after a crash
    is answered 409 by LINE instead of reaching the resident twice.
    """

    channel = models.ForeignKey(LineChannel, on_delete=models.CASCADE, related_name="+")
    friend = models.ForeignKey(Friend, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reply_token = models.CharField(max_length=100, blank=True)
    reply_token_issued_at = models.DateTimeField(null=True, blank=True)
    messages = models.JSONField()
    retry_key = models.UUIDField(default=uuid.uuid4, unique=True)
    status = models.CharField(
        max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.PENDING, db_index=True
    )
    method = models.CharField(max_length=10, blank=True)  # reply or push, once sent
    attempts = models.PositiveSmallIntegerField(default=0)
    # While a worker is sending the row: nobody else may take it before this time, so a
    # reply (which LINE cannot deduplicate) is never followed by a push of the same row.
    claimed_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.friend_id} {self.status}"


__all__ = [
    "ChannelMode",
    "EventStatus",
    "Friend",
    "LineChannel",
    "OutboundMessage",
    "OutboundStatus",
    "WebhookEvent",
]
