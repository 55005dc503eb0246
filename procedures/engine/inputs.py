"""What a resident can send to a conversation, independent of LINE.

The transport (delivery) turns each webhook event into one of these and hands it to
`machine.advance`. `to_dict`/`input_from_dict` let tests, the simulator and queued
tasks carry inputs as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class TextInput:
    text: str

    kind = "text"


@dataclass(frozen=True)
class PostbackInput:
    """A tapped choice; `data` is a `Choice.data` sent back unchanged.

    `params` carries what LINE's datetimepicker adds: `date`, `time` or `datetime`.
    """

    data: str
    params: dict[str, str] = field(default_factory=dict)

    kind = "postback"


@dataclass(frozen=True)
class LocationInput:
    latitude: float
    longitude: float
    address: str = ""
    title: str = ""

    kind = "location"


@dataclass(frozen=True)
class ImageInput:
    """A photo already stored by the transport; `ref` is an opaque stored-file reference."""

    ref: str
    content_type: str = "image/jpeg"

    kind = "image"


@dataclass(frozen=True)
class FollowInput:
    """The resident added (or unblocked) the official account."""

    kind = "follow"


Input = TextInput | PostbackInput | LocationInput | ImageInput | FollowInput

_INPUT_CLASSES: dict[str, type[Input]] = {
    cls.kind: cls for cls in (TextInput, PostbackInput, LocationInput, ImageInput, FollowInput)
}


def input_to_dict(inp: Input) -> dict[str, Any]:
    return {"kind": inp.kind, **asdict(inp)}


def input_from_dict(data: dict[str, Any]) -> Input:
    """Rebuild an input from `input_to_dict`; raises ValueError on an unknown kind."""
    fields = dict(data)
    cls = _INPUT_CLASSES.get(str(fields.pop("kind", "")))
    if cls is None:
        raise ValueError(f"unknown input kind: {data.get('kind')!r}")
    return cls(**fields)
