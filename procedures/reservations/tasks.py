"""Celery tasks of reservations. They take ids, enter the tenant scope and can run twice.

Reminders are planned by beat into `ReminderDelivery` intent rows (unique per booking and
rule), then each row is claimed with `select_for_update(skip_locked=True)` and marked
sent in the same transaction as the push's intent row is written — a duplicated task or
a redelivery after a worker restart finds the row sent and does nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.translation import override

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
    WaitlistOffer,
)
from procedures.reservations.schedule import TOKYO

PLAN_HORIZON = timedelta(minutes=5)  # rows are written a little before they are due
RETRY_NAMESPACE = uuid.UUID("0c7e3c8a-5a43-4b7f-9a8e-2f1d3b6c9e41")


def _push(resident: str, build, *, once_key: str | None = None) -> bool:
    """Push prompts built by `build()` in the resident's language; False if unreachable.

    ``once_key`` names the intent (e.g. ``reminder:12``): the LINE retry key is derived
    from it, so a task that runs again after a crash cannot deliver twice.
    """
    from delivery.services import prompts_push
    from procedures.reservations.selectors import friend_for_resident

    friend = friend_for_resident(resident=resident)
    if friend is None:
        return False
    with override(friend.conversation_language):
        prompts = build()
    retry_key = uuid.uuid5(RETRY_NAMESPACE, once_key) if once_key else None
    prompts_push(friend=friend, prompts=prompts, retry_key=retry_key)
    return True


@shared_task(
    name="procedures.reservations.offer_freed_place",
    ignore_result=True,
    base=TenantTask,
    legacy_row_model=Slot,
)
def offer_freed_place(slot_id: int, *, municipality_id: int) -> int | None:
    """A place was released: offer it to the first waiting resident (no-op if none, or if
    the slot is gone)."""
    from procedures.reservations.services import waitlist_offer_next

    if not Slot.objects.filter(pk=slot_id).exists():  # deleted, or not this municipality's
        return None
    offer = waitlist_offer_next(slot_id=slot_id)
    return offer.pk if offer else None


@shared_task(
    name="procedures.reservations.send_waitlist_offer",
    ignore_result=True,
    base=TenantTask,
    legacy_row_model=WaitlistOffer,
)
def send_waitlist_offer(offer_id: int, *, municipality_id: int) -> bool:
    """Push the offer once: the `notified` flag is claimed with a conditional update."""
    from procedures.reservations.chat import offer_prompts

    # Claimed before pushing; the push's own intent row (with its retry key) is
    # re-sent by delivery's beat if the send fails midway.
    claimed = WaitlistOffer.objects.filter(pk=offer_id, notified=False).update(notified=True)
    if not claimed:
        return False
    offer = WaitlistOffer.objects.select_related("entry", "slot__resource").get(pk=offer_id)
    return _push(offer.entry.resident, lambda: offer_prompts(offer), once_key=f"offer:{offer_id}")


@shared_task(
    name="procedures.reservations.tell_cancelled_by_staff",
    ignore_result=True,
    base=TenantTask,
    legacy_row_model=Booking,
)
def tell_cancelled_by_staff(booking_id: int, message: str, *, municipality_id: int) -> bool:
    """Tell the resident that staff cancelled their booking (False when there is none)."""
    from procedures.reservations.chat import cancelled_by_staff_prompts

    booking = Booking.objects.select_related("slot", "resource").filter(pk=booking_id).first()
    if booking is None or not booking.resident:
        return False
    return _push(booking.resident, lambda: cancelled_by_staff_prompts(booking, message))


@shared_task(name="procedures.reservations.expire_offers", ignore_result=True)
def expire_offers() -> int:
    """Beat, every minute: offers past their hold time expire and move to the next."""
    from procedures.reservations.services import waitlist_offers_expire

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
    set to sent in the same transaction that writes and sends the push (with its stored
    LINE retry key). A second run — duplicated task, redelivery after a restart — finds
    it sent, or locked by the first run, and returns without sending. A booking cancelled
    meanwhile is skipped.
    """
    from procedures.reservations.chat import reminder_prompts

    with transaction.atomic():
        row = (
            ReminderDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=delivery_id, status=ReminderStatus.PENDING)
            .select_related("booking__slot", "booking__resource")
            .first()
        )
        if row is None:
            return "claimed-elsewhere"
        row.attempts += 1
        booking = row.booking
        if booking.status != BookingStatus.CONFIRMED or not booking.resident:
            row.status = ReminderStatus.SKIPPED
        else:
            sent = _push(
                booking.resident, lambda: reminder_prompts(booking), once_key=f"reminder:{row.pk}"
            )
            row.status = ReminderStatus.SENT if sent else ReminderStatus.FAILED
            row.sent_at = timezone.now()
        row.save(update_fields=["status", "attempts", "sent_at"])
        return str(row.status)
