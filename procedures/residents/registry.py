"""What other apps plug into residents, without procedures importing them.

Three kinds of plug-in, each registered by the app that provides it (in its
``AppConfig.ready``), so the dependency points from that app to procedures:

- **notice channels** send a Notice to a resident by one transport (LINE in delivery,
  later the web or e-mail). The first registered channel that reaches the resident sends.
- **resident data contributors** export and erase what their app keeps about a
  resident (delivery: LINE friends, webhook events, sent messages), so that
  ``resident_export`` / ``resident_erase`` cover everything in one call.
- **input answerers** answer a resident's input that no procedure takes (delivery: spot
  search, the FAQ). ``procedures.runtime.HANDLERS`` names each by its place in the order.
"""

from __future__ import annotations

from typing import Any, Protocol

from procedures.residents.models import Notice, Resident


class NoticeSendFailed(Exception):
    """A channel could not send a notice. ``retryable``: a later attempt may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class NoticeChannel(Protocol):
    name: str

    def reaches(self, resident: Resident) -> bool:
        """Whether this channel can send to the resident now (e.g. a following friend)."""

    def send(self, notice: Notice) -> None:
        """Send the notice, idempotently (its ``retry_key``). Raises NoticeSendFailed.
        Called outside any database transaction: it may call the network."""


class InputAnswerer(Protocol):
    name: str

    def answer(
        self, *, municipality: Any, resident: Resident, inp: Any, lang: str, now: Any
    ) -> list | None:
        """Transport-neutral prompts answering ``inp`` (an ``engine.Input``), or None when
        it is not for this answerer. Runs in the input's transaction: no network."""


class ResidentDataContributor(Protocol):
    name: str

    def export(self, resident: Resident) -> Any:
        """What this app keeps about the resident, JSON-safe."""

    def erase(self, resident: Resident) -> int:
        """Delete it (inside the caller's transaction, no network); how many rows."""


_channels: dict[str, NoticeChannel] = {}
_contributors: dict[str, ResidentDataContributor] = {}
_answerers: dict[str, InputAnswerer] = {}


def notice_channel_register(channel: NoticeChannel) -> None:
    _channels[channel.name] = channel


def notice_channels() -> list[NoticeChannel]:
    return list(_channels.values())


def resident_data_contributor_register(contributor: ResidentDataContributor) -> None:
    _contributors[contributor.name] = contributor


def resident_data_contributors() -> list[ResidentDataContributor]:
    return list(_contributors.values())


def input_answerer_register(answerer: InputAnswerer) -> None:
    _answerers[answerer.name] = answerer


def input_answerer(name: str) -> InputAnswerer | None:
    return _answerers.get(name)
