"""Writes of the builder: a procedure from scratch, and trying a draft in the simulator.

Saving, publishing and rolling back are procedures.services (version check, audit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from govtech.models import Department, Municipality, User
from govtech.services import ServiceError
from procedures.builder.selectors import simulator_channel_for, trial_line_user_id
from procedures.models import Procedure
from procedures.runtime import draft_test_start
from procedures.services import DocumentRejected, procedure_create, publishable_errors


def blank_document(*, key: str, title: str) -> dict[str, Any]:
    """A new procedure: a title and the confirmation step that every application ends with."""
    return {
        "format": "govtech.procedure.v1",
        "key": key,
        "kind": "application",
        "title": {"ja": title},
        "languages": ["ja"],
        "triggers": {"keywords": [title]},
        "steps": [{"id": "confirm", "type": "confirm"}],
        "completion": {"ja": _("Received. Your reference number is {reference}.")},
    }


def builder_procedure_create(
    *,
    actor: User,
    municipality: Municipality,
    key: str,
    title: str,
    department: Department | None = None,
) -> Procedure:
    """Start a procedure from scratch (an unpublished draft). Audited by procedure_create.

    Raises ServiceError when the key is taken.
    """
    return procedure_create(
        actor=actor,
        municipality=municipality,
        document=blank_document(key=key, title=title),
        department=department,
    )


@dataclass(frozen=True)
class DraftTrial:
    """Where the designer's test conversation runs: open the simulator chat on it."""

    channel_id: str
    user_id: str


def builder_draft_try(*, actor: User, procedure: Procedure) -> DraftTrial:
    """Run the draft for the designer's own test resident in the LINE simulator.

    Creates (once) the designer's simulator account, makes it a friend of the
    municipality's simulator channel and a test ``Friend`` of the product, starts a test
    conversation on the current draft (procedures.runtime.draft_test_start: marked
    ``is_test``, audited) and pushes its first prompts. The resident's later answers
    reach that conversation through the real webhook. Raises ServiceError when no
    simulator channel is bound, DocumentRejected when the draft is not valid yet (as for
    publishing: a reservation step must book an active resource of the municipality).
    """
    from delivery.services import friend_test_ensure, prompts_push
    from delivery.simulator import selectors as simulator
    from delivery.simulator.services import simulator_friendship_set, simulator_user_get_or_create

    errors = publishable_errors(procedure.draft, municipality=procedure.municipality)
    if errors:  # before anything is created: the designer fixes the draft first
        raise DocumentRejected(errors)
    channel = simulator_channel_for(municipality=procedure.municipality)
    if channel is None:
        raise ServiceError(_("No LINE simulator channel is connected to this municipality."))
    user_id = trial_line_user_id(user=actor)
    name = _("Test resident (%(staff)s)") % {"staff": actor.get_full_name() or actor.email}
    sim_user = simulator_user_get_or_create(user_id=user_id, display_name=name[:100])
    sim_channel = simulator.channel_by_id(channel_id=channel.channel_id)
    if sim_channel is None:  # only if it was deleted since simulator_channel_for found it
        raise ServiceError(_("No LINE simulator channel is connected to this municipality."))
    simulator_friendship_set(channel=sim_channel, user=sim_user, status="friend")
    friend = friend_test_ensure(channel=channel, line_user_id=user_id, display_name=name[:100])
    reply = draft_test_start(
        actor=actor,
        procedure=procedure,
        resident=friend.resident_key,
        lang=friend.conversation_language,
    )
    prompts_push(friend=friend, prompts=reply.prompts)
    return DraftTrial(channel_id=channel.channel_id, user_id=user_id)
