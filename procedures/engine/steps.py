"""The step-type registry: what each `type` of step asks, accepts and shows.

A step type is a `StepType` subclass registered with `@register`; the machine and the
format checks only ever call `step_type(step["type"])` — there are no `if type == …`
chains. To add a type, subclass, set `name`, implement `prompt`/`parse`/`validate`/
`summarize`, and register it.

Stored answers are JSON values: text/email/phone/postal_code as str (phone as digits
only), number as int, date as ISO `YYYY-MM-DD`, time as `HH:MM`, choice as the option
value, multi_choice as a list of option values in document order, yes_no and consent
as bool, image as `{"ref", "content_type"}`, location as
`{"latitude", "longitude", "address", "title"}` (coordinates are null when the
resident typed an address instead of sharing a location).

Reasons given in `InvalidAnswer` are translated with Django's gettext; the machine
activates the conversation's language around every call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from procedures import logic
from procedures.engine import parsing
from procedures.engine.inputs import ImageInput, Input, LocationInput, PostbackInput, TextInput
from procedures.engine.prompts import (
    Choice,
    DatePickerPrompt,
    ImageRequestPrompt,
    LocationRequestPrompt,
    Prompt,
    TextPrompt,
)

TOKYO = ZoneInfo("Asia/Tokyo")
PRIMARY_LANGUAGE = "ja"
POSTBACK_PREFIX = "gt"


class InvalidAnswer(Exception):
    """The resident's input is not an acceptable answer; `reason` is already translated."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class StepNotAvailable(NotImplementedError):
    """The document uses a step type the engine cannot run yet."""


@dataclass(frozen=True)
class Partial:
    """An answer in progress (a multi_choice selection): store it and ask again."""

    value: Any


def localize(texts: Mapping[str, str] | None, lang: str, default: str = "") -> str:
    """The text in `lang`, else Japanese, else the first language present."""
    if not texts:
        return default
    for candidate in (lang, PRIMARY_LANGUAGE):
        if texts.get(candidate):
            return texts[candidate]
    return next((text for text in texts.values() if text), default)


def postback(*parts: str) -> str:
    """Postback data the engine understands: `gt|<kind>|<part>…`, at most 300 bytes."""
    data = "|".join((POSTBACK_PREFIX, *parts))
    return data.encode()[:300].decode(errors="ignore")


def parse_postback(data: str) -> list[str] | None:
    """The parts after the prefix, or None for data the engine did not make."""
    parts = data.split("|")
    if len(parts) < 2 or parts[0] != POSTBACK_PREFIX:
        return None
    return parts[1:]


@dataclass(frozen=True)
class StepContext:
    """What a step type may look at: never the database, never the transport."""

    definition: Mapping[str, Any]
    lang: str
    now: datetime
    answers: Mapping[str, Any] = field(default_factory=dict)
    extra_choices: tuple[Choice, ...] = ()
    pending: Any = None
    # Reservation steps: resource key -> {"name", "max_party", "unit", "days": [{"date",
    # "slots": [{"start", "end", "capacity", "remaining", "blocked"}]}]}, supplied by the
    # runtime.
    availability: Mapping[str, Any] = field(default_factory=dict)

    @property
    def today(self) -> date:
        return self.now.astimezone(TOKYO).date()

    def text(self, texts: Mapping[str, str] | None, default: str = "") -> str:
        return localize(texts, self.lang, default)


_REGISTRY: dict[str, StepType] = {}


def register(cls: type[StepType]) -> type[StepType]:
    """Class decorator: make the step type available under `cls.name`."""
    _REGISTRY[cls.name] = cls()
    return cls


def step_type(name: str) -> StepType:
    """The registered step type; KeyError for an unknown name."""
    return _REGISTRY[name]


def registered_types() -> list[str]:
    return sorted(_REGISTRY)


