"""Casework rows: what happened to a submission (its timeline), every revision of its
answers, correction requests, and each procedure's workflow.

Written only by ``procedures.casework.services``; the console and the chat read them
through ``procedures.casework.selectors``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govtech.models import TenantOwned


class ProcedureWorkflow(TenantOwned):
    """How one procedure's submissions are worked: allowed status transitions, the message
    residents get on each status, a target number of days, whether residents may withdraw.

    A procedure without a row follows ``procedures.casework.workflow.DEFAULT``. Not part of
    the portable document: it is the municipality's way of working, editable without
    publishing a new version.
    """

    procedure = models.OneToOneField(
        "procedures.Procedure",
        on_delete=models.CASCADE,
        related_name="workflow",
        verbose_name=_("procedure"),
    )
    transitions = models.JSONField(
        _("allowed transitions"),
        default=dict,
        blank=True,
        help_text=_("For each status, the statuses it may move to. Empty: the default."),
    )
    messages = models.JSONField(
        _("status messages"),
        default=dict,
        blank=True,
        help_text=_(
            "For each status, the message residents get, per language. {reference}, "
            "{procedure} and {reason} are filled in. An empty message sends nothing."
        ),
    )
    target_days = models.PositiveSmallIntegerField(
        _("target days"),
        null=True,
        blank=True,
        help_text=_("Days within which a submission should be finished; past them it is overdue."),
    )
    correction_days = models.PositiveSmallIntegerField(
        _("days to correct"),
        default=14,
        help_text=_("How long a resident has to correct a returned submission."),
    )
    allow_withdraw = models.BooleanField(
        _("residents may withdraw"),
        default=True,
        help_text=_("A resident may withdraw a submission in LINE until it is accepted."),
    )

    class Meta:
        verbose_name = _("workflow")
        verbose_name_plural = _("workflows")

    def __str__(self) -> str:
        return str(self.procedure)


class CaseEventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ASSIGNED = "assigned", _("Assigned")
    STATUS = "status", _("Status changed")
    NOTE = "note", _("Internal note")
    MESSAGE_OUT = "message_out", _("Message to the resident")
    MESSAGE_IN = "message_in", _("Message from the resident")
    CORRECTION_REQUESTED = "correction_requested", _("Correction requested")
    CORRECTED = "corrected", _("Corrected by the resident")
    REMINDED = "reminded", _("Reminder sent")
    WITHDRAWN = "withdrawn", _("Withdrawn by the resident")
    # Incident reports (procedures.incidents.duplicates): one merged into another, and back.
    MERGED = "merged", _("Merged with another report")
    UNMERGED = "unmerged", _("Merge undone")


class CaseEvent(TenantOwned):
    """One thing that happened to a submission, for its timeline. Never changed.

    ``data`` holds what the kind needs (``from``/``to``/``reason`` of a status change, the
    text of a note or message, the fields of a correction…); ``notice`` is the outbox row
    when the resident was told.
    """

    submission = models.ForeignKey(
        "procedures.Submission",
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("submission"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=CaseEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    data = models.JSONField(_("details"), default=dict, blank=True)
    notice = models.ForeignKey(
        "procedures.Notice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notice"),
    )
    created_at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["submission", "created_at"], name="caseevent_timeline")]

    def __str__(self) -> str:
        return f"{self.submission_id} {self.kind}"


class SubmissionRevision(TenantOwned):
    """One version of a submission's answers: number 1 as submitted, one more per
    correction. Never changed; the console shows the difference between two."""

    submission = models.ForeignKey(
        "procedures.Submission",
        on_delete=models.CASCADE,
        related_name="revisions",
        verbose_name=_("submission"),
    )
    number = models.PositiveIntegerField(_("revision"))
    answers = models.JSONField(_("answers"))
    fee = models.PositiveIntegerField(_("fee (yen)"), null=True, blank=True)
    correction = models.ForeignKey(
        "CorrectionRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answering the correction request"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["submission", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "number"], name="submission_revision_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} r{self.number}"


class CorrectionStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the resident")
    ANSWERED = "answered", _("Corrected")
    CANCELLED = "cancelled", _("Cancelled")


class CorrectionRequest(TenantOwned):
    """A reviewer's request (返戻) that the resident correct some answers.

    ``fields`` are step ids of the submission's pinned version. At most one is open per
    submission; the resident answers it in a conversation on the same version.
    """

    submission = models.ForeignKey(
        "procedures.Submission",
        on_delete=models.CASCADE,
        related_name="corrections",
        verbose_name=_("submission"),
    )
    fields = models.JSONField(_("fields to correct"))
    reason = models.TextField(_("reason"))
    deadline = models.DateTimeField(_("deadline"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=CorrectionStatus.choices,
        default=CorrectionStatus.OPEN,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("requested at"))
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("corrected at"), null=True, blank=True)

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission"],
                condition=Q(status="open"),
                name="one_open_correction_per_submission",
            )
        ]

    def __str__(self) -> str:
        return f"{self.submission_id}: {', '.join(self.fields)}"
