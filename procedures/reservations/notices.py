"""What reservations tell residents outside a conversation, through the outbox.

Each function writes one Notice (procedures.residents.services.resident_notify) inside
the caller's transaction, in the resident's language, with a key that makes a second
call for the same event a no-op. The resident's channel sends it after commit.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from procedures import engine
from procedures.engine.steps import postback
from procedures.languages import resident_override
from procedures.reservations.models import Booking, WaitlistOffer
from procedures.reservations.schedule import TOKYO
from procedures.residents.models import Notice
from procedures.residents.services import resident_notify

WEEKDAYS_JA = "月火水木金土日"


def when_text(starts_at: datetime, ends_at: datetime | None = None) -> str:
    start = starts_at.astimezone(TOKYO)
    text = f"{start.month}/{start.day}（{WEEKDAYS_JA[start.weekday()]}）{start:%H:%M}"
    return f"{text}–{ends_at.astimezone(TOKYO):%H:%M}" if ends_at else text


def offer_prompts(offer: WaitlistOffer) -> list:
    """The push a waiting resident gets when a place is free (call inside `override`)."""
    slot = offer.slot
    expires = offer.expires_at.astimezone(TOKYO)
    text = _("A place is free: %(resource)s %(when)s. It is held for you until %(until)s.") % {
        "resource": slot.resource.name,
        "when": when_text(slot.starts_at, slot.ends_at),
        "until": f"{expires:%H:%M}",
    }
    choices = (
        engine.Choice(_("Book it"), postback("rsv", "acc", str(offer.pk))),
        engine.Choice(_("Decline"), postback("rsv", "dec", str(offer.pk))),
    )
    return [engine.TextPrompt(text, choices)]


def reminder_prompts(booking: Booking) -> list:
    text = _("Reminder of your booking: %(resource)s %(when)s") % {
        "resource": booking.resource.name,
        "when": when_text(booking.slot.starts_at, booking.slot.ends_at),
    }
    if booking.resource.location:
        text += "\n" + booking.resource.location
    return [engine.TextPrompt(text)]


def cancelled_by_staff_prompts(booking: Booking, message: str) -> list:
    text = _("Your booking was cancelled by the city: %(resource)s %(when)s") % {
        "resource": booking.resource.name,
        "when": when_text(booking.slot.starts_at, booking.slot.ends_at),
    }
    return [engine.TextPrompt(f"{text}\n{message}".strip())]


def waitlist_offer_notify(*, offer: WaitlistOffer) -> Notice | None:
    """Tell the waiting resident that a place is held for them (once per offer)."""
    resident = offer.entry.resident
    with resident_override(resident.language):
        prompts = offer_prompts(offer)
    return resident_notify(resident=resident, prompts=prompts, once_key=f"offer:{offer.pk}")


def booking_cancelled_notify(*, booking: Booking, message: str) -> Notice | None:
    """Tell the resident that staff cancelled their booking (nobody for a phone caller)."""
    resident = booking.resident
    if resident is None:
        return None
    with resident_override(resident.language):
        prompts = cancelled_by_staff_prompts(booking, message)
    return resident_notify(
        resident=resident, prompts=prompts, once_key=f"booking-cancelled:{booking.pk}"
    )


def booking_reminder_notify(*, booking: Booking, reminder_id: int) -> Notice | None:
    """Remind the resident of their booking (once per ReminderDelivery row)."""
    resident = booking.resident
    if resident is None:
        return None
    with resident_override(resident.language):
        prompts = reminder_prompts(booking)
    return resident_notify(resident=resident, prompts=prompts, once_key=f"reminder:{reminder_id}")
