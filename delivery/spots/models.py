"""Spots: places residents ask for (public facilities, AEDs, evacuation sites, shelters,
public toilets), imported from the Digital Agency's 自治体標準オープンデータセット and
edited in the console. Written only by ``delivery.spots.services``.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from govtech.models import TenantOwned

__all__ = ["Hazard", "Spot", "SpotImport", "SpotKind"]


class SpotKind(models.TextChoices):
    """One dataset of the standard each; a spot belongs to one."""

    FACILITY = "facility", _("Public facility")
    AED = "aed", _("AED")
    EVACUATION_SITE = "evacuation_site", _("Designated emergency evacuation site")
    SHELTER = "shelter", _("Designated evacuation shelter")
    TOILET = "toilet", _("Public toilet")
    OTHER = "other", _("Other")


class Hazard(models.TextChoices):
    """The hazards an evacuation site is designated for (災害対策基本法 施行令 第20条の3)."""

    FLOOD = "flood", _("Flood")
    LANDSLIDE = "landslide", _("Landslide, debris flow")
    STORM_SURGE = "storm_surge", _("Storm surge")
    EARTHQUAKE = "earthquake", _("Earthquake")
    TSUNAMI = "tsunami", _("Tsunami")
    FIRE = "fire", _("Large-scale fire")
    INLAND_FLOOD = "inland_flood", _("Inland flooding")
    VOLCANO = "volcano", _("Volcanic phenomena")


class Spot(TenantOwned):
    """One place of one dataset. ``source_id`` is the dataset's ``ID`` column: an import
    matches rows to spots by it. Columns of the file that have no field here are kept in
    ``extra`` so that an export gives them back."""

    kind = models.CharField(_("dataset"), max_length=20, choices=SpotKind.choices)
    source_id = models.CharField(_("ID"), max_length=100)
    name = models.CharField(_("name"), max_length=200)
    name_kana = models.CharField(_("name (kana)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    category = models.CharField(
        _("category"), max_length=100, blank=True, help_text=_("e.g. 図書館, 公民館, 体育館.")
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    days = models.CharField(
        _("open days"), max_length=100, blank=True, help_text=_("As in the file, e.g. 月火水木金.")
    )
    weekdays = models.JSONField(
        _("open weekdays"),
        default=list,
        blank=True,
        help_text=_("0 = Monday … 6 = Sunday; empty with no open days: every day."),
    )
    open_on_holidays = models.BooleanField(_("open on public holidays"), default=True)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    hours_note = models.CharField(_("notes on hours"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    barrier_free = models.TextField(_("barrier-free information"), blank=True)
    note = models.TextField(_("remarks"), blank=True)
    hazards = models.JSONField(
        _("hazards"), default=list, blank=True, help_text=_("For evacuation sites.")
    )
    capacity = models.PositiveIntegerField(_("capacity (people)"), null=True, blank=True)
    extra = models.JSONField(_("other columns"), default=dict, blank=True)
    is_active = models.BooleanField(_("shown to residents"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("spot")
        verbose_name_plural = _("spots")
        ordering = ["kind", "source_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "kind", "source_id"], name="spot_source_id_unique"
            )
        ]
        indexes = [
            models.Index(fields=["municipality", "kind", "latitude"], name="spot_latitude"),
        ]

    def __str__(self) -> str:
        return self.name


class SpotImport(TenantOwned):
    """A checked file waiting for staff to confirm its changes (the preview), then the
    record of what it changed. ``rows`` are the file's rows as spot fields."""

    kind = models.CharField(_("dataset"), max_length=20, choices=SpotKind.choices)
    filename = models.CharField(_("file name"), max_length=200)
    encoding = models.CharField(_("encoding"), max_length=30)
    generation = models.CharField(_("header generation"), max_length=10)
    rows = models.JSONField(_("rows"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    summary = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("spot import")
        verbose_name_plural = _("spot imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename
