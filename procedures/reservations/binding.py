"""The reservation step's database side: its binding in ``procedures.steptypes``.

A ``reservation`` step names a resource by ``resource`` key. Resources are environment-
specific, so only here does the key mean something: the engine is given the slots of
the bound resources (``availability``), publishing and import refuse a key that names
none of the municipality's active resources (``problems``), the builder offers them
(``builder_choices``), and at submit the place is taken under the capacity lock before
the submission is stored (``hold``), then pinned to it (``attach``). A designer's test
run never takes real places.

Registered by ``ProceduresConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from govtech.access import staff_context
from govtech.models import Municipality
from procedures.engine.steps import ReservationStep
from procedures.format import FormatError
from procedures.languages import resident_override
from procedures.models import Conversation, Submission
from procedures.reservations import chat
from procedures.reservations.models import Booking
from procedures.reservations.selectors import KnownResource, engine_availability, known_resources
from procedures.reservations.services import (
    BookingRefused,
    BookingRequest,
    SlotFull,
    booking_attach_submission,
    booking_create,
)
from procedures.reservations.views import MANAGE_ROLES
from procedures.steptypes import StepBinding, SubmitRefused


def resource_problems(doc: Any, resources: Mapping[str, KnownResource]) -> list[FormatError]:
    """Reservation steps whose `resource` is not an active resource in `resources`.

    A template made in another municipality keeps its publisher's keys, which mean
    nothing here (or, worse, another facility): residents would get a step with no
    slots. Another municipality's resource never counts: `resources` are the ones of
    the municipality the document is checked for. Steps without a key are left to the
    schema ("resource" is required).
    """
    problems = []
    steps = doc.get("steps", []) if isinstance(doc, dict) else []
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(step, dict) or step.get("type") != ReservationStep.name:
            continue
        key = step.get("resource")
        if not isinstance(key, str) or not key:
            continue
        message = _resource_message(key, resources.get(key))
        if message:
            code = "unknown_resource" if key not in resources else "inactive_resource"
            step_id = step.get("id") if isinstance(step.get("id"), str) else None
            problems.append(FormatError(f"steps[{index}].resource", step_id, code, message))
    return problems


def _resource_message(key: str, resource: KnownResource | None) -> str | None:
    if resource is None:
        return _(
            'This municipality has no reservation resource "%(key)s". '
            "Choose the facility residents book in this step."
        ) % {"key": key}
    if not resource.active:
        return _(
            'The reservation resource "%(name)s" (%(key)s) is inactive. '
            "Activate it under Reservation resources or choose another facility."
        ) % {"key": key, "name": resource.name}
    return None


class ReservationBinding(StepBinding):
    step_type = ReservationStep.name

    def availability(self, *, steps: list[Mapping[str, Any]], now: datetime) -> dict[str, Any]:
        keys = [step["resource"] for step in steps if isinstance(step.get("resource"), str)]
        return engine_availability(keys=keys, now=now) if keys else {}

    def problems(self, *, document: Any, municipality: Municipality) -> list[FormatError]:
        return resource_problems(document, known_resources(municipality=municipality))

    def builder_choices(self, *, request: HttpRequest, municipality: Municipality) -> dict:
        known = known_resources(municipality=municipality)
        manages = staff_context(request).has_any(MANAGE_ROLES)
        return {
            "field": "resource",
            "choices": [{"key": r.key, "name": r.name, "active": r.active} for r in known.values()],
            "url": reverse("admin:procedures_resource_changelist") if manages else None,
            "strings": _builder_strings(),
        }

    def hold(
        self,
        *,
        conversation: Conversation,
        step: Mapping[str, Any],
        answer: Any,
        lang: str,
        now: datetime,
    ) -> Booking | None:
        """Take the places (capacity checked under the slot's lock); SubmitRefused with the
        nearest free slots and a waitlist button when someone was faster."""
        if not isinstance(answer, dict) or conversation.is_test:
            return None  # a designer's test run never takes real places
        try:
            request = BookingRequest(
                resource=chat.resource_or_refuse(key=step["resource"]),
                starts_at=datetime.fromisoformat(answer["start"]),
                party_size=int(answer.get("party_size", 1)),
                resident=conversation.resident,
            )
            return booking_create(request=request, now=now)
        except BookingRefused as refused:
            with resident_override(lang):
                raise _refusal(step, answer, refused) from refused

    def attach(self, *, held: Any, submission: Submission) -> None:
        if held is not None:
            booking_attach_submission(booking=held, submission=submission)


def _builder_strings() -> dict[str, str]:
    """What the builder's bound-field editor says for a reservation step."""
    return {
        "label": _("Facility to book"),
        "help": _(
            "Residents choose a time slot of this facility, counter or venue "
            "(this municipality's reservation resources)."
        ),
        "choose": _("— Choose a facility —"),
        "none": _(
            "This municipality has no reservation resources yet. Administrators add them "
            "under Reservation resources; reload this page afterwards."
        ),
        "open": _("Open the reservation resources (new tab)"),
        "ask": _("Ask an administrator to add the facility."),
        "unknown": _(
            "“%(key)s” is not a reservation resource of this municipality (a template made "
            "elsewhere keeps its own keys). Choose the facility residents book here."
        ),
        "unknown_option": _("%(key)s (not in this municipality)"),
        "inactive": _(
            "“%(name)s” is inactive, so residents cannot book it. Activate it under "
            "Reservation resources or choose another facility."
        ),
        "inactive_option": _("%(name)s (%(key)s, inactive)"),
    }


def _refusal(step: Mapping[str, Any], answer: dict, refused: BookingRefused) -> SubmitRefused:
    """Back to the slot list of the same day, with the nearest free slots; the full slot's
    waitlist button carries the party size already chosen."""
    alternatives = refused.alternatives if isinstance(refused, SlotFull) else []
    start, party = answer.get("start"), int(answer.get("party_size", 1))
    if not start:
        return SubmitRefused(chat.refusal_text(str(refused), alternatives), step_id=step["id"])
    return SubmitRefused(
        chat.refusal_text(str(refused), alternatives),
        step_id=step["id"],
        pending={"date": start[:10]},
        choices=(chat.waitlist_choice(step["resource"], start, party),),
        replaces=frozenset({ReservationStep.pick_full_slot_data(step["id"], start)}),
    )
