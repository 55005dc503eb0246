"""Choice-like steps: one option, several options, yes/no and consent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from procedures.engine import parsing
from procedures.engine.inputs import Input, PostbackInput
from procedures.engine.prompts import Choice, Prompt, TextPrompt
from procedures.engine.steps.base import (
    PRIMARY_LANGUAGE,
    InvalidAnswer,
    Partial,
    StepContext,
    StepType,
    _answer_value,
    _bound,
    parse_postback,
    postback,
    register,
)


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
