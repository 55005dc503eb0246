"""Disaster mode in the chat: shelter guidance and the answers to safety checks.

- ``shelter_guidance``: while disaster mode is on, a location (or 「避難所」) gets the
  nearest shelters, open ones first by distance, then full or closed ones marked as such.
  ``procedures.runtime.HANDLERS`` puts it just before spot search, so it wins over the
  ordinary search only while the mode is on (off, it answers nothing).
- ``safety_check``: the 無事 / 支援が必要 postback of a safety check, recorded once per
  resident (the latest tap wins). First in the order, so an open conversation never
  swallows it.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from delivery.disaster.models import SafetyAnswerChoice, SafetyCheck, Shelter, ShelterStatus
from delivery.disaster.selectors import ShelterNearby, disaster_mode_is_on, shelters_nearest
from delivery.disaster.services import safety_answer_record
from delivery.spots.chat import chosen_looking_for, distance_text
from govtech.maps import map_link
from govtech.models import Municipality
from procedures import engine
from procedures.engine.steps import parse_postback
from procedures.residents.models import Resident

# Words a resident types (NFKC, lower case) asking for shelters.
KEYWORDS = frozenset({"避難所", "避難場所", "近くの避難所", "避難", "ひなんじょ", "shelter"})


class ShelterGuidance:
    name = "shelter_guidance"

    def answer(
        self,
        *,
        municipality: Municipality,
        resident: Resident,
        inp: engine.Input,
        lang: str,
        now: datetime,
    ) -> list | None:
        if not _meant_for_shelters(inp, resident):
            return None
        if not disaster_mode_is_on(municipality=municipality) or not Shelter.objects.exists():
            return None  # peacetime, or no shelters prepared: ordinary spot search answers
        with override(lang):
            if not isinstance(inp, engine.LocationInput):
                return [
                    engine.LocationRequestPrompt(
                        _("Send your location and I will show the nearest open shelters.")
                    )
                ]
            found = shelters_nearest(latitude=float(inp.latitude), longitude=float(inp.longitude))
            return [_cards(found)]


def _meant_for_shelters(inp: engine.Input, resident: Resident) -> bool:
    if isinstance(inp, engine.LocationInput):
        # A resident who just picked AEDs or toilets in spot search gets those.
        return chosen_looking_for(resident) in (None, "shelter")
    if isinstance(inp, engine.TextInput):
        return unicodedata.normalize("NFKC", inp.text).strip().lower() in KEYWORDS
    if isinstance(inp, engine.PostbackInput):
        return parse_postback(inp.data) == ["spot", "shelter"]
    return False


def _cards(found: list[ShelterNearby]) -> engine.Prompt:
    if not found:
        return engine.TextPrompt(_("No shelter is listed yet."))
    opened = sum(nearby.shelter.status == ShelterStatus.OPEN for nearby in found)
    if opened:
        text = _("The nearest open shelters (%(count)d)") % {"count": opened}
    else:
        text = _("No shelter near you is open now. Check again later.")
    return engine.CardsPrompt(text, tuple(_card(nearby) for nearby in found))


def _card(nearby: ShelterNearby) -> engine.Card:
    shelter, spot = nearby.shelter, nearby.shelter.spot
    lines = [
        _("Status: %(status)s") % {"status": shelter.get_status_display()},
        distance_text(nearby.metres),
    ]
    if spot.address:
        lines.append(spot.address)
    if shelter.status_changed_at:
        when = timezone.localtime(shelter.status_changed_at)
        lines.append(_("Updated %(when)s") % {"when": f"{when:%m/%d %H:%M}"})
    links = []
    if url := map_link(spot.latitude, spot.longitude):
        links.append(engine.Link(_("Map"), url))
    return engine.Card(spot.name, tuple(lines), links=tuple(links))


class SafetyCheckAnswers:
    name = "safety_check"

    def answer(
        self,
        *,
        municipality: Municipality,
        resident: Resident,
        inp: engine.Input,
        lang: str,
        now: datetime,
    ) -> list | None:
        if not isinstance(inp, engine.PostbackInput):
            return None
        parts = parse_postback(inp.data)
        if not parts or len(parts) != 3 or parts[0] != "safety" or not parts[1].isdigit():
            return None
        with override(lang):
            check = SafetyCheck.objects.filter(pk=int(parts[1])).first()
            if check is None or parts[2] not in SafetyAnswerChoice.values:
                return [engine.TextPrompt(_("This safety check is no longer open."))]
            safety_answer_record(check=check, resident=resident, answer=parts[2], now=now)
            if parts[2] == SafetyAnswerChoice.SAFE:
                return [engine.TextPrompt(_("Thank you. We recorded that you are safe."))]
            return [
                engine.TextPrompt(
                    _(
                        "We recorded that you need help; the disaster desk will contact you."
                        " If your life is in danger, call 119."
                    )
                )
            ]
