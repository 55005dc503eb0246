"""Helpers of the console tests: submissions made in bulk through ``submission_create``
(the conversation is skipped; the case opens as it does after a real conversation)."""

import io
import uuid
from datetime import datetime

import time_machine
from django_scopes import scopes_disabled
from PIL import Image

from procedures.models import Conversation, Procedure
from procedures.services import (
    procedure_create,
    procedure_publish,
    resident_upload_store,
    submission_create,
)
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


ROAD_STEPS = [
    {"id": "what", "type": "text", "label": {"ja": "損傷の内容"}, "prompt": {"ja": "内容は？"}},
    {"id": "place", "type": "location", "label": {"ja": "場所"}, "prompt": {"ja": "場所は？"}},
    {"id": "photo", "type": "image", "label": {"ja": "写真"}, "prompt": {"ja": "写真を"}},
    {"id": "confirm", "type": "confirm"},
]
ROAD_ANSWERS = {
    "what": "路面の穴",
    "place": {"latitude": 35.488, "longitude": 139.407, "address": "座間市緑ケ丘1-1", "title": ""},
}


def photo_answer(municipality, resident: str = "U1", number: int = 1) -> dict:
    """A stored JPEG of the resident, as an ``image`` answer refers to it."""
    output = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 30, 30)).save(output, format="JPEG")
    upload = resident_upload_store(
        upload_id=uuid.UUID(int=number),
        municipality=municipality,
        resident=resident_record(municipality, f"line:test:{resident}"),
        content=output.getvalue(),
        content_type="image/jpeg",
        width=640,
        height=480,
        extension=".jpg",
    )
    return {"ref": str(upload.pk), "content_type": "image/jpeg"}
