"""Things the resident sends from the phone: a photo, a location (or a typed address)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from procedures.engine import parsing
from procedures.engine.inputs import ImageInput, Input, LocationInput
from procedures.engine.prompts import ImageRequestPrompt, LocationRequestPrompt, Prompt
from procedures.engine.steps.base import InvalidAnswer, StepContext, StepType, register


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
