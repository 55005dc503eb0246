"""What the builder needs from a channel app, registered by it (delivery, in ready()).

procedures never imports delivery: the builder's LINE preview, its Try it (simulator) and
「LINEで試す」 (the designer's own LINE account) reach LINE through these slots, which
delivery fills when the app registry is ready.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from govtech.models import Municipality, User
from procedures import engine
from procedures.residents.models import Resident

PreviewRenderer = Callable[[Iterable[engine.Prompt], str], list[dict]]


@dataclass(frozen=True)
class TrialResident:
    """The staff member's test resident and where its chat can be opened."""

    resident: Resident
    channel_id: str
    user_id: str


class TrialResidentProvider(Protocol):
    def trial_resident(self, *, actor: User, municipality: Municipality) -> TrialResident:
        """The actor's test resident, ready to receive (raises ServiceError if none can be)."""


class TesterAccounts(Protocol):
    """The staff member's own accounts registered as testers on a real channel (their
    LINE account): where 「LINEで試す」 sends a draft, with or without the simulator."""

    def tester_residents(self, *, actor: User, municipality: Municipality) -> list[TrialResident]:
        """The actor's tester residents in ``municipality`` that can be reached now."""

    def registration_url(self) -> str:
        """The console page where a staff member registers their account as a tester."""


_slots: dict[str, object] = {}


def preview_renderer_register(renderer: PreviewRenderer) -> None:
    """``renderer(prompts, lang)`` returns the channel's message objects (JSON-ready)."""
    _slots["preview"] = renderer


def preview_renderer() -> PreviewRenderer | None:
    return _slots.get("preview")  # type: ignore[return-value]


def trial_resident_provider_register(provider: TrialResidentProvider) -> None:
    _slots["trial"] = provider


def trial_resident_provider() -> TrialResidentProvider | None:
    return _slots.get("trial")  # type: ignore[return-value]


def tester_accounts_register(provider: TesterAccounts) -> None:
    _slots["testers"] = provider


def tester_accounts() -> TesterAccounts | None:
    return _slots.get("testers")  # type: ignore[return-value]
