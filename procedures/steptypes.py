"""What a step type and a procedure kind need beyond the pure engine, in one registry each.

The engine (``procedures.engine.steps``) knows how a step type asks, parses, validates and
summarizes: it never sees the database. What a step type needs from the municipality is
a **binding**, registered here under the step type's name by the package that owns it
(``procedures.reservations`` for ``reservation``, in ``ProceduresConfig.ready``), as Open
Forms registers its plugins:

- ``availability``: what the engine is given at runtime (``StepContext.availability``);
- ``problems``: how a step is checked against the municipality at publish, import and Try
  it (an unknown or inactive resource);
- ``builder_choices``: what the builder offers for the bound field (the resources);
- ``hold`` / ``attach``: what happens at submit, in the submission's savepoint (a booking
  is taken before the submission is stored, then pinned to it). ``hold`` raises
  SubmitRefused to send the resident back to the step instead of storing anything.

What happens after a submission of a procedure ``kind`` is stored is a **submit effect**
(the ``profile`` kind writes the resident's attributes; delivery registers it). Effects
run in the submission's transaction, so they write rows only: no network.

What a kind's steps may be bound to in the municipality is a **kind binding** (the
``profile`` kind: its steps are bound to the resident attribute fields, which delivery
owns): what the builder offers to bind a step to, and the warnings publishing shows when
a bound step no longer matches what it is bound to.

Nothing in runtime, format or the builder names a step type or a kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from procedures import engine
from procedures.format import FormatError, procedure_kind_register

if TYPE_CHECKING:
    from django.http import HttpRequest

    from govtech.models import Municipality
    from procedures.models import Conversation, Submission


class SubmitRefused(Exception):
    """A step's hold could not be taken (the slot filled meanwhile): nothing is stored and
    the resident is asked ``step_id`` again.

    ``reason`` is already translated; ``pending`` is where the step resumes; ``choices`` go
    first on the re-asked question, replacing the ones whose postback data is in
    ``replaces``.
    """

    def __init__(
        self,
        reason: str,
        *,
        step_id: str,
        pending: Any = None,
        choices: tuple[engine.Choice, ...] = (),
        replaces: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(reason)
        self.reason, self.step_id, self.pending = reason, step_id, pending
        self.choices, self.replaces = choices, replaces


class StepBinding:
    """The database side of one step type. Every hook has a harmless default."""

    step_type: ClassVar[str] = ""

    def availability(self, *, steps: list[Mapping[str, Any]], now: datetime) -> dict[str, Any]:
        """What the engine needs to ask ``steps`` (all of this type), merged into
        ``StepContext.availability``. Runs in the municipality's tenant scope."""
        return {}

    def problems(self, *, document: Any, municipality: Municipality) -> list[FormatError]:
        """Steps of this type that ``municipality`` cannot run (``document`` may be malformed:
        skip what is not shaped right, the format reports it)."""
        return []

    def builder_choices(self, *, request: HttpRequest, municipality: Municipality) -> dict | None:
        """What the builder offers for the bound field: ``{"field", "choices": [{"key",
        "name", "active"}], "url"}``, or None when the step binds nothing."""
        return None

    def hold(
        self,
        *,
        conversation: Conversation,
        step: Mapping[str, Any],
        answer: Any,
        lang: str,
        now: datetime,
    ) -> Any:
        """Take what the answer asks for before the submission is stored (same savepoint).
        Returns what ``attach`` needs, or None. Raises SubmitRefused."""
        return None

    def attach(self, *, held: Any, submission: Submission) -> None:
        """Pin what ``hold`` took to the stored submission."""


class KindBinding:
    """What the steps of one procedure ``kind`` may be bound to in a municipality."""

    kind: ClassVar[str] = ""

    def problems(self, *, document: Any, municipality: Municipality) -> list[FormatError]:
        """Warnings (or errors) about the document's steps against what they bind."""
        return []

    def builder_choices(self, *, request: HttpRequest, municipality: Municipality) -> dict:
        """What the builder offers: ``{"fields": [{"key", "label", "type", "options"}],
        "url", "strings"}`` (a step is bound to a field by taking its key as its id)."""
        return {}


_bindings: dict[str, StepBinding] = {}
_kind_bindings: dict[str, KindBinding] = {}

SubmitEffect = Callable[["Submission"], None]
_effects: dict[str, list[SubmitEffect]] = {}


def step_binding_register(binding: StepBinding) -> None:
    """Make ``binding`` the database side of ``binding.step_type`` (one per type)."""
    engine.step_type(binding.step_type)  # KeyError: bind only a type the engine knows
    _bindings[binding.step_type] = binding


def step_binding_unregister(name: str) -> None:
    _bindings.pop(name, None)


def step_bindings() -> list[StepBinding]:
    return list(_bindings.values())


def kind_binding_register(binding: KindBinding) -> None:
    """Make ``binding`` what the steps of ``binding.kind`` procedures may be bound to."""
    _kind_bindings[binding.kind] = binding


def kind_binding_unregister(kind: str) -> None:
    _kind_bindings.pop(kind, None)


def submit_effect_register(kind: str, effect: SubmitEffect) -> None:
    """Run ``effect(submission)`` after every submission of a procedure of ``kind`` is
    stored, in its transaction. Registering an effect makes ``kind`` a valid kind."""
    procedure_kind_register(kind)
    if effect not in _effects.setdefault(kind, []):
        _effects[kind].append(effect)


def submit_effect_unregister(kind: str, effect: SubmitEffect) -> None:
    if effect in _effects.get(kind, []):
        _effects[kind].remove(effect)


# --- what runtime, selectors and the builder call ------------------------------------------


@dataclass(frozen=True)
class BoundStep:
    step: Mapping[str, Any]
    binding: StepBinding


def bound_steps(definition: Mapping[str, Any]) -> list[BoundStep]:
    """The definition's steps whose type has a binding, in document order."""
    steps = definition.get("steps")
    found = []
    for step in steps if isinstance(steps, list) else []:
        binding = _bindings.get(step.get("type", "")) if isinstance(step, dict) else None
        if binding is not None:
            found.append(BoundStep(step, binding))
    return found


def availability_for(steps: Iterable[Mapping[str, Any]], *, now: datetime) -> dict[str, Any]:
    """What the engine needs to ask ``steps`` (nothing to load for unbound types)."""
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for step in steps:
        if isinstance(step, dict) and step.get("type") in _bindings:
            by_type.setdefault(step["type"], []).append(step)
    found: dict[str, Any] = {}
    for name, typed in by_type.items():
        found.update(_bindings[name].availability(steps=typed, now=now))
    return found


def binding_problems(*, document: Any, municipality: Municipality) -> list[FormatError]:
    """Every bound step ``municipality`` cannot run, by every binding."""
    found = [
        problem
        for binding in _bindings.values()
        for problem in binding.problems(document=document, municipality=municipality)
    ]
    kind = document.get("kind") if isinstance(document, dict) else None
    by_kind = _kind_bindings.get(kind) if isinstance(kind, str) else None
    if by_kind is not None:
        found += by_kind.problems(document=document, municipality=municipality)
    return found


def builder_bindings(*, request: HttpRequest, municipality: Municipality) -> dict[str, dict]:
    """What the builder offers per bound step type (see ``StepBinding.builder_choices``)."""
    found = {}
    for name, binding in _bindings.items():
        choices = binding.builder_choices(request=request, municipality=municipality)
        if choices is not None:
            found[name] = choices
    return found


def builder_kind_bindings(*, request: HttpRequest, municipality: Municipality) -> dict[str, dict]:
    """What the builder offers per procedure kind (see ``KindBinding.builder_choices``)."""
    return {
        kind: binding.builder_choices(request=request, municipality=municipality)
        for kind, binding in _kind_bindings.items()
    }


def submit_effects_run(submission: Submission) -> None:
    """Run the effects of the submission's procedure kind (inside its transaction)."""
    for effect in _effects.get(str(submission.definition.get("kind", "")), []):
        effect(submission)
