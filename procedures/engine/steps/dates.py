"""Dates and times: the LINE datetimepicker, or typed (「12月1日」, 「14:30」)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext as _

from procedures.engine import parsing
from procedures.engine.inputs import Input, PostbackInput
from procedures.engine.prompts import DatePickerPrompt, Prompt
from procedures.engine.steps.base import (
    PRIMARY_LANGUAGE,
    InvalidAnswer,
    StepContext,
    StepType,
    _answer_value,
    postback,
    register,
)

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
