"""Residents and what is sent to them: one person of one municipality, whatever channel
they use, and the outbox of notices written for them."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govtech.models import TenantOwned


class Resident(TenantOwned):
    """One person of one municipality. A LINE friend (delivery.Friend) is one of their
    identities, a terminal or web session another; conversations, submissions, bookings,
    attributes and consents belong here.

    ``handle`` names a resident known without a channel identity (``terminal:taro``, a
    resident string migrated from before residents existed); empty otherwise.
    """

    handle = models.CharField(_("handle"), max_length=120, blank=True)
    display_name = models.CharField(
        _("display name"),
        max_length=100,
        blank=True,
        help_text=_("The name the resident uses on their channel (their LINE name)."),
    )
    # A code of procedures.languages.RESIDENT_LANGUAGES (ja-x-easy: やさしい日本語).
    language = models.CharField(_("language"), max_length=16, default="ja")
    attributes = models.JSONField(
        _("attributes"),
        default=dict,
        blank=True,
        help_text=_("Values of the municipality's attribute fields, set by the resident."),
    )
    consents = models.JSONField(
        _("consents"),
        default=dict,
        blank=True,
        help_text=_("What the resident agreed to, and when (key: ISO time)."),
    )
    is_test = models.BooleanField(
        _("test resident"), default=False, help_text=_("A staff member's test account.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # A reply window (procedures.casework.chat): after 返信する, the resident's next text or
    # photo goes to the reviewer about this submission, until then.
    replying_to = models.ForeignKey(
        "procedures.Submission",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replying to"),
    )
    replying_until = models.DateTimeField(_("replying until"), null=True, blank=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "handle"],
                condition=~Q(handle=""),
                name="resident_handle_unique",
            )
        ]

    def __str__(self) -> str:
        return self.handle or _("resident %(id)s") % {"id": self.pk}


class NoticeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to send")
    SENT = "sent", _("Sent")
    UNREACHABLE = "unreachable", _("No channel reaches the resident")
    FAILED = "failed", _("Failed")


class Notice(TenantOwned):
    """Something to tell one resident: the outbox row, written in the caller's transaction.

    ``prompts`` are the engine's transport-neutral prompts (``to_dict()``), already in the
    resident's language. A channel (LINE in delivery, later the web or e-mail) sends it
    after commit; ``once_key`` (unique per municipality) makes a second request for the
    same notice a no-op, ``retry_key`` is what the channel sends so that LINE drops a
    repeated push. Failures are recorded here, never dropped.
    """

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="notices", verbose_name=_("resident")
    )
    once_key = models.CharField(_("once key"), max_length=120)
    prompts = models.JSONField(_("prompts"))
    retry_key = models.UUIDField(default=uuid.uuid4, unique=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=NoticeStatus.choices,
        default=NoticeStatus.PENDING,
        db_index=True,
    )
    channel = models.CharField(_("sent through"), max_length=20, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "once_key"], name="notice_once_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.once_key} ({self.status})"
