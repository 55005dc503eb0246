"""Reservations: resources with weekly schedules, capacity rows per slot, bookings,
waitlists with held offers, and reminder intent rows.

Slots are computed from the opening rules (no rows for the next year of empty slots);
a `Slot` row is created the first time someone books, blocks or waits for a slot. Its
`taken` counter is the capacity check (STYLE.md rule 5): a booking takes places with one
conditional UPDATE of that row (docs/decisions/0020-bookings-under-a-rush.md).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govtech.models import Department, Municipality, TenantOwned, User, slug_validator


class ResourceKind(models.TextChoices):
    FACILITY = "facility", _("Facility")
    COUNTER = "counter", _("Counter (madoguchi)")
    VENUE = "venue", _("Venue")
    ROUTE = "route", _("Collection route")


class CapacityUnit(models.TextChoices):
    PEOPLE = "people", _("People")
    GROUPS = "groups", _("Groups")


class Resource(TenantOwned):
    """Something residents book by the slot: a facility, a counter, a venue, a route."""

    key = models.SlugField(_("key"), max_length=100, validators=[slug_validator])
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    kind = models.CharField(
        _("kind"), max_length=20, choices=ResourceKind.choices, default=ResourceKind.FACILITY
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
    )
    location = models.CharField(_("location"), max_length=300, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=60)
    capacity = models.PositiveSmallIntegerField(_("capacity per slot"), default=10)
    capacity_unit = models.CharField(
        _("capacity counts"), max_length=10, choices=CapacityUnit.choices, default="people"
    )
    max_party_size = models.PositiveSmallIntegerField(
        _("largest party"), default=1, help_text=_("1 means no party size is asked.")
    )
    opens_days_ahead = models.PositiveSmallIntegerField(_("bookable days ahead"), default=30)
    closes_hours_before = models.PositiveSmallIntegerField(
        _("booking closes hours before"), default=1
    )
    max_active_per_resident = models.PositiveSmallIntegerField(
        _("active bookings per resident"), default=3
    )
    max_per_day_per_resident = models.PositiveSmallIntegerField(
        _("bookings per resident and day"), default=1
    )
    closed_on_holidays = models.BooleanField(_("closed on public holidays"), default=True)
    offer_hold_minutes = models.PositiveSmallIntegerField(
        _("waitlist offer held (minutes)"), default=30
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reservation resource")
        verbose_name_plural = _("reservation resources")
        ordering = ["municipality", "key"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "key"], name="resource_key_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def display_name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name

    def places_for(self, party_size: int) -> int:
        """Places a party takes: its size when capacity counts people, else one."""
        return party_size if self.capacity_unit == CapacityUnit.PEOPLE else 1


class OpeningRule(TenantOwned):
    """On `weekday` (0 = Monday) the resource is open from `opens` to `closes`."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="opening_rules")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=[
            (0, _("Monday")),
            (1, _("Tuesday")),
            (2, _("Wednesday")),
            (3, _("Thursday")),
            (4, _("Friday")),
            (5, _("Saturday")),
            (6, _("Sunday")),
        ],
    )
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(opens__lt=models.F("closes")), name="opening_order")
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Closure(TenantOwned):
    """A day the resource is closed (maintenance, year-end holidays…)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="closures")
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "date"], name="closure_unique_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.date}"


class Slot(TenantOwned):
    """The capacity row of one slot.

    `taken` is the places held by its bookings (confirmed, attended, no-show) and by its
    pending waitlist offers. Only `services` change it, each time in the same transaction
    as the rows it counts, with one conditional UPDATE (`taken + n <= capacity`).
    """

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    taken = models.PositiveIntegerField(_("places taken"), default=0)
    is_blocked = models.BooleanField(_("blocked"), default=False)

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "starts_at"], name="slot_unique_start")
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.starts_at:%Y-%m-%d %H:%M}"


class BookingStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not come")


class BookingSource(models.TextChoices):
    LINE = "line", _("LINE")
    PHONE = "phone", _("Phone (booked by staff)")
    WEB = "web", _("Web")


HOLDING_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW)


class Booking(TenantOwned):
    """Places taken in one slot by one resident (or a phone caller booked by staff)."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality")
    )
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("resource")
    )
    slot = models.ForeignKey(
        Slot, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("slot")
    )
    resident = models.ForeignKey(
        "procedures.Resident",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("resident"),
        help_text=_("Empty for a phone caller booked by staff."),
    )
    party_size = models.PositiveSmallIntegerField(_("party size"), default=1)
    # Places taken: the party size when capacity counts people, 1 when it counts groups.
    places = models.PositiveSmallIntegerField(_("places"), default=1)
    status = models.CharField(
        _("status"), max_length=12, choices=BookingStatus.choices, default="confirmed"
    )
    source = models.CharField(
        _("source"), max_length=10, choices=BookingSource.choices, default="line"
    )
    contact_name = models.CharField(_("name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=20, blank=True)
    submission = models.ForeignKey(
        "procedures.Submission",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submission"),
    )
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["slot__starts_at", "id"]
        indexes = [models.Index(fields=["slot", "status"], name="booking_slot_status")]

    def __str__(self) -> str:
        return f"{self.slot} ×{self.party_size}"


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    OFFERED = "offered", _("Offer sent")
    BOOKED = "booked", _("Booked")
    LEFT = "left", _("Left the waitlist")


class WaitlistEntry(TenantOwned):
    """A resident waiting for a place in a full slot; served first come, first served."""

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="waitlist")
    resident = models.ForeignKey(
        "procedures.Resident",
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
        verbose_name=_("resident"),
    )
    party_size = models.PositiveSmallIntegerField(_("party size"), default=1)
    status = models.CharField(
        _("status"), max_length=10, choices=WaitlistStatus.choices, default="waiting"
    )
    created_at = models.DateTimeField(_("joined at"))

    class Meta:
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist entries")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "resident"],
                condition=Q(status__in=["waiting", "offered"]),
                name="waitlist_once_per_slot",
            )
        ]

    def __str__(self) -> str:
        return f"{self.slot} resident {self.resident_id}"


class OfferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    LOST = "lost", _("Place gone")


class WaitlistOffer(TenantOwned):
    """A freed place held for one waiting resident until `expires_at` (the record of it)."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="offers")
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default="pending")
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    notified = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("waitlist offer")
        verbose_name_plural = _("waitlist offers")
        ordering = ["offered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry"], condition=Q(status="pending"), name="one_pending_offer_per_entry"
            )
        ]

    def __str__(self) -> str:
        return f"{self.entry} {self.status}"


class ReminderRule(TenantOwned):
    """When to remind: `days_before` at `at_time` (18:00 the day before), or `hours_before`."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="reminder_rules")
    days_before = models.PositiveSmallIntegerField(_("days before"), null=True, blank=True)
    at_time = models.TimeField(_("at"), null=True, blank=True)
    hours_before = models.PositiveSmallIntegerField(_("hours before"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder rule")
        verbose_name_plural = _("reminder rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(hours_before__isnull=False)
                | Q(days_before__isnull=False, at_time__isnull=False),
                name="reminder_rule_has_a_time",
            )
        ]

    def __str__(self) -> str:
        if self.hours_before is not None:
            return _("%(hours)d hours before") % {"hours": self.hours_before}
        return _("%(days)d days before at %(time)s") % {
            "days": self.days_before,
            "time": f"{self.at_time:%H:%M}",
        }


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class ReminderDelivery(TenantOwned):
    """The intent to remind one booking by one rule: unique, claimed once, then sent."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reminders")
    rule = models.ForeignKey(ReminderRule, on_delete=models.CASCADE, related_name="deliveries")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=ReminderStatus.choices, default="pending")
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["booking", "rule"], name="one_reminder_per_rule")
        ]

    def __str__(self) -> str:
        return f"{self.booking_id} {self.rule_id} {self.status}"
