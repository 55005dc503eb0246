"""Disaster mode: a municipality's settings and its on/off state, alert templates, the
shelters it opens (evacuation spots with a status), the switch requests (with an optional
second person), the alerts sent and the safety checks (安否確認) with their answers.

Written only by ``delivery.disaster.services``.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from delivery.broadcasts.models import AttributeField, Broadcast
from delivery.spots.models import Spot
from govtech.models import Municipality, TenantOwned
from procedures.residents.models import Resident

__all__ = [
    "AlertTemplate",
    "DisasterAlert",
    "DisasterSettings",
    "DisasterSwitch",
    "SafetyAnswer",
    "SafetyAnswerChoice",
    "SafetyCheck",
    "Shelter",
    "ShelterStatus",
    "SwitchStatus",
]


class DisasterSettings(TenantOwned):
    """What a municipality prepared in peacetime, and whether disaster mode is on now."""

    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality")
    )
    area_field = models.ForeignKey(
        AttributeField,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("area attribute"),
        help_text=_(
            "The resident attribute that says their area (地区): alerts and safety "
            "checks can go to chosen areas, results are counted by it."
        ),
    )
    second_person_required = models.BooleanField(
        _("a second admin must confirm"),
        default=False,
        help_text=_(
            "Switching on or off takes effect only when another municipality admin confirms it."
        ),
    )
    is_active = models.BooleanField(_("disaster mode on"), default=False)
    changed_at = models.DateTimeField(_("switched at"), null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("switched by"),
    )

    class Meta:
        verbose_name = _("disaster mode")
        verbose_name_plural = _("disaster mode")

    def __str__(self) -> str:
        return str(self.municipality)


class AlertTemplate(TenantOwned):
    """A prepared alert, e.g. 避難指示 or 高齢者等避難: chosen when switching on."""

    title = models.CharField(_("title"), max_length=100)
    text = models.TextField(_("text"), max_length=2000)

    class Meta:
        verbose_name = _("alert template")
        verbose_name_plural = _("alert templates")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ShelterStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("shelter", "Open")
    FULL = "full", pgettext_lazy("shelter", "Full")
    CLOSED = "closed", pgettext_lazy("shelter", "Closed")


class Shelter(TenantOwned):
    """An evacuation spot the municipality uses in disaster mode, with its status now."""

    spot = models.OneToOneField(
        Spot, on_delete=models.CASCADE, related_name="shelter", verbose_name=_("spot")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ShelterStatus.choices, default=ShelterStatus.CLOSED
    )
    status_changed_at = models.DateTimeField(_("status updated at"), null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("status updated by"),
    )

    class Meta:
        verbose_name = _("shelter")
        verbose_name_plural = _("shelters")
        ordering = ["spot__name"]

    def __str__(self) -> str:
        return self.spot.name


class SwitchStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a second admin")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class DisasterSwitch(TenantOwned):
    """One request to switch disaster mode on or off, and the alert to send with it.

    ``request_key`` comes from the confirmation page: a resubmitted or double-tapped form
    finds the request it already made instead of making another.
    """

    turn_on = models.BooleanField(_("switch on"))
    status = models.CharField(
        _("status"), max_length=10, choices=SwitchStatus.choices, default=SwitchStatus.PENDING
    )
    alert_title = models.CharField(_("alert title"), max_length=100, blank=True)
    alert_text = models.TextField(_("alert text"), max_length=2000, blank=True)
    area_values = models.JSONField(_("areas"), default=list, blank=True)
    request_key = models.UUIDField(unique=True, default=uuid.uuid4)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("disaster mode switch")
        verbose_name_plural = _("disaster mode switches")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{'on' if self.turn_on else 'off'} {self.requested_at:%Y-%m-%d %H:%M}"


class DisasterAlert(TenantOwned):
    """An alert sent at once, without approval, to everyone or to chosen areas.

    One per ``request_key`` (the switch's, or the alert page's form): sent exactly once.
    ``broadcasts``: one per LINE channel of the municipality.
    """

    switch = models.OneToOneField(
        DisasterSwitch, on_delete=models.SET_NULL, null=True, blank=True, related_name="alert"
    )
    title = models.CharField(_("title"), max_length=100)
    text = models.TextField(_("text"), max_length=2000)
    area_values = models.JSONField(_("areas"), default=list, blank=True)
    request_key = models.UUIDField(unique=True)
    broadcasts = models.ManyToManyField(Broadcast, related_name="+", blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("disaster alert")
        verbose_name_plural = _("disaster alerts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class SafetyCheck(TenantOwned):
    """A one-tap safety check (安否確認) sent to everyone or chosen areas.

    ``area_key`` is the area attribute when it was sent: results are counted by it.
    """

    text = models.TextField(_("question"), max_length=1000)
    area_key = models.CharField(_("area attribute"), max_length=40, blank=True)
    area_values = models.JSONField(_("areas"), default=list, blank=True)
    request_key = models.UUIDField(unique=True)
    broadcasts = models.ManyToManyField(Broadcast, related_name="+", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("safety check")
        verbose_name_plural = _("safety checks")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.text[:50]


class SafetyAnswerChoice(models.TextChoices):
    SAFE = "safe", _("Safe")
    NEEDS_HELP = "help", _("Needs help")


class SafetyAnswer(TenantOwned):
    """A resident's answer to a safety check: one row each, the latest tap wins."""

    safety_check = models.ForeignKey(SafetyCheck, on_delete=models.CASCADE, related_name="answers")
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="+")
    answer = models.CharField(_("answer"), max_length=10, choices=SafetyAnswerChoice.choices)
    answered_at = models.DateTimeField(_("answered at"))

    class Meta:
        verbose_name = _("safety answer")
        verbose_name_plural = _("safety answers")
        constraints = [
            models.UniqueConstraint(
                fields=["safety_check", "resident"], name="safety_answer_once_per_resident"
            )
        ]

    def __str__(self) -> str:
        return f"{self.safety_check_id}/{self.resident_id} {self.answer}"
