"""Answers the resident types: text, whole numbers, e-mail, phone, postal code."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from procedures.engine import parsing
from procedures.engine.steps.base import InvalidAnswer, StepContext, StepType, _bound, register


@register
class TextStep(StepType):
    name = "text"
    validation_fields = frozenset({"pattern", "min_length", "max_length", "script"})
    var_fields = frozenset({"length"})
    my_number_risk = "typed"

    def parse_text(self, step: Mapping[str, Any], text: str, ctx: StepContext) -> str:
        value = parsing.normalize(text) if "\n" not in text else text.strip()
        if not value:
            raise InvalidAnswer(_("Please type your answer."))
        script = step.get("validation", {}).get("script")
        if script:
            return self._in_script(script, value)
        return value

    def _in_script(self, script: str, value: str) -> str:
        written = parsing.to_script(value, script)
        if written is None:
            raise InvalidAnswer(SCRIPT_EXPECTED[script]())
        return written

    def sample(self, step: Mapping[str, Any]) -> Any:
        script = step.get("validation", {}).get("script")
        return SCRIPT_SAMPLES.get(script) or super().sample(step)

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


SCRIPT_EXPECTED = {
    "katakana": lambda: _("Please enter this in katakana, for example ヤマダ タロウ."),
    "hiragana": lambda: _("Please enter this in hiragana, for example やまだ たろう."),
}
SCRIPT_SAMPLES = {"katakana": "ヤマダ タロウ", "hiragana": "やまだ たろう"}


def _number_text(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else str(value)


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
