"""Spot search in the chat: a resident sends a location (or first picks what they look
for) and gets the nearest spots as cards — distance, address, hours and whether it is
open now, a map link, a call button.

Registered as the ``spot_search`` input answerer (``procedures.runtime.HANDLERS`` puts
it after the procedures and before the menu); it answers only what is meant for it.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from django.core.cache import cache
from django.utils.translation import gettext as _

from delivery.spots.models import Hazard, Spot, SpotKind
from delivery.spots.selectors import Nearby, nearest_spots, open_at
from delivery.spots.standard import days_text
from govtech.maps import map_link
from govtech.models import Municipality
from procedures import engine
from procedures.engine.steps import parse_postback, postback
from procedures.languages import resident_override
from procedures.residents.models import Resident

RESULTS = 5
CHOSEN_FOR_SECONDS = 600  # a picked category waits this long for the location
# What a resident looks for → the datasets that hold it.
LOOKING_FOR: dict[str, tuple[str, ...]] = {
    "facility": (SpotKind.FACILITY,),
    "shelter": (SpotKind.SHELTER, SpotKind.EVACUATION_SITE),
    "aed": (SpotKind.AED,),
    "toilet": (SpotKind.TOILET,),
}
# Words a resident types (NFKC, lower case) → what they look for; "" asks which.
KEYWORDS: dict[str, str] = {
    "近くの施設": "facility",
    "施設検索": "facility",
    "避難所": "shelter",
    "避難場所": "shelter",
    "近くの避難所": "shelter",
    "aed": "aed",
    "近くのaed": "aed",
    "トイレ": "toilet",
    "近くのトイレ": "toilet",
    "スポット検索": "",
    "周辺検索": "",
    "近くを探す": "",
}


def looking_for_label(key: str) -> str:
    return {
        "facility": _("Public facilities"),
        "shelter": _("Evacuation shelters"),
        "aed": _("AEDs"),
        "toilet": _("Public toilets"),
    }[key]


def spot_postback(key: str) -> str:
    return postback("spot", key)


def _chosen_key(resident: Resident) -> str:
    return f"spots:looking-for:{resident.pk}"


def chosen_looking_for(resident: Resident) -> str | None:
    """What the resident picked to look for in the last minutes (None: nothing)."""
    return cache.get(_chosen_key(resident))


class SpotSearch:
    name = "spot_search"

    def answer(
        self,
        *,
        municipality: Municipality,
        resident: Resident,
        inp: engine.Input,
        lang: str,
        now: datetime,
    ) -> list | None:
        with resident_override(lang):
            if isinstance(inp, engine.LocationInput):
                if not _available():
                    return None  # nothing to search: the menu answers instead
                looking_for = cache.get(_chosen_key(resident))
                return _nearest(inp, looking_for, now)
            key = _asked(inp)
            if key is None:
                return None
            available = _available()
            if not available:
                return [engine.TextPrompt(_("There are no places to search yet."))]
            if key == "" or key not in available:
                return [_which(available)]
            cache.set(_chosen_key(resident), key, CHOSEN_FOR_SECONDS)
            return [
                engine.LocationRequestPrompt(
                    _("Send your location and I will show the nearest %(what)s.")
                    % {"what": looking_for_label(key)}
                )
            ]


def _asked(inp: engine.Input) -> str | None:
    if isinstance(inp, engine.PostbackInput):
        parts = parse_postback(inp.data)
        if parts and len(parts) == 2 and parts[0] == "spot" and parts[1] in LOOKING_FOR:
            return parts[1]
        return None
    if isinstance(inp, engine.TextInput):
        return KEYWORDS.get(unicodedata.normalize("NFKC", inp.text).strip().lower())
    return None


def _available() -> list[str]:
    kinds = set(Spot.objects.filter(is_active=True).values_list("kind", flat=True).distinct())
    return [key for key, held_in in LOOKING_FOR.items() if kinds & set(held_in)]


def _which(available: list[str]) -> engine.Prompt:
    return engine.LocationRequestPrompt(
        _("What are you looking for? Choose, or just send your location."),
        choices=tuple(
            engine.Choice(looking_for_label(key), spot_postback(key)) for key in available
        ),
    )


def _nearest(inp: engine.LocationInput, looking_for: str | None, now: datetime) -> list:
    kinds = LOOKING_FOR.get(looking_for or "") or tuple(
        kind for held_in in LOOKING_FOR.values() for kind in held_in
    )
    found = nearest_spots(
        latitude=float(inp.latitude), longitude=float(inp.longitude), kinds=kinds, limit=RESULTS
    )
    if not found:
        return [engine.TextPrompt(_("There are no places to search yet."))]
    what = looking_for_label(looking_for) if looking_for else _("spots")
    return [
        engine.CardsPrompt(
            _("The %(count)d nearest %(what)s") % {"count": len(found), "what": what},
            tuple(_card(nearby, now) for nearby in found),
        )
    ]


def distance_text(metres: float) -> str:
    if metres < 1000:
        return _("%(m)d m away") % {"m": round(metres / 10) * 10}
    return _("%(km).1f km away") % {"km": metres / 1000}


def _card(nearby: Nearby, now: datetime) -> engine.Card:
    spot = nearby.spot
    lines = [distance_text(nearby.metres)]
    if spot.address:
        lines.append(spot.address)
    if spot.opens_at and spot.closes_at:
        days = spot.days or days_text(spot.weekdays, spot.open_on_holidays)
        hours = f"{spot.opens_at:%H:%M}–{spot.closes_at:%H:%M}"
        lines.append(f"{hours} {days}".strip())
    state = open_at(spot, now)
    if state is not None:
        lines.append(_("Open now") if state else _("Closed now"))
    if spot.kind in (SpotKind.SHELTER, SpotKind.EVACUATION_SITE) and spot.hazards:
        hazards = "・".join(str(label) for value, label in Hazard.choices if value in spot.hazards)
        lines.append(_("For: %(hazards)s") % {"hazards": hazards})
    if spot.phone:
        lines.append(_("Tel. %(phone)s") % {"phone": spot.phone})
    links = []
    if url := map_link(spot.latitude, spot.longitude):  # LINE refuses an empty address
        links.append(engine.Link(_("Map"), url))
    if spot.phone:
        links.append(engine.Link(_("Call"), "tel:" + "".join(c for c in spot.phone if c.isdigit())))
    if spot.url:
        links.append(engine.Link(_("Website"), spot.url))
    return engine.Card(spot.name, tuple(lines), links=tuple(links))
