"""The core of the step types: the `StepType` interface, its registry, and what every
step type shares (the context it is given, postback data, translated texts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from procedures import logic
from procedures.engine.inputs import Input, PostbackInput, TextInput
from procedures.engine.prompts import Choice, Prompt, TextPrompt

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
    # What bound step types need from the municipality, supplied by the runtime through
    # their bindings (procedures.steptypes); e.g. reservation steps: resource key ->
    # {"name", "max_party", "unit", "days": [{"date", "slots": [...]}]}.
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
    # Fields of the step this type adds to the format (JSON Schema by name), and those it
    # requires: `procedures.format.schema()` accepts them for a type registered in code.
    schema_fields: ClassVar[Mapping[str, Any]] = {}
    required_fields: ClassVar[tuple[str, ...]] = ()

    def missing_field_message(self, field: str) -> str | None:
        """What to tell the designer when a required `field` is missing (None: generic)."""
        return None

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
