"""Celery tasks of reservations. They take ids, enter the tenant scope and can run twice.

Reminders are planned by beat into `ReminderDelivery` intent rows (unique per booking and
rule), then each row is claimed with `select_for_update(skip_locked=True)` and marked
sent in the same transaction as the resident's Notice (the outbox) is written — a
duplicated task or a redelivery after a worker restart finds the row sent and does
nothing. LINE is called only after commit, by the outbox's own task.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from govtech.models import Municipality
from govtech.tasks import TenantTask
from govtech.tenancy import tenant_scope
from procedures.reservations.models import (
    Booking,
    BookingStatus,
    ReminderDelivery,
    ReminderRule,
    ReminderStatus,
    Slot,
)
from procedures.reservations.notices import booking_reminder_notify
from procedures.reservations.schedule import TOKYO
from procedures.reservations.services import waitlist_offer_next, waitlist_offers_expire

PLAN_HORIZON = timedelta(minutes=5)  # rows are written a little before they are due


@shared_task(
    name="procedures.reservations.offer_freed_place",
    ignore_result=True,
    base=TenantTask,
    legacy_row_model=Slot,
)
def offer_freed_place(slot_id: int, *, municipality_id: int) -> list[int] | None:
    """Places were released outside the reservation services (a resident's data erased):
    recount the slot's counter and offer its free places to the waiting residents; the
    offers' ids (None if the slot is gone or not this municipality's)."""
    if not Slot.objects.filter(pk=slot_id).exists():
        return None
    return [offer.pk for offer in waitlist_offer_next(slot_id=slot_id)]


@shared_task(name="procedures.reservations.expire_offers", ignore_result=True)
def expire_offers() -> int:
    """Beat, every minute: offers past their hold time expire and move to the next."""
    total = 0
    for municipality in Municipality.objects.all():
        with tenant_scope(municipality):
            total += waitlist_offers_expire()
    return total


def reminder_due_at(rule: ReminderRule, starts_at: datetime) -> datetime:
    if rule.hours_before is not None:
        return starts_at - timedelta(hours=rule.hours_before)
    if rule.at_time is None:  # the model's check constraint: hours_before, or days + time
        raise ValueError(f"reminder rule {rule.pk} has neither hours_before nor at_time")
    day = starts_at.astimezone(TOKYO).date() - timedelta(days=rule.days_before or 0)
    return datetime.combine(day, rule.at_time, TOKYO)


def reminders_plan(*, now: datetime) -> list[int]:
    """Write the intent rows of reminders due by now (+ a margin); ids of pending rows.

    Inside a tenant scope. Idempotent: the unique (booking, rule) constraint and
    `ignore_conflicts` make a second plan write nothing new.
    """
    rows = []
    for rule in ReminderRule.objects.select_related("resource"):
        bookings = Booking.objects.filter(
            resource=rule.resource, status=BookingStatus.CONFIRMED, slot__starts_at__gt=now
        ).select_related("slot")
        for booking in bookings:
            due = reminder_due_at(rule, booking.slot.starts_at)
            if due <= now + PLAN_HORIZON:
                rows.append(
                    ReminderDelivery(
                        municipality=booking.municipality, booking=booking, rule=rule, due_at=due
                    )
                )
    ReminderDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        ReminderDelivery.objects.filter(status=ReminderStatus.PENDING, due_at__lte=now).values_list(
            "pk", flat=True
        )
    )


@shared_task(name="procedures.reservations.plan_reminders", ignore_result=True)
def plan_reminders() -> int:
    """Beat, every minute: plan due reminders and enqueue one send task per pending row."""
    now = timezone.now()
    count = 0
    for municipality in Municipality.objects.all():
        with tenant_scope(municipality):
            for pk in reminders_plan(now=now):
                send_reminder.delay(pk, municipality_id=municipality.pk)
                count += 1
    return count


@shared_task(
    name="procedures.reservations.send_reminder",
    ignore_result=True,
    base=TenantTask,
    legacy_row_model=ReminderDelivery,
)
def send_reminder(delivery_id: int, *, municipality_id: int) -> str:
    """Send one reminder exactly once.

    The row is claimed with `select_for_update(skip_locked=True)` on status pending and
    set to sent in the same transaction that writes the resident's Notice (keyed by this
    row, so it is written once); the outbox sends it after commit, with its stored LINE
    retry key. A second run — duplicated task, redelivery after a restart — finds the row
    sent, or locked by the first run, and returns without sending. A booking cancelled
    meanwhile is skipped. No network call happens while the row is locked.
    """
    with transaction.atomic():
        row = (
            ReminderDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=delivery_id, status=ReminderStatus.PENDING)
            .select_related("booking__slot", "booking__resource", "booking__resident")
            .first()
        )
        if row is None:
            return "claimed-elsewhere"
        row.attempts += 1
        booking = row.booking
        if booking.status != BookingStatus.CONFIRMED or booking.resident_id is None:
            row.status = ReminderStatus.SKIPPED
        else:
            booking_reminder_notify(booking=booking, reminder_id=row.pk)
            row.status = ReminderStatus.SENT
            row.sent_at = timezone.now()
        row.save(update_fields=["status", "attempts", "sent_at"])
        return str(row.status)
