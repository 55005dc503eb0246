"""Incident reports (通報): categories with their report procedure and routing, areas that
route a report to another department, and the report beside each ``report``-kind
submission (where it is, its category, photos staff approved for the public, the report
it was merged into).

A report *is* a submission: it is worked in the casework inbox like any other, its status
is the submission's. These rows add what a map, a public page and Open311 need. Written
only by ``procedures.incidents.services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govtech.models import Department, TenantOwned, slug_validator


class ReportSettings(TenantOwned):
    """One municipality's choices for reports: where unrouted reports go, what counts as a
    possible duplicate, and what the public sees."""

    default_department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default department"),
        help_text=_("Reports no category or area routes go here."),
    )
    duplicate_radius_m = models.PositiveIntegerField(
        _("duplicate radius (m)"),
        default=50,
        help_text=_("Reports of the same category this close are offered as possible duplicates."),
    )
    duplicate_days = models.PositiveSmallIntegerField(
        _("duplicate window (days)"),
        default=30,
        help_text=_("…if they were sent within this many days."),
    )
    public_enabled = models.BooleanField(
        _("public report map"),
        default=False,
        help_text=_(
            "Publish reports (category, status, dates, approximate place) on a public page."
        ),
    )
    public_precision_m = models.PositiveIntegerField(
        _("public location precision (m)"),
        default=100,
        help_text=_("Locations on the public page and Open311 are rounded to a grid this coarse."),
    )

    class Meta:
        verbose_name = _("report settings")
        verbose_name_plural = _("report settings")
        constraints = [
            models.UniqueConstraint(fields=["municipality"], name="report_settings_one_per_city")
        ]

    def __str__(self) -> str:
        return str(self.municipality)


class ReportCategory(TenantOwned):
    """What a report is about (道路, 公園, 河川, 不法投棄, 街路灯, その他 …).

    Its ``key`` is the Open311 ``service_code``. Residents report through its procedure;
    staff of its department receive the reports unless an area routes them elsewhere.
    """

    key = models.SlugField(_("key"), max_length=60, validators=[slug_validator])
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    procedure = models.OneToOneField(
        "procedures.Procedure",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_category",
        verbose_name=_("report procedure"),
        help_text=_("The procedure residents report this category with."),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report_categories",
        verbose_name=_("department"),
        help_text=_("Who handles these reports when no area says otherwise."),
    )
    is_public = models.BooleanField(
        _("public"),
        default=True,
        help_text=_("Shown on the public map and through Open311. Keep private e.g. for abuse."),
    )
    is_active = models.BooleanField(_("accepting reports"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("report category")
        verbose_name_plural = _("report categories")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "key"], name="report_category_key_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ReportArea(TenantOwned):
    """A polygon that routes reports inside it to a department (e.g. prefectural roads).

    ``geometry`` is a GeoJSON Polygon or MultiPolygon (longitude, latitude). With a
    category it routes that category only; without, every category. When areas overlap
    the lowest ``priority`` wins.
    """

    name = models.CharField(_("name"), max_length=100)
    category = models.ForeignKey(
        ReportCategory,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="areas",
        verbose_name=_("category"),
        help_text=_("Empty: every category."),
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="+", verbose_name=_("department")
    )
    geometry = models.JSONField(_("area (GeoJSON)"))
    priority = models.PositiveSmallIntegerField(_("priority"), default=100)

    class Meta:
        verbose_name = _("report area")
        verbose_name_plural = _("report areas")
        ordering = ["priority", "pk"]

    def __str__(self) -> str:
        return self.name


class Report(TenantOwned):
    """The map side of a ``report``-kind submission."""

    submission = models.OneToOneField(
        "procedures.Submission",
        on_delete=models.CASCADE,
        related_name="report",
        verbose_name=_("submission"),
    )
    category = models.ForeignKey(
        ReportCategory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("category"),
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    area = models.ForeignKey(
        ReportArea,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("routed by area"),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged",
        verbose_name=_("merged into"),
        help_text=_("A duplicate follows this report: its reporter hears of every change."),
    )
    merged_at = models.DateTimeField(_("merged at"), null=True, blank=True)
    public_note = models.TextField(
        _("public note"),
        blank=True,
        help_text=_("What the public page says about it, if anything."),
    )
    created_at = models.DateTimeField(_("created at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["municipality", "category", "created_at"], name="report_recent"),
            models.Index(fields=["municipality", "latitude", "longitude"], name="report_place"),
            # The public page and Open311 list a city's reports newest first, a page at a
            # time: without it, every page sorted all of them (decision 0017).
            models.Index(fields=["municipality", "-created_at", "-id"], name="report_newest_first"),
        ]

    def __str__(self) -> str:
        return str(self.submission)


class ReportPhotoKind(models.TextChoices):
    RESIDENT = "resident", _("From the reporter")
    AFTER = "after", _("After (from staff)")


def _after_photo_path(instance: "ReportPhoto", filename: str) -> str:
    return f"reports/{instance.municipality_id}/{filename}"


class ReportPhoto(TenantOwned):
    """A photo of a report: the reporter's (an upload of the submission) or an "after"
    photo staff send with a status change. Public only once staff approve it."""

    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="photos", verbose_name=_("report")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ReportPhotoKind.choices)
    upload = models.OneToOneField(
        "procedures.ResidentUpload",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="report_photo",
        verbose_name=_("reporter's upload"),
    )
    file = models.FileField(_("file"), upload_to=_after_photo_path, blank=True)
    content_type = models.CharField(_("content type"), max_length=50, blank=True)
    is_public = models.BooleanField(_("approved for the public"), default=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("report photo")
        verbose_name_plural = _("report photos")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(upload__isnull=False) | ~Q(file=""), name="report_photo_has_content"
            )
        ]
