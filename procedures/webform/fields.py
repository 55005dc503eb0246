"""How each step type appears on a web page and how its posted form becomes engine inputs.

One registered ``WebField`` per step type, as the engine registers step types: a template
(under ``templates/webform/fields/``) and a reader. A reader turns the posted form into
the inputs a LINE resident would send for the same answer (a tapped button's postback,
a typed text, a photo, a location), so the engine parses and validates the answer exactly
as in the chat; or it returns a message of its own when the web input cannot even be
made into one (a file that is not a photo). A blank optional field is the skip button.
An unknown step type falls back to a text field.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from procedures import engine
from procedures.engine.steps import parse_postback, postback
from procedures.images import MAX_BYTES, ImageRejected, clean_image
from procedures.residents.models import Resident
from procedures.services import resident_upload_store

UPLOAD_NAMESPACE = uuid.UUID("5b0f0b52-8d0a-4f43-9a43-0d5c1b3e7a11")


@dataclass(frozen=True)
class Posted:
    """One posted answer page and who sent it."""

    request: HttpRequest
    step: Mapping[str, Any]
    state: engine.ConversationState
    resident: Resident

    def value(self, name: str = "answer") -> str:
        return str(self.request.POST.get(name, "")).strip()

    @property
    def required(self) -> bool:
        return bool(self.step.get("required", True))

    def skip(self) -> list[engine.Input]:
        return [engine.PostbackInput(postback("s", self.step["id"]))]


Reader = Callable[[Posted], "list[engine.Input] | str"]


@dataclass(frozen=True)
class WebField:
    template: str
    read: Reader
    input_type: str = "text"  # the <input type> of a typed field
    autocomplete: str = ""
    inputmode: str = ""
    multipart: bool = False


_FIELDS: dict[str, WebField] = {}


def web_field_register(step_type: str, field: WebField) -> None:
    _FIELDS[step_type] = field


def web_field(step_type: str) -> WebField:
    return _FIELDS.get(step_type, _FIELDS["text"])


# --- readers ------------------------------------------------------------------------------


def read_typed(posted: Posted) -> list[engine.Input] | str:
    """Typed text, as typed in the chat (blank: skipped when optional, else the engine
    says what is missing)."""
    text = posted.value()
    if not text and not posted.required:
        return posted.skip()
    return [engine.TextInput(text)]


def read_choice(posted: Posted) -> list[engine.Input] | str:
    """The postback of the chosen button (the radio's value is the button's data)."""
    data = posted.value()
    if not data:
        return posted.skip() if not posted.required else [engine.TextInput("")]
    return [engine.PostbackInput(data)]


def read_multi_choice(posted: Posted) -> list[engine.Input] | str:
    """The ticks that differ from the selection kept so far, then 決定: what tapping the
    buttons in the chat sends."""
    step_id = posted.step["id"]
    wanted = set()
    for data in posted.request.POST.getlist("answer"):
        parts = parse_postback(data) or []
        if len(parts) >= 3 and parts[:2] == ["t", step_id]:
            wanted.add("|".join(parts[2:]))
    if not wanted and not posted.required:
        return posted.skip()
    kept = set(posted.state.pending or [])
    toggles = [
        engine.PostbackInput(postback("t", step_id, value)) for value in sorted(wanted ^ kept)
    ]
    return [*toggles, engine.PostbackInput(postback("d", step_id))]


def read_image(posted: Posted) -> list[engine.Input] | str:
    """A new photo, checked and cleaned as LINE photos are; else the photo already given."""
    upload = posted.request.FILES.get("answer")
    if upload is None:
        kept = posted.state.answers.get(posted.step["id"])
        if isinstance(kept, dict) and kept.get("ref"):
            return [engine.ImageInput(ref=kept["ref"], content_type=kept.get("content_type", ""))]
        return posted.skip() if not posted.required else [engine.TextInput("")]
    try:
        clean = clean_image(_read_upload(upload))
    except ImageRejected as refused:
        return str(refused)
    upload_id = uuid.uuid5(
        UPLOAD_NAMESPACE, f"{posted.resident.pk}:{hashlib.sha256(clean.content).hexdigest()}"
    )
    resident_upload_store(
        upload_id=upload_id,
        municipality=posted.resident.municipality,
        resident=posted.resident,
        content=clean.content,
        content_type=clean.content_type,
        width=clean.width,
        height=clean.height,
        extension=clean.extension,
    )
    return [engine.ImageInput(ref=str(upload_id), content_type=clean.content_type)]


def _read_upload(upload) -> bytes:
    """At most one byte past the limit: clean_image refuses anything larger anyway."""
    return upload.read(MAX_BYTES + 1)


def read_location(posted: Posted) -> list[engine.Input] | str:
    """A map pin (only with JavaScript) with the address typed beside it, or the address."""
    address = posted.value("address")
    latitude, longitude = posted.value("latitude"), posted.value("longitude")
    if latitude and longitude:
        try:
            pin = float(latitude), float(longitude)
        except ValueError:
            pin = None
        if pin is not None:
            return [engine.LocationInput(latitude=pin[0], longitude=pin[1], address=address)]
    if not address and not posted.required:
        return posted.skip()
    return [engine.TextInput(address)]


web_field_register("text", WebField("webform/fields/text.html", read_typed))
web_field_register("number", WebField("webform/fields/text.html", read_typed, inputmode="numeric"))
web_field_register(
    "email",
    WebField("webform/fields/text.html", read_typed, input_type="email", autocomplete="email"),
)
web_field_register(
    "phone", WebField("webform/fields/text.html", read_typed, input_type="tel", autocomplete="tel")
)
web_field_register(
    "postal_code",
    WebField(
        "webform/fields/text.html", read_typed, autocomplete="postal-code", inputmode="numeric"
    ),
)
web_field_register("date", WebField("webform/fields/text.html", read_typed, input_type="date"))
web_field_register("time", WebField("webform/fields/text.html", read_typed, input_type="time"))
for _name in ("choice", "yes_no", "consent", "reservation"):
    web_field_register(_name, WebField("webform/fields/radios.html", read_choice))
web_field_register("multi_choice", WebField("webform/fields/checkboxes.html", read_multi_choice))
web_field_register("image", WebField("webform/fields/image.html", read_image, multipart=True))
web_field_register("location", WebField("webform/fields/location.html", read_location))
