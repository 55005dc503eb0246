"""Procedures, their immutable published versions, conversations and submissions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govtech.models import Department, Municipality, TenantOwned, slug_validator


class ProcedureKind(models.TextChoices):
    APPLICATION = "application", _("Application")
    RESERVATION = "reservation", _("Reservation")
    REPORT = "report", _("Report")
    SURVEY = "survey", _("Survey")
    PROFILE = "profile", _("Resident profile")


class Procedure(TenantOwned):
    """A procedure of one municipality: an editable draft plus its published versions.

    ``draft`` is a document in the portable format (govtech.procedure.v1) and may be
    invalid while a designer works on it; publishing validates it. ``draft_revision``
    increases on every save so that two designers cannot silently overwrite each other.
    """

    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="procedures",
        verbose_name=_("department"),
    )
    key = models.SlugField(_("key"), max_length=80, validators=[slug_validator])
    draft = models.JSONField(_("draft"))
    draft_revision = models.PositiveIntegerField(_("draft revision"), default=1)
    draft_updated_at = models.DateTimeField(_("draft updated at"), auto_now_add=True)
    draft_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("draft updated by"),
    )
    live_version = models.ForeignKey(
        "ProcedureVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published version"),
        help_text=_("The version residents start; empty when unpublished."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Provenance (procedures.catalog): the template version this procedure was imported
    # from, and that version's document as imported (placeholders filled, key set) -
    # the common base of a three-way merge when the template is updated.
    source_template_version = models.ForeignKey(
        "procedures.TemplateVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="importers",
        verbose_name=_("imported from template version"),
    )
    base_document = models.JSONField(
        _("template document as imported"),
        null=True,
        blank=True,
        help_text=_("The base of three-way merges when the template is updated."),
    )

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "key"], name="procedure_key_unique")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        title = self.draft.get("title") or {}
        return title.get("ja") or next(iter(title.values()), self.key)

    @property
    def kind(self) -> str:
        return self.draft.get("kind", "")


class ProcedureVersion(TenantOwned):
    """A published, immutable snapshot of a procedure's document.

    Submissions and conversations point at the version they started on; rows are only
    ever inserted (procedures.services), never updated.
    """

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="versions", verbose_name=_("procedure")
    )
    number = models.PositiveIntegerField(_("version"))
    document = models.JSONField(_("document"))
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    change_note = models.TextField(_("change note"), blank=True)
    restored_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("restored from"),
    )

    class Meta:
        verbose_name = _("procedure version")
        verbose_name_plural = _("procedure versions")
        ordering = ["procedure", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.procedure.key} v{self.number}"


class ConversationStatus(models.TextChoices):
    ACTIVE = "active", _("In progress")
    CONFIRMING = "confirming", _("Confirming")
    EDITING = "editing", _("Correcting an answer")
    SUBMITTED = "submitted", _("Submitted")
    CANCELLED = "cancelled", _("Cancelled")
    ENDED = "ended", _("Ended")
    EXPIRED = "expired", _("Expired")


OPEN_CONVERSATION_STATUSES = ["active", "confirming", "editing"]


class Conversation(TenantOwned):
    """One resident working through one procedure version, step by step.

    A resident has at most one open conversation at a time, whatever channel they use.
    """

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality")
    )
    resident = models.ForeignKey(
        "procedures.Resident",
        on_delete=models.CASCADE,
        related_name="conversations",
        verbose_name=_("resident"),
    )
    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="+", verbose_name=_("procedure")
    )
    version = models.ForeignKey(
        ProcedureVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("version"),
    )
    test_document = models.JSONField(
        _("draft under test"),
        null=True,
        blank=True,
        help_text=_("A designer trying a draft runs this frozen copy instead of a version."),
    )
    status = models.CharField(_("status"), max_length=20, choices=ConversationStatus.choices)
    state = models.JSONField(_("state"))
    language = models.CharField(_("language"), max_length=16, default="ja")
    is_test = models.BooleanField(
        _("test"),
        default=False,
        help_text=_("A designer trying a draft; never mixed with real data."),
    )
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    correcting = models.ForeignKey(
        "procedures.CorrectionRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("correcting"),
        help_text=_("The correction request this conversation answers, if any."),
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "resident"],
                condition=Q(status__in=OPEN_CONVERSATION_STATUSES),
                name="one_open_conversation_per_resident",
            ),
            models.CheckConstraint(
                condition=Q(version__isnull=False) | Q(test_document__isnull=False, is_test=True),
                name="conversation_runs_a_version_or_a_test_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"resident {self.resident_id} / {self.version or 'draft test'}"

    @property
    def definition(self) -> dict:
        """The document this conversation runs: its pinned version, or the draft under test."""
        return self.version.document if self.version_id else self.test_document


class DraftTrial(TenantOwned):
    """A tester resident trying a procedure's draft in LINE (the builder's 「LINEで試す」).

    While it is open (``ended_at`` empty), the draft's trigger keywords start the
    current draft for this resident, as a test conversation; everyone else, and this
    resident once it ends, gets the published version. Only a test resident has one.
    """

    resident = models.ForeignKey(
        "procedures.Resident",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("resident"),
    )
    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="+", verbose_name=_("procedure")
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("draft trial")
        verbose_name_plural = _("draft trials")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "procedure"],
                condition=Q(ended_at__isnull=True),
                name="one_open_draft_trial_per_resident_and_procedure",
            )
        ]

    def __str__(self) -> str:
        return f"{self.procedure_id} / resident {self.resident_id}"


class SubmissionStatus(models.TextChoices):
    # Translators: residents read this (「申請状況」).
    SUBMITTED = "submitted", _("Submitted")
    # Translators: residents read this.
    IN_REVIEW = "in_review", _("In review")
    # Translators: residents read this.
    RETURNED = "returned", _("Returned for correction")
    # Translators: residents read this.
    ACCEPTED = "accepted", _("Accepted")
    # Translators: residents read this.
    REJECTED = "rejected", _("Rejected")
    # Translators: residents read this.
    COMPLETED = "completed", _("Completed")
    # Translators: residents read this.
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Statuses where nothing more happens to a submission.
FINAL_SUBMISSION_STATUSES = frozenset({"rejected", "completed", "withdrawn"})


class Submission(TenantOwned):
    """What a resident sent: answers pinned to the exact version they answered."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality")
    )
    reference = models.CharField(_("reference number"), max_length=30)
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("procedure")
    )
    version = models.ForeignKey(
        ProcedureVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("version"),
        help_text=_("Empty only for test submissions of a draft."),
    )
    conversation = models.OneToOneField(
        Conversation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="submission",
        verbose_name=_("conversation"),
    )
    resident = models.ForeignKey(
        "procedures.Resident",
        on_delete=models.CASCADE,
        related_name="submissions",
        verbose_name=_("resident"),
    )
    answers = models.JSONField(_("answers"))
    fee = models.PositiveIntegerField(_("fee (yen)"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=16, default="ja")
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=SubmissionStatus.choices,
        default=SubmissionStatus.SUBMITTED,
    )
    is_test = models.BooleanField(_("test"), default=False)
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True, db_index=True)
    # Casework (procedures.casework.services writes these).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    due_at = models.DateTimeField(
        _("due"), null=True, blank=True, help_text=_("Past it the submission is overdue.")
    )
    correction_due_at = models.DateTimeField(
        _("correction due"),
        null=True,
        blank=True,
        help_text=_("While returned: when the resident's correction is due."),
    )
    channel = models.CharField(
        _("channel"), max_length=20, blank=True, help_text=_("Where it was sent from (LINE, web…).")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
        help_text=_("Who handles it: the procedure's department, or where a report was routed."),
    )
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    search_text = models.TextField(
        _("search text"),
        blank=True,
        default="",
        help_text=_("Reference, resident name and answers as text, for the inbox's search."),
    )

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "reference"], name="submission_reference_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["municipality", "status", "-submitted_at"], name="submission_inbox_status"
            ),
            models.Index(
                fields=["municipality", "assignee", "status"], name="submission_inbox_assignee"
            ),
            models.Index(fields=["municipality", "due_at"], name="submission_inbox_due"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def definition(self) -> dict:
        """The document the resident answered (the version, or the draft under test)."""
        if self.version_id:
            return self.version.document
        return self.conversation.test_document if self.conversation else {}


class ReferenceSeries(models.TextChoices):
    RESIDENTS = "", _("residents' submissions")
    TEST = "TEST", _("designers' test submissions")


class ReferenceCounter(TenantOwned):
    """The last reference number issued per municipality, year and series (locked when used).

    Designers' tries of a draft count in a series of their own, so residents' numbers stay
    gapless and a test never takes DC-2026-000001.
    """

    year = models.PositiveIntegerField()
    series = models.CharField(max_length=8, choices=ReferenceSeries.choices, default="", blank=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "year", "series"], name="reference_counter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id}/{self.year}: {self.last}"


def _upload_path(instance: "ResidentUpload", filename: str) -> str:
    folder = f"uploads/{instance.municipality_id}/{instance.created_at:%Y/%m}"
    return f"{folder}/{instance.pk}{_ext(filename)}"


def _ext(filename: str) -> str:
    return "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def upload_thumbnail_name(name: str) -> str:
    """Where the staff thumbnail of the stored upload ``name`` is kept: ``thumbs/<id>.jpg``
    beside it, so that whoever deletes an upload's file can delete its thumbnail too."""
    folder, _slash, filename = name.rpartition("/")
    stem = filename.rsplit(".", 1)[0]
    return f"{folder}/thumbs/{stem}.jpg" if folder else f"thumbs/{stem}.jpg"


class ResidentUpload(TenantOwned):
    """A file a resident sent during a conversation (a photo), already checked and cleaned.

    Answers refer to it by ``pk`` (a UUID); on submit it is attached to the submission.
    """

    id = models.UUIDField(primary_key=True, editable=False)
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality")
    )
    resident = models.ForeignKey(
        "procedures.Resident",
        on_delete=models.CASCADE,
        related_name="uploads",
        verbose_name=_("resident"),
    )
    file = models.FileField(_("file"), upload_to=_upload_path)
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    submission = models.ForeignKey(
        Submission,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="uploads",
        verbose_name=_("submission"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("resident upload")
        verbose_name_plural = _("resident uploads")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return str(self.pk)


from procedures.casework.models import (  # noqa: E402, F401
    CaseEvent,
    CorrectionRequest,
    ProcedureWorkflow,
    SubmissionRevision,
)
from procedures.catalog.models import Template, TemplateVersion  # noqa: E402, F401
from procedures.incidents.models import (  # noqa: E402, F401
    Report,
    ReportArea,
    ReportCategory,
    ReportPhoto,
    ReportSettings,
)
from procedures.reservations.models import Booking, Resource, Slot  # noqa: E402, F401
from procedures.residents.models import Notice, Resident  # noqa: E402, F401
