"""Helpers of the duplicate and map tests: a report procedure of a category, and reports
at given places made through ``submission_create`` (the conversation is skipped; the
report is registered and routed as after a real conversation)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django_scopes import scopes_disabled

from govtech.tenancy import tenant_scope
from procedures.incidents.models import ReportCategory
from procedures.models import Conversation, Procedure
from procedures.services import procedure_create, procedure_publish, submission_create
from tests.factories import resident as resident_record

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
HALL = (35.0, 139.0)  # a round place: a degree of latitude is 111,195 m everywhere


def report_document(key: str = "road-report", title: str = "道路の通報") -> dict:
    return {
        "format": "govtech.procedure.v1",
        "key": key,
        "kind": "report",
        "title": {"ja": title},
        "languages": ["ja"],
        "triggers": {"keywords": [title]},
        "steps": [
            {"id": "what", "type": "text", "label": {"ja": "内容"}, "prompt": {"ja": "内容は？"}},
            {
                "id": "place",
                "type": "location",
                "label": {"ja": "場所"},
                "prompt": {"ja": "場所は？"},
            },
            {"id": "confirm", "type": "confirm"},
        ],
    }


def report_category(city, actor, key: str, name: str, *, department=None) -> ReportCategory:
    """A category with its own published report procedure (handled by ``department``)."""
    procedure = procedure_create(
        actor=actor, municipality=city, document=report_document(f"{key}-report", f"{name}の通報")
    )
    with scopes_disabled():
        if department is not None:
            Procedure.objects.filter(pk=procedure.pk).update(department=department)
            procedure.refresh_from_db()
    procedure_publish(actor=actor, procedure=procedure)
    with tenant_scope(city):
        return ReportCategory.objects.create(
            municipality=city,
            key=key,
            name=name,
            procedure=procedure,
            department=department,
        )


def make_report(category, at, *, resident: str = "U1", now: datetime = NOW, address: str = ""):
    """The submission of a report of ``category`` at ``at`` (latitude, longitude)."""
    procedure = category.procedure
    procedure.refresh_from_db()
    city = procedure.municipality
    person = resident_record(city, f"line:test:{resident}")
    with scopes_disabled():
        conversation = Conversation.objects.create(
            municipality=city,
            resident=person,
            procedure=procedure,
            version=procedure.live_version,
            status="submitted",
            state={},
            channel="line",
            updated_at=now,
        )
    place = {"latitude": at[0], "longitude": at[1], "address": address or "デモ市本町", "title": ""}
    with time_machine.travel(now, tick=False), tenant_scope(city):
        return submission_create(
            conversation=conversation, answers={"what": "穴", "place": place}, fee=None, now=now
        )


def north(metres: float, of=HALL) -> tuple[float, float]:
    """The place ``metres`` north of ``of`` (111,195 m a degree of latitude)."""
    return of[0] + metres / 111_195, of[1]