class StepType:
    name: ClassVar[str] = ""
    # How the machine treats the step: "question" waits for an answer, "message" is shown
    # and passed, "end" finishes the conversation, "confirm" shows the summary.
    role: ClassVar[str] = "question"
    available: ClassVar[bool] = True
    needs_options: ClassVar[bool] = False
    # Which `validation` keys make sense, and which dotted fields `{"var"}` may read.
    validation_fields: ClassVar[frozenset[str]] = frozenset()
    var_fields: ClassVar[frozenset[str]] = frozenset()
    # Whether an answer could carry a My Number: None (it cannot: a choice, a date…),
    # "typed" (free text or digits) or "photo" (a picture of the card).
    my_number_risk: ClassVar[str | None] = None

    def prompt(self, step: Mapping[str, Any], ctx: StepContext) -> list[Prompt]:
        return [TextPrompt(self.question(step, ctx), ctx.extra_choices)]

    def question(self, step: Mapping[str, Any], ctx: StepContext) -> str:
        return ctx.text(step.get("prompt") or step.get("message"))

    def parse(self, step: Mapping[str, Any], inp: Input, ctx: StepContext) -> Any:
        if isinstance(inp, TextInput):
            return self.parse_text(step, inp.text, ctx)
        raise InvalidAnswer(self.expected(step))

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> Any:
        raise InvalidAnswer(self.expected(step))

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please type your answer.")

    def validate(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> None:
        """Raise InvalidAnswer when `value` breaks the step's `validation`."""

    def summarize(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
        return str(value)

    def sample(self, step: Mapping[str, Any]) -> Any:
        """A plausible answer, used to try fee rules when a document is checked."""
        return "sample"

    def pending_from(self, answer: Any) -> Any:
        """The in-progress selection to start from when the step is asked again."""
        return None


def _answer_value(step: Mapping[str, Any], inp: Input) -> str | None:
    """The value of an answer postback addressed to this step (`gt|a|<step>|<value>`)."""
    if not isinstance(inp, PostbackInput):
        return None
    parts = parse_postback(inp.data)
    if parts and len(parts) >= 2 and parts[0] == "a" and parts[1] == step["id"]:
        return "|".join(parts[2:])
    return None


def _bound(step: Mapping[str, Any], key: str, ctx: StepContext) -> float | None:
    raw = step.get("validation", {}).get(key)
    if isinstance(raw, dict):
        raw = logic.evaluate(raw, ctx.answers)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return raw


def _number_text(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else str(value)


# --- informational steps ----------------------------------------------------------


class _DisplayStep(StepType):
    role = "message"

    def prompt(self, step: Mapping[str, Any], ctx: StepContext) -> list[Prompt]:
        return [TextPrompt(self.question(step, ctx))]

    def question(self, step: Mapping[str, Any], ctx: StepContext) -> str:
        return ctx.text(step.get("message") or step.get("prompt"))


@register
class MessageStep(_DisplayStep):
    name = "message"


@register
class EndStep(_DisplayStep):
    name = "end"
    role = "end"


@register
class ConfirmStep(StepType):
    """Marks where the summary is shown; the machine builds the ConfirmationPrompt."""

    name = "confirm"
    role = "confirm"

    def question(self, step: Mapping[str, Any], ctx: StepContext) -> str:
        return ctx.text(step.get("prompt"), _("Please check your answers."))


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


# --- typed answers ------------------------------------------------------------------


@register
class TextStep(StepType):
    name = "text"
    validation_fields = frozenset({"pattern", "min_length", "max_length"})
    var_fields = frozenset({"length"})
    my_number_risk = "typed"

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> str:
        value = parsing.normalize(text) if "\n" not in text else text.strip()
        if not value:
            raise InvalidAnswer(_("Please type your answer."))
        return value

    def validate(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> None:
        rules = step.get("validation", {})
        if len(value) < rules.get("min_length", 0):
            count = rules["min_length"]
            raise InvalidAnswer(
                ngettext(
                    "Please enter at least %(count)d character.",
                    "Please enter at least %(count)d characters.",
                    count,
                )
                % {"count": count}
            )
        if "max_length" in rules and len(value) > rules["max_length"]:
            count = rules["max_length"]
            raise InvalidAnswer(
                ngettext(
                    "Please enter at most %(count)d character.",
                    "Please enter at most %(count)d characters.",
                    count,
                )
                % {"count": count}
            )
        if "pattern" in rules and not _fullmatch(rules["pattern"], value):
            raise InvalidAnswer(_("The answer is not in the expected format."))

    def summarize(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
        return str(value)


def _fullmatch(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return False


@register
class NumberStep(StepType):
    """Whole numbers only (counts, copies, ages); amounts of money are int yen too."""

    name = "number"
    validation_fields = frozenset({"min", "max"})
    my_number_risk = "typed"

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please enter a whole number, for example 3.")

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> int:
        value = parsing.parse_integer(text)
        if value is None:
            raise InvalidAnswer(self.expected(step))
        return value

    def validate(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> None:
        low, high = _bound(step, "min", ctx), _bound(step, "max", ctx)
        if low is not None and value < low:
            raise InvalidAnswer(
                _("Please enter a number of at least %(min)s.") % {"min": _number_text(low)}
            )
        if high is not None and value > high:
            raise InvalidAnswer(
                _("Please enter a number of at most %(max)s.") % {"max": _number_text(high)}
            )

    def summarize(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
        return _number_text(value)

    def sample(self, step: Mapping[str, Any]) -> Any:
        low = step.get("validation", {}).get("min")
        return low if isinstance(low, int) and not isinstance(low, bool) else 1


@register
class EmailStep(StepType):
    name = "email"
    validation_fields = frozenset({"pattern"})

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please enter an e-mail address such as taro@example.jp.")

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> str:
        value = parsing.parse_email(text)
        if value is None:
            raise InvalidAnswer(self.expected(step))
        return value

    def validate(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> None:
        pattern = step.get("validation", {}).get("pattern")
        if pattern and not _fullmatch(pattern, value):
            raise InvalidAnswer(_("This e-mail address cannot be used here."))

    def sample(self, step: Mapping[str, Any]) -> Any:
        return "taro@example.jp"


@register
class PhoneStep(StepType):
    name = "phone"

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please enter a phone number with its area code, for example 03-1234-5678.")

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> str:
        value = parsing.parse_phone(text)
        if value is None:
            raise InvalidAnswer(self.expected(step))
        return value

    def summarize(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
        return parsing.format_phone(str(value))

    def sample(self, step: Mapping[str, Any]) -> Any:
        return "0312345678"


@register
class PostalCodeStep(StepType):
    name = "postal_code"

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please enter a 7-digit postal code, for example 150-0002.")

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> str:
        value = parsing.parse_postal_code(text)
        if value is None:
            raise InvalidAnswer(self.expected(step))
        return value

    def summarize(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
        return f"〒{value}"

    def sample(self, step: Mapping[str, Any]) -> Any:
        return "150-0002"


# --- dates and times ------------------------------------------------------------------

_WEEKDAYS_JA = "月火水木金土日"


@register
class DateStep(StepType):
    name = "date"
    validation_fields = frozenset({"min_date", "max_date"})

    def prompt(self, step: Mapping[str, Any], ctx: StepContext) -> list[Prompt]:
        low, high = self._limits(step, ctx)
        return [
            DatePickerPrompt(
                text=self.question(step, ctx),
                mode="date",
                data=postback("a", step["id"]),
                initial=None,
                min=low.isoformat() if low else None,
                max=high.isoformat() if high else None,
                choices=ctx.extra_choices,
            )
        ]

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please enter a date such as 12月1日 or 2026/12/1, or use the calendar.")

    def parse(self, step: Mapping[str, Any], inp: Input, ctx: StepContext) -> Any:
        if isinstance(inp, PostbackInput) and _answer_value(step, inp) is not None:
            raw = inp.params.get("date") or inp.params.get("datetime", "")[:10]
            return self.parse_text(step, raw, ctx)
        return super().parse(step, inp, ctx)

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> str:
        value = parsing.parse_date(text, ctx.today)
        if value is None:
            raise InvalidAnswer(self.expected(step))
        return value.isoformat()

    def validate(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> None:
        chosen = date.fromisoformat(value)
        low, high = self._limits(step, ctx)
        if low and chosen < low:
            raise InvalidAnswer(
                _("Please choose a date on or after %(date)s.")
                % {"date": self.summarize(step, low.isoformat(), ctx)}
            )
        if high and chosen > high:
            raise InvalidAnswer(
                _("Please choose a date on or before %(date)s.")
                % {"date": self.summarize(step, high.isoformat(), ctx)}
            )

    def _limits(self, step: Mapping[str, Any], ctx: StepContext) -> tuple[date | None, ...]:
        rules = step.get("validation", {})
        return tuple(
            ctx.today + timedelta(days=rules[key]) if key in rules else None
            for key in ("min_date", "max_date")
        )

    def summarize(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
        day = date.fromisoformat(value)
        if ctx.lang == PRIMARY_LANGUAGE:
            return f"{day.year}年{day.month}月{day.day}日（{_WEEKDAYS_JA[day.weekday()]}）"
        return day.strftime("%Y-%m-%d (%a)")

    def sample(self, step: Mapping[str, Any]) -> Any:
        return "2026-12-01"


@register
class TimeStep(StepType):
    name = "time"

    def prompt(self, step: Mapping[str, Any], ctx: StepContext) -> list[Prompt]:
        data = postback("a", step["id"])
        return [DatePickerPrompt(self.question(step, ctx), "time", data, choices=ctx.extra_choices)]

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please enter a time such as 14:30, or use the picker.")

    def parse(self, step: Mapping[str, Any], inp: Input, ctx: StepContext) -> Any:
        if isinstance(inp, PostbackInput) and _answer_value(step, inp) is not None:
            raw = inp.params.get("time") or inp.params.get("datetime", "")[11:16]
            return self.parse_text(step, raw, ctx)
        return super().parse(step, inp, ctx)

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> str:
        value = parsing.parse_time(text)
        if value is None:
            raise InvalidAnswer(self.expected(step))
        return value.strftime("%H:%M")

    def sample(self, step: Mapping[str, Any]) -> Any:
        return "10:00"


# --- choices --------------------------------------------------------------------------


def _option_choice(step: Mapping[str, Any], option: Mapping[str, Any], ctx: StepContext, kind: str):
    return Choice(
        ctx.text(option["label"], option["value"]), postback(kind, step["id"], option["value"])
    )


def _match_option(step: Mapping[str, Any], text: str) -> str | None:
    """An option by its label in any language, its value or its number (「1」「１」)."""
    key = parsing.normalize_key(text)
    options = step.get("options", [])
    for option in options:
        labels = [option["value"], *option["label"].values()]
        if key in {parsing.normalize_key(label) for label in labels}:
            return option["value"]
    number = parsing.parse_integer(text) if key.isdigit() else None
    if number is not None and 1 <= number <= len(options):
        return options[number - 1]["value"]
    return None


def _option_label(step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
    for option in step.get("options", []):
        if option["value"] == value:
            return ctx.text(option["label"], str(value))
    return str(value)


@register
class ChoiceStep(StepType):
    name = "choice"
    needs_options = True

    def prompt(self, step: Mapping[str, Any], ctx: StepContext) -> list[Prompt]:
        choices = [_option_choice(step, option, ctx, "a") for option in step["options"]]
        return [TextPrompt(self.question(step, ctx), (*choices, *ctx.extra_choices))]

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please choose one of the options.")

    def parse(self, step: Mapping[str, Any], inp: Input, ctx: StepContext) -> Any:
        value = _answer_value(step, inp)
        if value is not None:
            return value
        return super().parse(step, inp, ctx)

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> str:
        value = _match_option(step, text)
        if value is None:
            raise InvalidAnswer(self.expected(step))
        return value

    def validate(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> None:
        if value not in {option["value"] for option in step["options"]}:
            raise InvalidAnswer(self.expected(step))

    def summarize(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
        return _option_label(step, value, ctx)

    def sample(self, step: Mapping[str, Any]) -> Any:
        return step["options"][0]["value"]


@register
class MultiChoiceStep(StepType):
    """Taps toggle options (kept as a `Partial` selection) until 決定; typing answers at once.

    Typed answers list labels or numbers (「1、3」「ソファ, 机」) and replace the selection.
    `validation.min`/`max` bound the number of options chosen.
    """

    name = "multi_choice"
    needs_options = True
    validation_fields = frozenset({"min", "max"})
    var_fields = frozenset({"length"})

    def prompt(self, step: Mapping[str, Any], ctx: StepContext) -> list[Prompt]:
        selected = list(ctx.pending or [])
        choices = [
            self._toggle(step, option, option["value"] in selected, ctx)
            for option in step["options"]
        ]
        done = Choice(_("Done"), postback("d", step["id"]))
        text = self.question(step, ctx)
        if selected:
            chosen = self.summarize(step, selected, ctx)
            text = f"{text}\n{_('Selected: %(items)s') % {'items': chosen}}"
        return [TextPrompt(text, (*choices, done, *ctx.extra_choices), multi=True)]

    def _toggle(self, step, option, selected: bool, ctx: StepContext) -> Choice:
        choice = _option_choice(step, option, ctx, "t")
        return Choice(f"✓ {choice.label}" if selected else choice.label, choice.data)

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please choose from the options, then tap Done.")

    def parse(self, step: Mapping[str, Any], inp: Input, ctx: StepContext) -> Any:
        parts = parse_postback(inp.data) if isinstance(inp, PostbackInput) else None
        if parts and len(parts) >= 2 and parts[1] == step["id"]:
            return self._tap(step, parts, ctx)
        return super().parse(step, inp, ctx)

    def _tap(self, step: Mapping[str, Any], parts: list[str], ctx: StepContext) -> Any:
        selected = list(ctx.pending or [])
        if parts[0] == "d":
            return self._ordered(step, selected)
        value = "|".join(parts[2:])
        if parts[0] != "t" or value not in {option["value"] for option in step["options"]}:
            raise InvalidAnswer(self.expected(step))
        toggled = [v for v in selected if v != value] if value in selected else [*selected, value]
        return Partial(self._ordered(step, toggled))

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> list[str]:
        values = [_match_option(step, item) for item in parsing.split_list(text)]
        whole = _match_option(step, text)  # a label that itself contains a separator
        if whole is not None:
            values = [whole]
        if not values or None in values:
            raise InvalidAnswer(self.expected(step))
        return self._ordered(step, values)

    def pending_from(self, answer: Any) -> Any:
        return list(answer) if isinstance(answer, list) else None

    def _ordered(self, step: Mapping[str, Any], values: list[Any]) -> list[str]:
        return [option["value"] for option in step["options"] if option["value"] in values]

    def validate(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> None:
        known = {option["value"] for option in step["options"]}
        if not isinstance(value, list) or not set(value) <= known:
            raise InvalidAnswer(self.expected(step))
        low, high = _bound(step, "min", ctx), _bound(step, "max", ctx)
        if step.get("required", True) and low is None:
            low = 1
        if low is not None and len(value) < low:
            count = int(low)
            message = ngettext(
                "Please choose at least %(count)d option.",
                "Please choose at least %(count)d options.",
                count,
            )
            raise InvalidAnswer(message % {"count": count})
        if high is not None and len(value) > high:
            count = int(high)
            message = ngettext(
                "Please choose at most %(count)d option.",
                "Please choose at most %(count)d options.",
                count,
            )
            raise InvalidAnswer(message % {"count": count})

    def summarize(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
        separator = "、" if ctx.lang == PRIMARY_LANGUAGE else ", "
        return separator.join(_option_label(step, item, ctx) for item in value) or "-"

    def sample(self, step: Mapping[str, Any]) -> Any:
        return [option["value"] for option in step["options"]]


class _BooleanStep(StepType):
    """Two buttons; stored as True / False."""

    def labels(self) -> tuple[str, str]:
        raise NotImplementedError

    def prompt(self, step: Mapping[str, Any], ctx: StepContext) -> list[Prompt]:
        yes, no = self.labels()
        choices = (
            Choice(yes, postback("a", step["id"], "yes")),
            Choice(no, postback("a", step["id"], "no")),
        )
        return [TextPrompt(self.question(step, ctx), (*choices, *ctx.extra_choices))]

    def parse(self, step: Mapping[str, Any], inp: Input, ctx: StepContext) -> Any:
        value = _answer_value(step, inp)
        if value in {"yes", "no"}:
            return value == "yes"
        return super().parse(step, inp, ctx)

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> bool:
        yes, no = (parsing.normalize_key(label) for label in self.labels())
        key = parsing.normalize_key(text)
        value = {yes: True, no: False}.get(key, parsing.parse_yes_no(text))
        if value is None:
            raise InvalidAnswer(self.expected(step))
        return value

    def summarize(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
        yes, no = self.labels()
        return yes if value else no

    def sample(self, step: Mapping[str, Any]) -> Any:
        return True


@register
class YesNoStep(_BooleanStep):
    name = "yes_no"

    def labels(self) -> tuple[str, str]:
        return _("Yes"), _("No")

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please answer yes or no.")


@register
class ConsentStep(_BooleanStep):
    """Agreement to terms; a required consent cannot be declined (the resident may cancel)."""

    name = "consent"

    def labels(self) -> tuple[str, str]:
        return _("I agree"), _("I do not agree")

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> bool:
        if parsing.normalize_key(text) in {"同意する", "同意します", "agree"}:
            return True
        if parsing.normalize_key(text) in {"同意しない", "同意しません", "disagree"}:
            return False
        return super().parse_text(step, text, ctx)

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please tell us whether you agree.")

    def validate(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> None:
        if value is False and step.get("required", True):
            raise InvalidAnswer(
                _("You need to agree to continue. If you do not agree, you can cancel.")
            )


# --- media ---------------------------------------------------------------------------


@register
class ImageStep(StepType):
    name = "image"
    var_fields = frozenset({"ref", "content_type"})
    my_number_risk = "photo"

    def prompt(self, step: Mapping[str, Any], ctx: StepContext) -> list[Prompt]:
        return [ImageRequestPrompt(self.question(step, ctx), ctx.extra_choices)]

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please send a photo.")

    def parse(self, step: Mapping[str, Any], inp: Input, ctx: StepContext) -> Any:
        if isinstance(inp, ImageInput) and inp.ref:
            return {"ref": inp.ref, "content_type": inp.content_type}
        raise InvalidAnswer(self.expected(step))

    def summarize(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
        return _("Photo received")

    def sample(self, step: Mapping[str, Any]) -> Any:
        return {"ref": "sample", "content_type": "image/jpeg"}


@register
class LocationStep(StepType):
    """A shared location, or a typed address (coordinates then null)."""

    name = "location"
    var_fields = frozenset({"latitude", "longitude", "address", "title"})

    def prompt(self, step: Mapping[str, Any], ctx: StepContext) -> list[Prompt]:
        return [LocationRequestPrompt(self.question(step, ctx), ctx.extra_choices)]

    def expected(self, step: Mapping[str, Any]) -> str:
        return _("Please send your location, or type the address.")

    def parse(self, step: Mapping[str, Any], inp: Input, ctx: StepContext) -> Any:
        if isinstance(inp, LocationInput) and _valid_coordinates(inp):
            return {
                "latitude": float(inp.latitude),
                "longitude": float(inp.longitude),
                "address": inp.address,
                "title": inp.title,
            }
        return super().parse(step, inp, ctx)

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> Any:
        address = parsing.normalize(text)
        if not address or len(address) > 200:
            raise InvalidAnswer(self.expected(step))
        return {"latitude": None, "longitude": None, "address": address, "title": ""}

    def summarize(self, step: Mapping[str, Any], value: Any, ctx: StepContext) -> str:
        if value.get("address"):
            return str(value["address"])
        return f"{value['latitude']:.6f}, {value['longitude']:.6f}"

    def sample(self, step: Mapping[str, Any]) -> Any:
        return {"latitude": 35.6, "longitude": 139.7, "address": "", "title": ""}


def _valid_coordinates(inp: LocationInput) -> bool:
    try:
        return -90 <= float(inp.latitude) <= 90 and -180 <= float(inp.longitude) <= 180
    except (TypeError, ValueError):
        return False
