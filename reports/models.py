"""Models of reports: export jobs of submissions and the schedules that create them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from govtech.models import Department, TenantOwned


class ExportFormat(models.TextChoices):
    CSV_UTF8 = "csv_utf8", _("CSV (UTF-8 with BOM)")
    CSV_CP932 = "csv_cp932", _("CSV (Shift_JIS / CP932)")
    XLSX = "xlsx", _("Excel (XLSX)")
    PDF_ZIP = "pdf_zip", _("PDF forms (ZIP)")


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


def _export_path(job: ExportJob, filename: str) -> str:
    # A random name: the file is only ever served through the download view's checks.
    return f"exports/{job.municipality_id}/{uuid.uuid4().hex}/{filename}"


class ExportJob(TenantOwned):
    """One export of submissions: who asked, with which filters and format; the file once
    written. Created by a staff member (or a ``ScheduledExport``), claimed and written by
    a worker (``reports.exports.jobs``); the file is deleted after ``expires_at``."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    schedule = models.ForeignKey(
        "reports.ScheduledExport",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
        verbose_name=_("schedule"),
    )
    procedure = models.ForeignKey(
        "procedures.Procedure",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("procedure"),
    )
    filters = models.JSONField(_("filters"), default=dict)
    format = models.CharField(_("format"), max_length=12, choices=ExportFormat.choices)
    omit_personal = models.BooleanField(_("personal data left out"), default=False)
    # The window of a scheduled export: [window_start, window_end) of submitted_at.
    window_start = models.DateTimeField(_("from"), null=True, blank=True)
    window_end = models.DateTimeField(_("until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    total = models.PositiveIntegerField(_("rows to write"), default=0)
    progress = models.PositiveIntegerField(_("rows written"), default=0)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    replaced_characters = models.PositiveIntegerField(_("characters replaced"), default=0)
    file = models.FileField(_("file"), upload_to=_export_path, blank=True, max_length=200)
    error = models.TextField(_("error"), blank=True)
    # A running job's worker touches this with every batch; a job whose worker died (OOM,
    # a deploy) stops touching it and is run again or given up (``export_jobs_recover``).
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A schedule's window is exported once, however often beat looks.
            models.UniqueConstraint(
                fields=["schedule", "window_start", "window_end"],
                name="export_job_schedule_window_unique",
            )
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="export_job_expiry")]

    def __str__(self) -> str:
        return f"{self.get_format_display()} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return min(100, int(100 * self.progress / self.total)) if self.total else 0


class ExportFrequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class ScheduledExport(TenantOwned):
    """New submissions of a procedure exported for a department every day or week at a
    time of day (Asia/Tokyo). ``last_window_end`` is where the next window starts."""

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="+", verbose_name=_("department")
    )
    procedure = models.ForeignKey(
        "procedures.Procedure",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("procedure"),
    )
    format = models.CharField(_("format"), max_length=12, choices=ExportFormat.choices)
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=ExportFrequency.choices, default="daily"
    )
    time_of_day = models.TimeField(_("time of day (Japan time)"))
    weekday = models.PositiveSmallIntegerField(
        _("weekday (weekly)"),
        default=0,
        choices=[(i, name) for i, name in enumerate(("月", "火", "水", "木", "金", "土", "日"))],
    )
    omit_personal = models.BooleanField(_("leave out personal data"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_window_end = models.DateTimeField(_("last exported until"), null=True, blank=True)

    class Meta:
        verbose_name = _("scheduled export")
        verbose_name_plural = _("scheduled exports")
        ordering = ["procedure", "pk"]

    def __str__(self) -> str:
        return f"{self.procedure} ({self.get_frequency_display()})"


class Open311Client(TenantOwned):
    """An application allowed to post reports through Open311 (GeoReport v2) for one
    municipality: a named client with an API key. Only the key's SHA-256 is stored (the
    key is 256 random bits, so a fast hash is enough); the key itself is shown once, when
    created. A revoked client's key is refused."""

    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(
        _("key starts with"),
        max_length=12,
        editable=False,
        help_text=_("The first characters of the key, to tell keys apart."),
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


from reports.backoffice.models import ApiIdempotencyKey, ApiToken  # noqa: E402, F401
from reports.dashboards.models import (  # noqa: E402, F401
    BroadcastBlocks,
    DailyFriends,
    DailyProcedure,
    DailyResource,
    DailyStep,
)
from reports.surveys.models import SurveyPublication  # noqa: E402, F401
