"""Writes of the builder: a procedure from scratch, and trying a draft in the simulator.

Saving, publishing and rolling back are procedures.services (version check, audit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from govtech.models import Department, Municipality, User
from govtech.services import ServiceError
from procedures.builder.registry import TrialResident, tester_accounts, trial_resident_provider
from procedures.builder.translations import with_language, with_translations
from procedures.languages import RESIDENT_LANGUAGES
from procedures.models import Procedure
from procedures.residents.services import resident_notify
from procedures.runtime import (
    draft_test_start,
    draft_trial_open,
    draft_trials_end,
    draft_trials_opened,
)
from procedures.services import (
    DocumentRejected,
    procedure_create,
    procedure_save_draft,
    publishable_errors,
)


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
    """Run the draft for the designer's own test resident (in the LINE simulator).

    The channel app (delivery, through ``procedures.builder.registry``) provides the
    designer's test resident, created once. A test conversation starts on the current
    draft (procedures.runtime.draft_test_start: marked ``is_test``, audited) and its first
    prompts go to the resident through the outbox, sent after commit. The resident's
    later answers reach that conversation through the real webhook. Raises ServiceError
    when no simulator channel is bound, DocumentRejected when the draft is not valid yet
    (as for publishing: a reservation step must book an active resource).
    """
    errors = publishable_errors(procedure.draft, municipality=procedure.municipality)
    if errors:  # before anything is created: the designer fixes the draft first
        raise DocumentRejected(errors)
    provider = trial_resident_provider()
    if provider is None:
        raise ServiceError(_("No LINE simulator channel is connected to this municipality."))
    trial = provider.trial_resident(actor=actor, municipality=procedure.municipality)
    with transaction.atomic():
        reply = draft_test_start(
            actor=actor, procedure=procedure, resident=trial.resident, lang=trial.resident.language
        )
        resident_notify(
            resident=trial.resident,
            prompts=reply.prompts,
            once_key=f"draft-try:{reply.conversation.pk if reply.conversation else 0}",
        )
    return DraftTrial(channel_id=trial.channel_id, user_id=trial.user_id)


class NoTester(ServiceError):
    """The staff member has no LINE account registered as a tester: nothing was sent."""


def _testers(actor: User, procedure: Procedure) -> list[TrialResident]:
    provider = tester_accounts()
    found = (
        provider.tester_residents(actor=actor, municipality=procedure.municipality)
        if provider
        else []
    )
    return [tester for tester in found if tester.resident.is_test]


def builder_draft_try_line(*, actor: User, procedure: Procedure) -> list[TrialResident]:
    """Send the draft to the designer's own LINE account(s) registered as testers.

    For each tester: a draft trial opens (the draft's trigger keywords now start the
    draft for that tester, and only for them) and a test conversation on the current
    draft starts, its first prompts written to the outbox (pushed after commit). Works
    without the simulator. Raises DocumentRejected for an invalid draft and NoTester
    (nothing sent) when the designer has no tester account. Audited (draft_test_start).
    """
    errors = publishable_errors(procedure.draft, municipality=procedure.municipality)
    if errors:
        raise DocumentRejected(errors)
    testers = _testers(actor, procedure)
    if not testers:
        raise NoTester(
            _("Your own LINE account is not registered as a tester yet: nothing was sent.")
        )
    with transaction.atomic():
        for tester in testers:
            draft_trial_open(actor=actor, procedure=procedure, resident=tester.resident)
            reply = draft_test_start(
                actor=actor,
                procedure=procedure,
                resident=tester.resident,
                lang=tester.resident.language,
            )
            resident_notify(
                resident=tester.resident,
                prompts=reply.prompts,
                once_key=f"draft-try:{reply.conversation.pk if reply.conversation else 0}",
            )
    return testers


def builder_draft_trials_open(*, actor: User, procedure: Procedure) -> bool:
    """Whether the designer is trying this draft in LINE now (a tester's trial is open)."""
    residents = [tester.resident for tester in _testers(actor, procedure)]
    return draft_trials_opened(procedure=procedure, residents=residents)


def builder_draft_trial_end(*, actor: User, procedure: Procedure) -> int:
    """Stop trying the draft on the designer's tester accounts: their keywords start the
    published version again, an unfinished test conversation is cancelled. Returns how
    many trials ended."""
    residents = [tester.resident for tester in _testers(actor, procedure)]
    return draft_trials_end(actor=actor, procedure=procedure, residents=residents)


def procedure_translations_save(
    *,
    actor: User | None,
    procedure: Procedure,
    lang: str,
    texts: Mapping[str, str],
    expected_revision: int,
) -> Procedure:
    """Write ``lang``'s translations (path → text; empty removes one) into the draft,
    listing ``lang`` in its languages. One draft save: raises DraftConflict when someone
    saved since ``expected_revision``; audited as a draft save. ServiceError for a
    language residents cannot choose."""
    _check_resident_language(lang)
    document = with_translations(procedure.draft, lang, texts)
    return procedure_save_draft(
        actor=actor, procedure=procedure, document=document, expected_revision=expected_revision
    )


def procedure_language_add(
    *, actor: User | None, procedure: Procedure, lang: str, expected_revision: int
) -> Procedure:
    """List ``lang`` in the draft's languages (its texts still to be translated). As
    ``procedure_translations_save`` for conflicts, audit and unknown languages."""
    _check_resident_language(lang)
    return procedure_save_draft(
        actor=actor,
        procedure=procedure,
        document=with_language(procedure.draft, lang),
        expected_revision=expected_revision,
    )


def _check_resident_language(lang: str) -> None:
    if lang not in RESIDENT_LANGUAGES:
        raise ServiceError(_("Residents cannot choose the language “%(lang)s”.") % {"lang": lang})
