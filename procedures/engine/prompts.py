"""What the engine asks the transport to show, independent of LINE.

Each prompt is a frozen dataclass with `to_dict()` (JSON-safe, with a `"kind"` key) and
is rebuilt by `prompt_from_dict`. The transport renders them: `TextPrompt` choices as
quick replies (or a Flex list past 13), `DatePickerPrompt` as a datetimepicker action,
`ConfirmationPrompt` as a Flex summary, `CardsPrompt` as a Flex carousel, `ImagePrompt`
as an image message, and so on.
`Choice.data` is opaque: the transport sends it back unchanged as `PostbackInput(data)`;
it is never over 300 bytes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Choice:
    label: str
    data: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Choice:
        return cls(label=data["label"], data=data["data"])


def _as_json(prompt: Any) -> dict[str, Any]:
    return {"kind": prompt.kind, **_lists(asdict(prompt))}


def _lists(value: Any) -> Any:
    """Tuples become lists so that to_dict() equals its own JSON round trip."""
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(item) for item in value]
    return value


def _choices(items: list[dict[str, Any]]) -> tuple[Choice, ...]:
    return tuple(Choice.from_dict(item) for item in items)


@dataclass(frozen=True)
class TextPrompt:
    """A message, optionally with choices; `multi` means taps toggle a selection."""

    text: str
    choices: tuple[Choice, ...] = ()
    multi: bool = False

    kind: ClassVar[str] = "text"

    def to_dict(self) -> dict[str, Any]:
        return _as_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextPrompt:
        return cls(data["text"], _choices(data.get("choices", [])), bool(data.get("multi")))


@dataclass(frozen=True)
class DatePickerPrompt:
    """A datetimepicker; `mode` is "date", "time" or "datetime", bounds in LINE's format."""

    text: str
    mode: str
    data: str
    initial: str | None = None
    min: str | None = None
    max: str | None = None
    choices: tuple[Choice, ...] = ()

    kind: ClassVar[str] = "date_picker"

    def to_dict(self) -> dict[str, Any]:
        return _as_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatePickerPrompt:
        return cls(
            text=data["text"],
            mode=data["mode"],
            data=data["data"],
            initial=data.get("initial"),
            min=data.get("min"),
            max=data.get("max"),
            choices=_choices(data.get("choices", [])),
        )


@dataclass(frozen=True)
class LocationRequestPrompt:
    text: str
    choices: tuple[Choice, ...] = ()

    kind: ClassVar[str] = "location_request"

    def to_dict(self) -> dict[str, Any]:
        return _as_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LocationRequestPrompt:
        return cls(data["text"], _choices(data.get("choices", [])))


@dataclass(frozen=True)
class ImageRequestPrompt:
    text: str
    choices: tuple[Choice, ...] = ()

    kind: ClassVar[str] = "image_request"

    def to_dict(self) -> dict[str, Any]:
        return _as_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageRequestPrompt:
        return cls(data["text"], _choices(data.get("choices", [])))


@dataclass(frozen=True)
class SummaryRow:
    step_id: str
    label: str
    value: str


@dataclass(frozen=True)
class ConfirmationPrompt:
    """The summary before submission, with 送信 (`submit`) and 修正 (`edit`)."""

    title: str
    rows: tuple[SummaryRow, ...]
    submit: Choice
    edit: Choice
    fee: int | None = None
    choices: tuple[Choice, ...] = ()

    kind: ClassVar[str] = "confirmation"

    def to_dict(self) -> dict[str, Any]:
        return _as_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConfirmationPrompt:
        return cls(
            title=data["title"],
            rows=tuple(SummaryRow(**row) for row in data.get("rows", [])),
            submit=Choice.from_dict(data["submit"]),
            edit=Choice.from_dict(data["edit"]),
            fee=data.get("fee"),
            choices=_choices(data.get("choices", [])),
        )


@dataclass(frozen=True)
class EditFieldPrompt:
    """Which answer to change; one choice per field, plus a way back to the summary."""

    text: str
    choices: tuple[Choice, ...]

    kind: ClassVar[str] = "edit_field"

    def to_dict(self) -> dict[str, Any]:
        return _as_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EditFieldPrompt:
        return cls(data["text"], _choices(data.get("choices", [])))


@dataclass(frozen=True)
class CompletionPrompt:
    text: str

    kind: ClassVar[str] = "completion"

    def to_dict(self) -> dict[str, Any]:
        return _as_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompletionPrompt:
        return cls(data["text"])


@dataclass(frozen=True)
class Link:
    """A button that opens an address: a web page, a map, ``tel:`` to call."""

    label: str
    url: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Link:
        return cls(label=data["label"], url=data["url"])


@dataclass(frozen=True)
class Card:
    """One card of a `CardsPrompt`: a title, a few lines of text, buttons (postbacks)
    and links (addresses to open)."""

    title: str
    lines: tuple[str, ...] = ()
    buttons: tuple[Choice, ...] = ()
    links: tuple[Link, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        return cls(
            data["title"],
            tuple(data.get("lines", [])),
            _choices(data.get("buttons", [])),
            tuple(Link.from_dict(link) for link in data.get("links", [])),
        )


@dataclass(frozen=True)
class CardsPrompt:
    """Cards side by side (a Flex carousel in LINE), e.g. a resident's applications.

    `text` says what the cards are; it is what shows where cards cannot (a notification,
    the terminal). `choices` are offered under the cards (quick replies in LINE).
    """

    text: str
    cards: tuple[Card, ...]
    choices: tuple[Choice, ...] = ()

    kind: ClassVar[str] = "cards"

    def to_dict(self) -> dict[str, Any]:
        return _as_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CardsPrompt:
        return cls(
            text=data["text"],
            cards=tuple(Card.from_dict(card) for card in data.get("cards", [])),
            choices=_choices(data.get("choices", [])),
        )


@dataclass(frozen=True)
class ImagePrompt:
    """A picture sent to the resident (e.g. a report's "after" photo). `url` and
    `preview_url` are absolute https addresses the transport's servers can fetch;
    `alt` says what it shows where pictures cannot be shown."""

    url: str
    preview_url: str
    alt: str = ""

    kind: ClassVar[str] = "image"

    def to_dict(self) -> dict[str, Any]:
        return _as_json(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImagePrompt:
        return cls(data["url"], data["preview_url"], data.get("alt", ""))


Prompt = (
    TextPrompt
    | DatePickerPrompt
    | LocationRequestPrompt
    | ImageRequestPrompt
    | ConfirmationPrompt
    | EditFieldPrompt
    | CompletionPrompt
    | CardsPrompt
    | ImagePrompt
)

_PROMPT_CLASSES: dict[str, Any] = {
    cls.kind: cls
    for cls in (
        TextPrompt,
        DatePickerPrompt,
        LocationRequestPrompt,
        ImageRequestPrompt,
        ConfirmationPrompt,
        EditFieldPrompt,
        CompletionPrompt,
        CardsPrompt,
        ImagePrompt,
    )
}


def prompt_from_dict(data: dict[str, Any]) -> Prompt:
    """Rebuild a prompt from its `to_dict()`; raises ValueError on an unknown kind."""
    cls = _PROMPT_CLASSES.get(data.get("kind", ""))
    if cls is None:
        raise ValueError(f"unknown prompt kind: {data.get('kind')!r}")
    return cls.from_dict(data)
