"""Daily aggregates, one row per municipality and Tokyo day (and per procedure, step,
resource or broadcast). Written only by ``reports.dashboards.aggregation``, which replaces
a day's rows whole: recomputing a day gives the same rows, never a second copy."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from govtech.models import TenantOwned


class DailyFriends(TenantOwned):
    """LINE friends of the municipality (every channel, test accounts left out): following
    at the end of the day, follows and blocks (unfollows) during it."""

    day = models.DateField(_("day"))
    friends = models.PositiveIntegerField(_("friends"))
    follows = models.PositiveIntegerField(_("follows"))
    blocks = models.PositiveIntegerField(_("blocks"))

    class Meta:
        verbose_name = _("dashboard")
        verbose_name_plural = _("dashboards")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "day"], name="daily_friends_unique")
        ]


class BroadcastBlocks(TenantOwned):
    """Of a broadcast's recipients, how many blocked the account within ``hours`` hours
    after it started sending. ``day`` is the Tokyo day it started."""

    broadcast = models.OneToOneField(
        "delivery.Broadcast", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    started_at = models.DateTimeField(_("started at"))
    title = models.CharField(_("title"), max_length=100)
    recipients = models.PositiveIntegerField(_("recipients"))
    blocks = models.PositiveIntegerField(_("blocks"))
    hours = models.PositiveSmallIntegerField(_("hours"))

    class Meta:
        ordering = ["started_at"]
        indexes = [models.Index(fields=["municipality", "day"], name="broadcast_blocks_day")]

    @property
    def block_rate(self) -> float | None:
        return self.blocks / self.recipients if self.recipients else None


class DailyProcedure(TenantOwned):
    """The conversations of a procedure started that day (residents', not tests or
    corrections): how many, how many were submitted and the median seconds from start to
    submission; and the submissions made that day, per channel."""

    procedure = models.ForeignKey(
        "procedures.Procedure", on_delete=models.CASCADE, related_name="dashboard_days"
    )
    day = models.DateField(_("day"))
    started = models.PositiveIntegerField(_("started"))
    completed = models.PositiveIntegerField(_("completed"))
    median_seconds = models.PositiveIntegerField(_("median time to complete"), null=True)
    submissions = models.PositiveIntegerField(_("submissions"))
    # {"line": 12, "web": 3}: the few channels a submission comes from.
    submissions_by_channel = models.JSONField(_("submissions by channel"), default=dict)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "day"], name="daily_procedure_unique")
        ]
        indexes = [models.Index(fields=["municipality", "day"], name="daily_procedure_day")]


class DailyStep(TenantOwned):
    """The funnel of a procedure's conversations started that day, one row per step:
    how many got at least as far as it (``reached``) and how many stopped there without
    submitting (``stopped``). ``position`` is the step's place in the version the
    conversations ran (the latest one's order is used for display)."""

    procedure = models.ForeignKey(
        "procedures.Procedure", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    step_id = models.CharField(_("step"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"))
    reached = models.PositiveIntegerField(_("reached"))
    stopped = models.PositiveIntegerField(_("stopped"))

    class Meta:
        ordering = ["day", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "day", "step_id"], name="daily_step_unique"
            )
        ]


class DailyResource(TenantOwned):
    """A reservation resource's slots on that day: places offered (open, unblocked
    slots), places booked (confirmed, attended or no-show), bookings and no-shows."""

    resource = models.ForeignKey("procedures.Resource", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    capacity = models.PositiveIntegerField(_("places offered"))
    booked = models.PositiveIntegerField(_("places booked"))
    bookings = models.PositiveIntegerField(_("bookings"))
    no_shows = models.PositiveIntegerField(_("no-shows"))

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "day"], name="daily_resource_unique")
        ]
        indexes = [models.Index(fields=["municipality", "day"], name="daily_resource_day")]
