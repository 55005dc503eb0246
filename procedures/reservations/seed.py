"""Demo resources for seed_demo (idempotent): the play facility and a counter."""

from datetime import time

from govtech.models import Department, Municipality
from govtech.tenancy import tenant_scope
from procedures.reservations.models import OpeningRule, ReminderRule, Resource

DEMO_RESOURCES = [
    {
        "key": "kodomo-hiroba",
        "name": "児童遊戯施設 こどもひろば",
        "name_en": "Kodomo Hiroba children's play facility",
        "kind": "facility",
        "department": "kosodate",
        "location": "デモ市中央1-2-3 子育て支援センター2階",
        "capacity": 20,
        "max_party_size": 5,
        "weekdays": range(0, 7),
        "hours": [(time(10), time(12)), (time(13), time(16))],
    },
    {
        "key": "madoguchi-shimin",
        "name": "市民課窓口",
        "name_en": "Residents' counter",
        "kind": "counter",
        "department": "shimin",
        "location": "デモ市役所本庁舎1階 市民課",
        "capacity": 2,
        "capacity_unit": "groups",
        "slot_minutes": 30,
        "weekdays": range(0, 5),
        "hours": [(time(9), time(12)), (time(13), time(17))],
    },
]


def demo_resources_ensure(*, municipality: Municipality) -> list[str]:
    """Create the demo resources that are missing (existing ones are left as they are)."""
    created = []
    with tenant_scope(municipality):
        for spec in DEMO_RESOURCES:
            if Resource.objects.filter(key=spec["key"]).exists():
                continue
            _create(municipality, dict(spec))
            created.append(spec["key"])
    return created


def _create(municipality: Municipality, spec: dict) -> None:
    weekdays, hours = spec.pop("weekdays"), spec.pop("hours")
    spec["department"] = Department.objects.filter(code=spec["department"]).first()
    resource = Resource.objects.create(municipality=municipality, **spec)
    OpeningRule.objects.bulk_create(
        OpeningRule(municipality=municipality, resource=resource, weekday=day, opens=o, closes=c)
        for day in weekdays
        for o, c in hours
    )
    ReminderRule.objects.create(
        municipality=municipality, resource=resource, days_before=1, at_time=time(18)
    )
    ReminderRule.objects.create(municipality=municipality, resource=resource, hours_before=2)
