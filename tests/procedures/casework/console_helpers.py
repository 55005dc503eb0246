"""Helpers of the console tests: submissions made in bulk through ``submission_create``
(the conversation is skipped; the case opens as it does after a real conversation)."""

from datetime import datetime

import time_machine
from django_scopes import scopes_disabled

from procedures.models import Conversation, Procedure
from procedures.services import procedure_create, procedure_publish, submission_create
from tests.factories import resident as resident_record
from tests.procedures.casework.conftest import NOW
from tests.procedures.docs import pet_registration


def published(
    municipality, actor, key: str, title: str, *, department=None, steps=None
) -> Procedure:
    """A published copy of the pet registration under another key and title (and other
    steps, when given)."""
    document = pet_registration(
        key=key, title={"ja": title, "en": title}, triggers={"keywords": [title]}
    )
    if steps is not None:
        document["steps"] = steps
    procedure = procedure_create(actor=actor, municipality=municipality, document=document)
    if department is not None:
        with scopes_disabled():
            Procedure.objects.filter(pk=procedure.pk).update(department=department)
            procedure.refresh_from_db()
    procedure_publish(actor=actor, procedure=procedure)
    procedure.refresh_from_db()
    return procedure


def make_submission(
    procedure: Procedure,
    *,
    resident: str = "U1",
    name: str = "",
    owner: str = "山田太郎",
    channel: str = "line",
    is_test: bool = False,
    answers: dict | None = None,
    now: datetime = NOW,
):
    person = resident_record(procedure.municipality, f"line:test:{resident}")
    if name and person.display_name != name:
        with scopes_disabled():
            type(person).objects.filter(pk=person.pk).update(display_name=name)
            person.refresh_from_db()
    with scopes_disabled():
        conversation = Conversation.objects.create(
            municipality=procedure.municipality,
            resident=person,
            procedure=procedure,
            version=procedure.live_version,
            status="submitted",
            state={},
            is_test=is_test,
            channel=channel,
            updated_at=now,
        )
    answers = answers or {"owner": owner, "change": "address"}
    with time_machine.travel(now, tick=False):  # submitted_at is auto_now_add
        return submission_create(conversation=conversation, answers=answers, fee=3000, now=now)
