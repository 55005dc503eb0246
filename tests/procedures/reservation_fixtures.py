"""Shared data for the reservation tests: a play facility open 10:00-12:00 every day."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from govtech.tenancy import tenant_scope
from procedures.reservations.models import OpeningRule, ReminderRule, Resource
from procedures.services import procedure_create, procedure_publish

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=TOKYO)  # a Tuesday, not a holiday
TEN = datetime(2026, 12, 2, 10, 0, tzinfo=TOKYO)  # Wednesday's first slot


def make_resource(municipality, key="kodomo-hiroba", **fields) -> Resource:
    defaults = {
        "name": "こどもひろば",
        "capacity": 3,
        "max_party_size": 2,
        "opens_days_ahead": 14,
        "closes_hours_before": 1,
        "max_active_per_resident": 3,
        "max_per_day_per_resident": 1,
    }
    with tenant_scope(municipality):
        resource = Resource.objects.create(
            municipality=municipality, key=key, **(defaults | fields)
        )
        for weekday in range(7):
            OpeningRule.objects.create(
                municipality=municipality,
                resource=resource,
                weekday=weekday,
                opens=time(10),
                closes=time(12),
            )
        ReminderRule.objects.create(
            municipality=municipality, resource=resource, days_before=1, at_time=time(18)
        )
    return resource


def hiroba_document(resource_key: str = "kodomo-hiroba") -> dict:
    return {
        "format": "govtech.procedure.v1",
        "key": "kodomo-hiroba",
        "kind": "reservation",
        "title": {"ja": "こどもひろば予約"},
        "triggers": {"keywords": ["こどもひろば予約"]},
        "steps": [
            {
                "id": "visit",
                "type": "reservation",
                "resource": resource_key,
                "label": {"ja": "利用日時"},
                "prompt": {"ja": "利用する日時を選んでください"},
            },
            {"id": "confirm", "type": "confirm"},
        ],
        "completion": {"ja": "予約を受け付けました（受付番号 {reference}）"},
    }


@pytest.fixture
def hiroba(city):
    return make_resource(city)


@pytest.fixture
def hiroba_procedure(city, designer, hiroba):
    procedure = procedure_create(actor=designer, municipality=city, document=hiroba_document())
    procedure_publish(actor=designer, procedure=procedure)
    return procedure
