"""Residents manage their bookings in chat, outside any procedure conversation.

「予約の確認」 lists upcoming bookings with 変更 / キャンセル; the flow runs on postbacks
(`gt|rsv|<action>|…`), so it needs no conversation state: each tap carries what it needs
and is checked again (ownership, capacity) when it arrives. Waitlist offers pushed to
residents are answered here too (予約する / 辞退する); what is pushed to them is in
``procedures.reservations.notices``.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from procedures import engine
from procedures.engine import parsing
from procedures.engine.steps import ReservationStep, parse_postback, postback
from procedures.languages import resident_override
from procedures.reservations.models import Booking, Resource, WaitlistOffer
from procedures.reservations.notices import WEEKDAYS_JA, when_text
from procedures.reservations.schedule import TOKYO
from procedures.reservations.selectors import (
    CHAT_DAYS,
    SlotAvailability,
    resident_booking,
    resident_upcoming_bookings,
    resource_by_key,
    slot_availability,
)
from procedures.reservations.services import (
    BookingRefused,
    SlotFull,
    booking_cancel,
    booking_change,
    waitlist_join,
    waitlist_offer_accept,
    waitlist_offer_decline,
)
from procedures.residents.models import Resident

LIST_WORDS = {"予約の確認", "予約確認", "予約の変更", "mybookings", "bookings"}


def resource_or_refuse(*, key: str) -> Resource:
    resource = resource_by_key(key=key)
    if resource is None:
        raise BookingRefused(_("Reservations are not available right now."))
    return resource


def refusal_text(reason: str, alternatives: list[SlotAvailability]) -> str:
    if not alternatives:
        return reason
    lines = [when_text(a.starts_at, a.ends_at) for a in alternatives]
    return "\n".join([reason, _("Nearest free times:"), *lines])


def waitlist_choice(resource_key: str, start: str, party_size: int) -> engine.Choice:
    data = ReservationStep.join_waitlist_data(resource_key, start, party_size)
    return engine.Choice(_("Join the waitlist"), data)


def handle(*, resident: Resident, inp: engine.Input, lang: str, now: datetime) -> list | None:
    """Prompts for a booking-management input, or None when the input is not one."""
    parts = parse_postback(inp.data) if isinstance(inp, engine.PostbackInput) else None
    listing = isinstance(inp, engine.TextInput) and parsing.normalize_key(inp.text) in LIST_WORDS
    if not listing and not (parts and parts[0] == "rsv" and len(parts) >= 3):
        return None
    with resident_override(lang):
        if listing:
            return _list(resident, now)
        action = _ACTIONS.get(parts[1])
        return action(resident, parts[2:], now) if action else None


def _list(resident: Resident, now: datetime) -> list:
    bookings = resident_upcoming_bookings(resident=resident, now=now)
    if not bookings:
        return [engine.TextPrompt(_("You have no upcoming bookings."))]
    prompts = []
    for booking in bookings[:4]:
        choices = (
            engine.Choice(_("Change"), postback("rsv", "ch", str(booking.pk))),
            engine.Choice(_("Cancel booking"), postback("rsv", "c", str(booking.pk))),
        )
        prompts.append(engine.TextPrompt(_describe(booking), choices))
    return prompts


def _describe(booking: Booking) -> str:
    text = f"{booking.resource.name}\n{when_text(booking.slot.starts_at, booking.slot.ends_at)}"
    if booking.party_size > 1:
        text += " " + _("(%(count)d people)") % {"count": booking.party_size}
    return text


def _own(resident: Resident, raw: str) -> Booking | None:
    booking = resident_booking(resident=resident, pk=int(raw)) if raw.isdigit() else None
    return booking if booking is not None and booking.status == "confirmed" else None


def _gone() -> list:
    return [engine.TextPrompt(_("This booking cannot be found or has already been cancelled."))]


def _ask_cancel(resident: Resident, args: list[str], now: datetime) -> list:
    booking = _own(resident, args[0])
    if booking is None:
        return _gone()
    choices = (
        engine.Choice(_("Yes, cancel it"), postback("rsv", "cx", str(booking.pk))),
        engine.Choice(_("Keep it"), postback("rsv", "keep", str(booking.pk))),
    )
    return [engine.TextPrompt(_("Cancel this booking?") + "\n" + _describe(booking), choices)]


def _cancel(resident: Resident, args: list[str], now: datetime) -> list:
    booking = _own(resident, args[0])
    if booking is None:
        return _gone()
    booking_cancel(booking=booking, now=now)
    return [engine.TextPrompt(_("Your booking has been cancelled.") + "\n" + _describe(booking))]


def _keep(resident: Resident, args: list[str], now: datetime) -> list:
    return [engine.TextPrompt(_("Your booking is kept."))]


def _change_days(resident: Resident, args: list[str], now: datetime) -> list:
    booking = _own(resident, args[0])
    if booking is None:
        return _gone()
    free = _free_slots(booking, now)
    days = sorted({s.starts_at.astimezone(TOKYO).date() for s in free})[:10]
    if not days:
        return [engine.TextPrompt(_("There are no free places in the coming days."))]
    choices = tuple(
        engine.Choice(
            f"{d.month}/{d.day}（{WEEKDAYS_JA[d.weekday()]}）",
            postback("rsv", "cd", str(booking.pk), d.isoformat()),
        )
        for d in days
    )
    return [engine.TextPrompt(_("Which day would you like instead?"), choices)]


def _change_slots(resident: Resident, args: list[str], now: datetime) -> list:
    booking = _own(resident, args[0])
    if booking is None or len(args) < 2:
        return _gone()
    free = [
        s
        for s in _free_slots(booking, now)
        if s.starts_at.astimezone(TOKYO).date().isoformat() == args[1]
    ]
    choices = tuple(
        engine.Choice(
            _("%(time)s (%(left)d left)")
            % {"time": f"{s.starts_at.astimezone(TOKYO):%H:%M}", "left": s.remaining},
            postback("rsv", "cs", str(booking.pk), s.starts_at.astimezone(TOKYO).isoformat()),
        )
        for s in free[:12]
    )
    return [engine.TextPrompt(_("Which time would you like instead?"), choices)]


def _free_slots(booking: Booking, now: datetime) -> list[SlotAvailability]:
    today = now.astimezone(TOKYO).date()
    slots = slot_availability(resource=booking.resource, first=today, days=CHAT_DAYS, now=now)
    places = booking.resource.places_for(booking.party_size)
    return [s for s in slots if s.remaining >= places and s.starts_at != booking.slot.starts_at]


def _change(resident: Resident, args: list[str], now: datetime) -> list:
    booking = _own(resident, args[0])
    if booking is None or len(args) < 2:
        return _gone()
    try:
        new = booking_change(booking=booking, starts_at=datetime.fromisoformat(args[1]), now=now)
    except SlotFull as full:
        return [_change_elsewhere(booking, full)]
    except (BookingRefused, ValueError) as refused:
        return [
            engine.TextPrompt(
                str(refused) if isinstance(refused, BookingRefused) else _gone()[0].text
            )
        ]
    return [engine.TextPrompt(_("Your booking has been changed.") + "\n" + _describe(new))]


def _change_elsewhere(booking: Booking, full: SlotFull) -> engine.TextPrompt:
    """The slot filled meanwhile: the nearest free times, in the same reply, one tap each."""
    alternatives = [a for a in full.alternatives if a.starts_at != booking.slot.starts_at]
    choices = tuple(
        engine.Choice(
            when_text(a.starts_at),
            postback("rsv", "cs", str(booking.pk), a.starts_at.astimezone(TOKYO).isoformat()),
        )
        for a in alternatives
    )
    return engine.TextPrompt(refusal_text(str(full), alternatives), choices)


def _join_waitlist(resident: Resident, args: list[str], now: datetime) -> list:
    """Join a full slot's waitlist (from the slot list, or after losing the race).

    The resident's conversation, if any, is left as it is: nothing is booked or submitted.
    """
    if len(args) < 3:
        return _gone()
    try:
        resource = resource_or_refuse(key=args[0])
        entry = waitlist_join(
            resource=resource,
            starts_at=datetime.fromisoformat(args[1]),
            resident=resident,
            party_size=int(args[2]) if args[2].isdigit() else 1,
            now=now,
        )
    except BookingRefused as refused:
        return [engine.TextPrompt(str(refused))]
    except ValueError:
        return [engine.TextPrompt(_("Reservations are not available right now."))]
    text = _("You are on the waitlist. We will message you if a place becomes free.")
    when = when_text(entry.slot.starts_at, entry.slot.ends_at)
    if entry.party_size > 1:
        when += " " + _("(%(count)d people)") % {"count": entry.party_size}
    return [engine.TextPrompt(f"{text}\n{resource.name}\n{when}")]


def _offer(resident: Resident, raw: str) -> WaitlistOffer | None:
    if not raw.isdigit():
        return None
    return (
        WaitlistOffer.objects.filter(pk=int(raw), entry__resident=resident)
        .select_related("entry", "slot__resource")
        .first()
    )


def _accept(resident: Resident, args: list[str], now: datetime) -> list:
    offer = _offer(resident, args[0])
    if offer is None:
        return _gone()
    try:
        booking = waitlist_offer_accept(offer=offer, now=now)
    except BookingRefused as refused:
        return [engine.TextPrompt(str(refused))]
    return [engine.TextPrompt(_("Your booking is confirmed.") + "\n" + _describe(booking))]


def _decline(resident: Resident, args: list[str], now: datetime) -> list:
    offer = _offer(resident, args[0])
    if offer is not None:
        waitlist_offer_decline(offer=offer, now=now)
    return [engine.TextPrompt(_("Thank you. We have offered the place to the next person."))]


_ACTIONS = {
    "c": _ask_cancel,
    "cx": _cancel,
    "keep": _keep,
    "ch": _change_days,
    "cd": _change_slots,
    "cs": _change,
    "w": _join_waitlist,
    "acc": _accept,
    "dec": _decline,
}

__all__ = ["handle", "refusal_text"]
