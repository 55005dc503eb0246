"""Resident attribute fields, segments, broadcasts (frozen recipients, multicast chunks),
per-municipality broadcast policy, and calendar reminders."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from govtech.models import Municipality, TenantOwned
from govtech.tenancy import tenant_manager

ATTRIBUTE_KEY = RegexValidator(r"^[a-z][a-z0-9_]{0,39}$", _("Lowercase letters, digits and _."))
MULTICAST_MAX = 500  # LINE's limit of recipients per multicast request

__all__ = [
    "MULTICAST_MAX",
    "AttributeField",
    "AttributeKind",
    "Broadcast",
    "BroadcastChunk",
    "BroadcastPolicy",
    "BroadcastRecipient",
    "BroadcastStatus",
    "ChunkStatus",
    "ReminderOccurrence",
    "ReminderRule",
    "Segment",
    "StaffTestResident",
    "TesterCode",
]


class AttributeKind(models.TextChoices):
    CHOICE = "choice", _("One of a list")
    MULTI_CHOICE = "multi_choice", _("Several of a list")
    NUMBER = "number", _("Number")
    TEXT = "text", _("Text")


class AttributeField(TenantOwned):
    """An attribute residents may set about themselves (area, interests, child birth year…).

    ``key`` is the key in ``Resident.attributes`` (procedures) and the step id in the profile
    procedure; the values belong to the resident, the definitions to segments here.
    """

    key = models.CharField(_("key"), max_length=40, validators=[ATTRIBUTE_KEY])
    label = models.CharField(_("label"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=AttributeKind.choices)
    options = models.JSONField(
        _("options"), default=list, blank=True, help_text=_('For lists: [{"value", "label"}].')
    )

    class Meta:
        verbose_name = _("resident attribute")
        verbose_name_plural = _("resident attributes")
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "key"], name="attribute_key_unique")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def option_values(self) -> list[str]:
        return [str(option.get("value")) for option in self.options if isinstance(option, dict)]


class Segment(TenantOwned):
    """A saved audience: rules over attributes and behaviour, evaluated in SQL (segments.py)."""

    name = models.CharField(_("name"), max_length=100)
    rules = models.JSONField(_("rules"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BroadcastPolicy(TenantOwned):
    """How a municipality broadcasts: approval, quota ceiling and the sending rate."""

    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality")
    )
    approval_required = models.BooleanField(
        _("approval required"),
        default=True,
        help_text=_("A municipality admin other than the author must approve each broadcast."),
    )
    quota_ceiling = models.PositiveIntegerField(
        _("quota ceiling"),
        null=True,
        blank=True,
        help_text=_(
            "Refuse a broadcast that would bring this month's consumption above this number."
            " Empty: only LINE's own quota applies."
        ),
    )
    requests_per_second = models.PositiveSmallIntegerField(
        _("multicast requests per second"),
        default=200,
        validators=[MinValueValidator(1), MaxValueValidator(2000)],
    )

    class Meta:
        verbose_name = _("broadcast policy")
        verbose_name_plural = _("broadcast policies")

    def __str__(self) -> str:
        return str(self.municipality)


class BroadcastStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting", _("Awaiting approval")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")
    REFUSED = "refused", _("Refused")


class Broadcast(TenantOwned):
    """1–5 messages to a segment (or every friend), sent once at ``scheduled_at`` or later.

    ``messages`` is the composed form (text/image/button/flex items, see rendering in
    services); it is rendered to LINE message objects when sending starts.
    """

    channel = models.ForeignKey(
        "delivery.LineChannel",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("channel"),
    )
    title = models.CharField(_("title"), max_length=100)
    segment = models.ForeignKey(
        Segment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("segment"),
        help_text=_("Empty: every friend."),
    )
    rules = models.JSONField(
        _("audience rules"),
        default=dict,
        blank=True,
        help_text=_("Used when no segment is chosen (calendar reminders); empty: every friend."),
    )
    messages = models.JSONField(_("messages"), default=list)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=BroadcastStatus.choices,
        default=BroadcastStatus.DRAFT,
        db_index=True,
    )
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    # A disaster alert or safety check: the municipality's own monthly ceiling does not
    # hold it back (LINE's quota still does: LINE refuses what is over it).
    urgent = models.BooleanField(_("urgent"), default=False)
    chunk_size = models.PositiveSmallIntegerField(
        default=MULTICAST_MAX, validators=[MinValueValidator(1), MaxValueValidator(MULTICAST_MAX)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    frozen_at = models.DateTimeField(_("recipients frozen at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    recipients_count = models.PositiveIntegerField(_("recipients"), default=0)
    sent_count = models.PositiveIntegerField(_("sent"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    skipped_count = models.PositiveIntegerField(_("skipped (blocked)"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "scheduled_at"], name="broadcast_due")]

    def __str__(self) -> str:
        return self.title


class BroadcastRecipient(models.Model):
    """A friend frozen into a broadcast when sending starts; ``seq`` places it in a chunk.

    Written with one INSERT … SELECT (never through Python objects), so freezing a
    million recipients costs one statement and no worker memory. The foreign keys have
    no constraint in the database: PostgreSQL checks a deferred one row by row at
    commit (18 s for a million rows, two checks each), and the rows come from that same
    SELECT over existing friends. Deleting a broadcast or a friend still deletes its
    rows (Django's cascade). The unique (broadcast, seq) index serves every read by
    broadcast, so ``broadcast`` has no index of its own.
    """

    broadcast = models.ForeignKey(
        Broadcast, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    seq = models.PositiveIntegerField()
    friend = models.ForeignKey(
        "delivery.Friend", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )

    objects = tenant_manager("broadcast__municipality")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "seq"], name="broadcast_recipient_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.broadcast_id}#{self.seq}"


class ChunkStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class BroadcastChunk(models.Model):
    """Recipients ``seq`` in [first_seq, first_seq + size) of one broadcast: one multicast.

    The intent row of one LINE request. ``retry_key`` is sent as X-Line-Retry-Key on every
    attempt, so a chunk sent twice (a killed worker, a duplicated task) reaches LINE once.
    """

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_seq = models.PositiveIntegerField()
    size = models.PositiveSmallIntegerField()
    retry_key = models.UUIDField(default=uuid.uuid4, unique=True)
    status = models.CharField(
        max_length=10, choices=ChunkStatus.choices, default=ChunkStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_count = models.PositiveSmallIntegerField(default=0)
    skipped_count = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    objects = tenant_manager("broadcast__municipality")

    class Meta:
        ordering = ["broadcast", "index"]
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "index"], name="broadcast_chunk_index"),
        ]
        indexes = [models.Index(fields=["broadcast", "status"], name="broadcast_chunk_status")]

    def __str__(self) -> str:
        return f"{self.broadcast_id}/{self.index} {self.status}"


class ReminderRule(TenantOwned):
    """A recurring notice for residents whose attribute has a value (garbage day per area).

    Collection dates: ``weekdays`` (0 = Monday) every week, ``nth_weekdays`` like
    ``[[2, 2]]`` (the 2nd Wednesday), and ``extra_dates``/``skip_dates`` (ISO dates, e.g.
    imported from CSV). A date on a Japanese public holiday moves by ``holiday_shift_days``
    (0: no collection that day). The notice goes the evening before, at ``send_time``, to
    friends with ``attributes[attribute_key] == attribute_value`` who opted in
    (``attributes[opt_in_key]`` true, when set).
    """

    channel = models.ForeignKey(
        "delivery.LineChannel",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("channel"),
    )
    name = models.CharField(_("name"), max_length=100)
    attribute_key = models.CharField(_("attribute"), max_length=40, validators=[ATTRIBUTE_KEY])
    attribute_value = models.CharField(_("value"), max_length=100)
    opt_in_key = models.CharField(
        _("opt-in attribute"), max_length=40, blank=True, validators=[ATTRIBUTE_KEY]
    )
    message = models.TextField(_("message"), help_text=_("{date} is replaced by the date."))
    weekdays = models.JSONField(_("weekdays"), default=list, blank=True)
    nth_weekdays = models.JSONField(_("nth weekdays"), default=list, blank=True)
    extra_dates = models.JSONField(_("extra dates"), default=list, blank=True)
    skip_dates = models.JSONField(_("skipped dates"), default=list, blank=True)
    holiday_shift_days = models.SmallIntegerField(_("shift on holidays (days)"), default=0)
    send_time = models.TimeField(_("send at (the day before)"), default="18:00")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("calendar reminder")
        verbose_name_plural = _("calendar reminders")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReminderOccurrence(models.Model):
    """One notice of one rule for one date: a broadcast created once (unique rule + date).

    The broadcast does the sending (frozen recipients, chunks, retry keys), so each
    resident gets the notice of a date at most once.
    """

    rule = models.ForeignKey(ReminderRule, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    broadcast = models.OneToOneField(Broadcast, on_delete=models.CASCADE, related_name="+")

    objects = tenant_manager("rule__municipality")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "date"], name="reminder_once_per_date")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.date}"


class StaffTestResident(TenantOwned):
    """A staff member's own test resident: where their broadcast test sends go.

    Links a console user to a friend of the municipality's account (their own LINE
    account, or the simulator account the builder's Try it made). A test send never goes
    to anyone else, not even to another staff member's test resident.
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("staff member"),
    )
    friend = models.OneToOneField(
        "delivery.Friend",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("test resident"),
        help_text=_("The staff member's own LINE account, added as a friend of the channel."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff test resident")
        verbose_name_plural = _("staff test residents")
        ordering = ["staff", "friend"]

    def __str__(self) -> str:
        return f"{self.staff} → {self.friend}"


class TesterCode(TenantOwned):
    """A one-time code a staff member sends to the official account from their own LINE
    to register that LINE account as their tester (``StaffTestResident``).

    Only a hash is kept; the code works once, for a few minutes, in its municipality.
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("staff member"),
    )
    code_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tester registration code")
        verbose_name_plural = _("tester registration codes")

    def __str__(self) -> str:
        return f"{self.staff} ({self.expires_at:%Y-%m-%d %H:%M})"
