"""Reads of disaster mode: the settings, audiences of an alert, shelters nearest a place
(open ones first), and the results of a safety check by area. Call inside the tenant
scope."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTextTransform

from delivery.broadcasts.models import AttributeField, AttributeKind, BroadcastRecipient
from delivery.broadcasts.selectors import segment_count
from delivery.disaster.models import (
    DisasterSettings,
    DisasterSwitch,
    SafetyAnswer,
    SafetyAnswerChoice,
    SafetyCheck,
    Shelter,
    ShelterStatus,
    SwitchStatus,
)
from delivery.models import ChannelMode, LineChannel
from delivery.spots.selectors import haversine_m
from govtech.models import Municipality
from procedures.residents.models import Resident

MODE_CACHE_SECONDS = 60
OPEN_SHELTERS = 5  # the nearest open shelters a resident is shown
OTHER_SHELTERS = 3  # and after them, the nearest full or closed ones, marked as such


def disaster_settings(*, municipality: Municipality) -> DisasterSettings:
    """The municipality's settings (defaults, unsaved, when none were saved: off)."""
    found = DisasterSettings.objects.filter(municipality=municipality).first()
    return found or DisasterSettings(municipality=municipality)


def disaster_mode_is_on(*, municipality: Municipality) -> bool:
    return DisasterSettings.objects.filter(municipality=municipality, is_active=True).exists()


def mode_cache_key(municipality_id: int) -> str:
    return f"disaster-mode:{municipality_id}"


def disaster_mode_is_on_cached(*, municipality: Municipality) -> bool:
    """The same, from the cache for up to a minute: every console page asks (the banner).
    The switch drops the cached value after it commits."""
    key = mode_cache_key(municipality.pk)
    cached = cache.get(key)
    if cached is None:
        cached = disaster_mode_is_on(municipality=municipality)
        cache.set(key, cached, MODE_CACHE_SECONDS)
    return bool(cached)


def pending_switch(*, municipality: Municipality) -> DisasterSwitch | None:
    """The switch request waiting for a second admin, if any."""
    return DisasterSwitch.objects.filter(
        municipality=municipality, status=SwitchStatus.PENDING
    ).first()


def sending_channels() -> QuerySet[LineChannel]:
    """The channels an alert goes out on: those that answer residents."""
    return LineChannel.objects.filter(mode=ChannelMode.ACTIVE)


def area_options(*, settings: DisasterSettings) -> list[tuple[str, str]]:
    """(value, label) of the areas one can choose; none without an area attribute."""
    area = settings.area_field
    if area is None:
        return []
    return [
        (str(option["value"]), str(option.get("label") or option["value"]))
        for option in area.options
        if isinstance(option, dict) and "value" in option
    ]


def area_rules(*, area: AttributeField | None, values: list[str]) -> dict:
    """Segment rules for residents of the chosen areas; everyone when none are chosen."""
    if area is None or not values:
        return {}
    if area.kind == AttributeKind.MULTI_CHOICE:
        conditions = [{"field": area.key, "op": "has", "value": value} for value in values]
        return {"match": "any", "conditions": conditions}
    return {"match": "all", "conditions": [{"field": area.key, "op": "in", "value": values}]}


def audience_count(*, rules: dict) -> int:
    """Following friends on every sending channel who match ``rules``."""
    return sum(segment_count(channel=channel, rules=rules) for channel in sending_channels())


@dataclass(frozen=True)
class ShelterNearby:
    shelter: Shelter
    metres: float


def shelters_nearest(*, latitude: float, longitude: float) -> list[ShelterNearby]:
    """The nearest open shelters by distance, then the nearest full or closed ones.

    A municipality designates tens to a few hundred shelters: all of them are read and
    ordered in Python (spots.selectors.nearest_spots narrows thousands of spots by box)."""
    shelters = Shelter.objects.filter(spot__is_active=True).select_related("spot")
    ranked = sorted(
        (
            ShelterNearby(s, haversine_m(latitude, longitude, s.spot.latitude, s.spot.longitude))
            for s in shelters
        ),
        key=lambda nearby: nearby.metres,
    )
    opened = [n for n in ranked if n.shelter.status == ShelterStatus.OPEN][:OPEN_SHELTERS]
    others = [n for n in ranked if n.shelter.status != ShelterStatus.OPEN][:OTHER_SHELTERS]
    return opened + others


@dataclass
class AreaResult:
    value: str
    label: str
    safe: int = 0
    needs_help: int = 0
    no_answer: int = 0

    @property
    def asked(self) -> int:
        return self.safe + self.needs_help + self.no_answer


@dataclass
class SafetyResults:
    areas: list[AreaResult] = field(default_factory=list)
    total: AreaResult = field(default_factory=lambda: AreaResult("", ""))


def _asked_residents(check: SafetyCheck) -> dict[int, str]:
    """Resident id → area value of everyone the check was sent to (frozen recipients)."""
    rows = BroadcastRecipient.objects.filter(broadcast__in=check.broadcasts.all())
    if not check.area_key:
        return dict.fromkeys(rows.values_list("friend__resident_id", flat=True), "")
    area = KeyTextTransform(check.area_key, "friend__resident__attributes")
    pairs = rows.annotate(area=area).values_list("friend__resident_id", "area")
    return {resident: str(value or "") for resident, value in pairs}


def safety_results(*, check: SafetyCheck, labels: dict[str, str]) -> SafetyResults:
    """Counts of 無事 / 支援が必要 / no answer by area (three queries, whatever the size).

    Residents who answered without having been asked (none can, short of a copied
    postback) are counted too, in their area."""
    asked = _asked_residents(check)
    answers = dict(check.answers.values_list("resident_id", "answer"))
    for resident_id, area in _answered_areas(check, set(answers) - set(asked)).items():
        asked[resident_id] = area
    tally: dict[str, Counter] = {}
    for resident_id, area in asked.items():
        tally.setdefault(area, Counter())[answers.get(resident_id, "")] += 1
    results = SafetyResults()
    order = {value: position for position, value in enumerate(labels)}
    # The areas in the attribute's order, values it no longer has after them, none last.
    for area in sorted(tally, key=lambda v: (v == "", order.get(v, len(order)), v)):
        counts = tally[area]
        row = AreaResult(
            area,
            labels.get(area, area),
            counts[SafetyAnswerChoice.SAFE],
            counts[SafetyAnswerChoice.NEEDS_HELP],
            counts[""],
        )
        results.areas.append(row)
        results.total.safe += row.safe
        results.total.needs_help += row.needs_help
        results.total.no_answer += row.no_answer
    return results


def _answered_areas(check: SafetyCheck, resident_ids: set[int]) -> dict[int, str]:
    if not resident_ids:
        return {}
    people = Resident.objects.filter(pk__in=resident_ids)
    return {person.pk: str(person.attributes.get(check.area_key, "")) for person in people}


def residents_needing_help(*, check: SafetyCheck) -> QuerySet[SafetyAnswer]:
    """Answers 支援が必要, with the resident and their LINE identities, latest first."""
    return (
        check.answers.filter(answer=SafetyAnswerChoice.NEEDS_HELP)
        .select_related("resident")
        .prefetch_related("resident__line_friends")
        .order_by("-answered_at")
    )
