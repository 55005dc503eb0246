"""The reservation step: a slot of a resource, picked day → time → party size."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from procedures.engine import parsing
from procedures.engine.inputs import Input, TextInput
from procedures.engine.prompts import Choice, Prompt, TextPrompt
from procedures.engine.steps.base import (
    PRIMARY_LANGUAGE,
    TOKYO,
    InvalidAnswer,
    Partial,
    StepContext,
    StepType,
    _answer_value,
    postback,
    register,
    step_type,
)
from procedures.engine.steps.dates import _WEEKDAYS_JA


@register
class ReservationStep(StepType):
    """A slot of a resource: pick a day, then a time (remaining places shown), then the
    party size when the resource allows more than one person.

    The runtime supplies `ctx.availability[step["resource"]]` (see `StepContext`). Full
    slots (and days whose slots are all full) are offered as 「満員・キャンセル待ち」:
    picking one asks to confirm (per party size when parties are allowed) with
    `join_waitlist_data` buttons, which the reservation chat handles outside the
    conversation (no booking, no submission). Blocked slots are never offered. The
    answer is `{"resource", "start", "end", "party_size"}` (ISO datetimes in Asia/Tokyo).
    The place itself is taken by the runtime when the resident submits, with a capacity
    check under a lock.
    """

    name = "reservation"
    var_fields = frozenset({"start", "party_size"})
    schema_fields = {
        "resource": {
            "description": "Key of the reservation resource (reservation steps only).",
            "type": "string",
            "pattern": "^[a-z0-9]+(?:[-_][a-z0-9]+)*$",
            "maxLength": 100,
        }
    }
    required_fields = ("resource",)

    def missing_field_message(self, field: str) -> str | None:
        if field == "resource":
            return _("Choose the reservation resource (facility) residents book in this step.")
        return None

    @staticmethod
    def join_waitlist_data(resource_key: str, start: str, party_size: int) -> str:
        """Postback of a button that puts the resident on a slot's waitlist (the
        reservation chat handles it, outside any conversation)."""
        return postback("rsv", "w", resource_key, start, str(party_size))

    @staticmethod
    def pick_full_slot_data(step_id: str, start: str) -> str:
        """Postback of a full slot's 「満員・キャンセル待ち」 button in the slot list."""
        return postback("a", step_id, "w:" + start)

    def prompt(self, step: Mapping[str, Any], ctx: StepContext) -> list[Prompt]:
        offer = ctx.availability.get(step.get("resource", ""))
        if offer is None:
            text = _("Reservations are not available right now. Please try again later.")
            return [TextPrompt(text, ctx.extra_choices)]
        pending = ctx.pending or {}
        if "start" in pending:
            slot = _find_slot(offer, pending["start"])
            if slot is not None and _waitlistable(slot):
                return [self._waitlist_prompt(step, ctx, offer, slot)]
            return [self._party_prompt(step, ctx, offer, pending)]
        if "date" in pending:
            return [self._slot_prompt(step, ctx, offer, pending["date"])]
        return [self._day_prompt(step, ctx, offer)]

    def _day_prompt(self, step, ctx: StepContext, offer) -> Prompt:
        free = [day for day in offer["days"] if _has_free(day["slots"])]
        full = [day for day in offer["days"] if _is_full(day["slots"])]
        room = RESERVATION_QUICK_REPLIES - len(ctx.extra_choices)
        days = _fill(free[:RESERVATION_DAY_CHOICES], full, room, key=lambda day: day["date"])
        if not days:
            text = _("There are no free places in the coming days.")
            return TextPrompt(f"{self.question(step, ctx)}\n{text}", ctx.extra_choices)
        choices = tuple(
            Choice(_day_label(day, ctx), postback("a", step["id"], "d:" + day["date"]))
            for day in days
        )
        lines = [self.question(step, ctx)]
        if not any(_has_free(day["slots"]) for day in days):
            lines.append(_("There are no free places in the coming days."))
        lines.append(_("Please choose a day."))
        if any(_is_full(day["slots"]) for day in days):
            lines.append(_("On full days you can join the waitlist."))
        return TextPrompt("\n".join(lines), (*choices, *ctx.extra_choices))

    def _slot_prompt(self, step, ctx: StepContext, offer, day: str) -> Prompt:
        candidates = _day_slots(offer, day)
        free = [s for s in candidates if s["remaining"] > 0]
        full = [s for s in candidates if _waitlistable(s)]
        room = RESERVATION_QUICK_REPLIES - 1 - len(ctx.extra_choices)  # 1: "Another day"
        slots = _fill(free, full, room, key=lambda s: datetime.fromisoformat(s["start"]))
        other = Choice(_("Another day"), postback("a", step["id"], "d:"))
        heading = _("%(day)s: please choose a time.") % {"day": _long_day(day, ctx)}
        if not free:
            heading = _("%(day)s is fully booked.") % {"day": _long_day(day, ctx)}
        if full:
            heading += "\n" + _("For a full time you can join the waitlist.")
        choices = tuple(self._slot_choice(step, ctx, s) for s in slots)
        return TextPrompt(heading, (*choices, other, *ctx.extra_choices))

    def _slot_choice(self, step, ctx: StepContext, slot) -> Choice:
        if slot["remaining"] > 0:
            return Choice(_slot_label(slot, ctx), postback("a", step["id"], "s:" + slot["start"]))
        start = datetime.fromisoformat(slot["start"]).astimezone(TOKYO)
        label = _("%(time)s full: waitlist") % {"time": f"{start:%H:%M}"}
        return Choice(label, self.pick_full_slot_data(step["id"], slot["start"]))

    def _waitlist_prompt(self, step, ctx: StepContext, offer, slot) -> Prompt:
        """A full slot was picked: join its waitlist (with the party size) or go back."""
        start = datetime.fromisoformat(slot["start"]).astimezone(TOKYO)
        text = _(
            "%(day)s %(time)s is full. Join the waitlist? "
            "We will message you if a place becomes free."
        ) % {"day": _long_day(start.date().isoformat(), ctx), "time": f"{start:%H:%M}"}
        most = max(int(offer.get("max_party", 1)), 1)
        choices = tuple(
            Choice(
                _("Join the waitlist")
                if most == 1
                else _("Waitlist (%(party)s)") % {"party": _party_label(n)},
                self.join_waitlist_data(step["resource"], slot["start"], n),
            )
            for n in range(1, most + 1)
        )
        other = Choice(
            _("Another time"), postback("a", step["id"], "d:" + start.date().isoformat())
        )
        return TextPrompt(text, (*choices, other, *ctx.extra_choices))

    def _party_prompt(self, step, ctx: StepContext, offer, pending) -> Prompt:
        slot = _find_slot(offer, pending["start"]) or {"remaining": 1}
        most = min(int(offer.get("max_party", 1)), _max_party_for(offer, slot))
        choices = tuple(
            Choice(_party_label(n), postback("a", step["id"], f"p:{n}")) for n in range(1, most + 1)
        )
        return TextPrompt(_("How many people?"), (*choices, *ctx.extra_choices))

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please choose from the buttons.")

    def parse(self, step: Mapping[str, Any], inp: Input, ctx: StepContext) -> Any:
        offer = ctx.availability.get(step.get("resource", ""))
        if offer is None:
            raise InvalidAnswer(_("Reservations are not available right now."))
        value = _answer_value(step, inp)
        if value is None and isinstance(inp, TextInput):
            value = self._typed(inp.text, ctx)
        if value is None:
            raise InvalidAnswer(self.expected(step))
        return self._pick(step, value, ctx, offer)

    def _typed(self, text: str, ctx: StepContext) -> str | None:
        pending = ctx.pending or {}
        if "date" in pending and "start" not in pending:
            moment = parsing.parse_time(text)
            if moment is not None:
                start = datetime.combine(date.fromisoformat(pending["date"]), moment, TOKYO)
                return "s:" + start.isoformat()
        if "start" in pending:
            number = parsing.parse_integer(text)
            return f"p:{number}" if number is not None else None
        day = parsing.parse_date(text, ctx.today)
        return "d:" + day.isoformat() if day else None

    def _pick(self, step, value: str, ctx: StepContext, offer) -> Any:
        kind, _sep, raw = value.partition(":")
        pending = dict(ctx.pending or {})
        if kind == "d":
            return Partial({"date": raw} if raw else None)
        if kind in {"s", "w"} and "date" in pending:
            slot = _find_slot(offer, raw)
            if kind == "w" and slot is not None and _waitlistable(slot):
                return Partial({**pending, "start": slot["start"]})
            if slot is None or slot["remaining"] <= 0:
                raise InvalidAnswer(_("That time is not available. Please choose another."))
            if int(offer.get("max_party", 1)) > 1:
                return Partial({**pending, "start": slot["start"]})
            return _answer(step, slot, 1)
        if kind == "p" and "start" in pending and raw.isdigit():
            slot = _find_slot(offer, pending["start"])
            if slot is None:
                raise InvalidAnswer(_("That time is not available. Please choose another."))
            return _answer(step, slot, int(raw))
        raise InvalidAnswer(self.expected(step))

    def validate(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> None:
        offer = ctx.availability.get(step.get("resource", ""))
        if offer is None or not isinstance(value, dict):
            raise InvalidAnswer(self.expected(step))
        slot = _find_slot(offer, value.get("start", ""))
        party = value.get("party_size", 1)
        if slot is None or not 1 <= party <= min(int(offer.get("max_party", 1)), 99):
            raise InvalidAnswer(_("That time is not available. Please choose another."))
        if _max_party_for(offer, slot) < party:
            raise InvalidAnswer(_("Not enough places are left at that time."))

    def summarize(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
        start = datetime.fromisoformat(value["start"]).astimezone(TOKYO)
        end = datetime.fromisoformat(value["end"]).astimezone(TOKYO)
        text = f"{_long_day(start.date().isoformat(), ctx)} {start:%H:%M}–{end:%H:%M}"
        if value.get("party_size", 1) > 1:
            text += f" ({_party_label(value['party_size'])})"
        return text

    def sample(self, step: Mapping[str, Any]) -> Any:
        return {
            "resource": step.get("resource", ""),
            "start": "2026-12-01T10:00:00+09:00",
            "end": "2026-12-01T11:00:00+09:00",
            "party_size": 1,
        }


RESERVATION_DAY_CHOICES = 8  # leaves room for the command buttons within 13 quick replies
RESERVATION_QUICK_REPLIES = 13  # LINE's limit, command buttons included


def _has_free(slots: list[Mapping[str, Any]]) -> bool:
    return any(slot["remaining"] > 0 for slot in slots)


def _waitlistable(slot: Mapping[str, Any]) -> bool:
    """Full, but not blocked by staff: a blocked slot is closed, not worth waiting for."""
    return slot["remaining"] <= 0 and not slot.get("blocked", False)


def _is_full(slots: list[Mapping[str, Any]]) -> bool:
    """A day with no free place but at least one slot to wait for."""
    return not _has_free(slots) and any(_waitlistable(slot) for slot in slots)


def _fill(first: list, then: list, room: int, *, key) -> list:
    """All of `first` that fits in `room`, then as many of `then`, in `key` order."""
    chosen = first[: max(room, 0)]
    chosen += then[: max(room - len(chosen), 0)]
    return sorted(chosen, key=key)


def _answer(step: Mapping[str, Any], slot: Mapping[str, Any], party_size: int) -> dict:
    return {
        "resource": step["resource"],
        "start": slot["start"],
        "end": slot["end"],
        "party_size": party_size,
    }


def _day_slots(offer: Mapping[str, Any], day: str) -> list[Mapping[str, Any]]:
    return next((d["slots"] for d in offer["days"] if d["date"] == day), [])


def _find_slot(offer: Mapping[str, Any], start: str) -> Mapping[str, Any] | None:
    try:
        wanted = datetime.fromisoformat(start)
    except (TypeError, ValueError):
        return None
    for day in offer["days"]:
        for slot in day["slots"]:
            if datetime.fromisoformat(slot["start"]) == wanted:
                return slot
    return None


def _max_party_for(offer: Mapping[str, Any], slot: Mapping[str, Any]) -> int:
    """Groups take one place whatever their size; people take one place each."""
    if offer.get("unit") == "groups":
        return int(offer.get("max_party", 1)) if slot["remaining"] > 0 else 0
    return int(slot["remaining"])


def _short_day(day: str, ctx: StepContext) -> str:
    value = date.fromisoformat(day)
    if ctx.lang == PRIMARY_LANGUAGE:
        return f"{value.month}/{value.day}（{_WEEKDAYS_JA[value.weekday()]}）"
    return value.strftime("%a %b %-d")


def _day_label(day: Mapping[str, Any], ctx: StepContext) -> str:
    label = _short_day(day["date"], ctx)
    return _("%(day)s (full)") % {"day": label} if _is_full(day["slots"]) else label


def _long_day(day: str, ctx: StepContext) -> str:
    return step_type("date").summarize({}, day, ctx)


def _slot_label(slot: Mapping[str, Any], ctx: StepContext) -> str:
    start = datetime.fromisoformat(slot["start"]).astimezone(TOKYO)
    return _("%(time)s (%(left)d left)") % {"time": f"{start:%H:%M}", "left": slot["remaining"]}


def _party_label(count: int) -> str:
    return ngettext("%(count)d person", "%(count)d people", count) % {"count": count}
