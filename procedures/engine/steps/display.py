"""Steps that show something rather than ask: messages, the end, the confirmation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from procedures.engine.prompts import Prompt, TextPrompt
from procedures.engine.steps.base import StepContext, StepType, register


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
