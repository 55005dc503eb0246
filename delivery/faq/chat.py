"""The FAQ in the chat: free text that no procedure took is looked up; a clear best entry
is answered directly (with a button to start its procedure), close ones are offered as
「もしかして」 quick replies, and what nothing matched is recorded for staff before the
menu answers. Registered as the ``faq`` input answerer.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from delivery.faq.matching import decide
from delivery.faq.models import FaqEntry, FaqKind
from delivery.faq.services import (
    faq_index,
    faq_outcome_count,
    unanswered_record,
)
from govtech.models import Municipality
from procedures import engine
from procedures.engine.steps import parse_postback, postback
from procedures.languages import resident_override
from procedures.residents.models import Resident
from procedures.runtime import start_postback
from procedures.selectors import live_procedures

LONGEST_QUESTION = 60  # longer texts are not questions for the FAQ


def faq_postback(entry_id: int) -> str:
    return postback("faq", str(entry_id))


class FaqAnswers:
    name = "faq"

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
            if isinstance(inp, engine.PostbackInput):
                parts = parse_postback(inp.data)
                if not parts or len(parts) != 2 or parts[0] != "faq" or not parts[1].isdigit():
                    return None
                entry = FaqEntry.objects.filter(pk=int(parts[1]), is_active=True).first()
                if entry is None:
                    return [engine.TextPrompt(_("This answer is no longer available."))]
                faq_outcome_count(municipality=municipality, outcome="answered", now=now)
                return answer_prompts(entry)
            if not isinstance(inp, engine.TextInput) or len(inp.text) > LONGEST_QUESTION:
                return None
            index = faq_index(municipality.pk)
            best, suggestions = decide(index.search(inp.text))
            if best is not None:
                entry = FaqEntry.objects.filter(pk=best.entry_id).first()
                if entry is not None:
                    faq_outcome_count(municipality=municipality, outcome="answered", now=now)
                    return answer_prompts(entry)
            if suggestions:
                entries = FaqEntry.objects.in_bulk([m.entry_id for m in suggestions])
                choices = tuple(
                    engine.Choice(entries[m.entry_id].question, faq_postback(m.entry_id))
                    for m in suggestions
                    if m.entry_id in entries
                )
                faq_outcome_count(municipality=municipality, outcome="suggested", now=now)
                return [engine.TextPrompt(_("Did you mean one of these?"), choices=choices)]
            unanswered_record(municipality=municipality, text=inp.text, now=now)
            faq_outcome_count(municipality=municipality, outcome="unanswered", now=now)
            return None


def answer_prompts(entry: FaqEntry) -> list:
    if entry.kind == FaqKind.GARBAGE:
        lines = [_("“%(item)s”: %(sorting)s") % {"item": entry.question, "sorting": entry.sorting}]
        if entry.notes:
            lines.append(entry.notes)
        if entry.fee:
            lines.append(_("Bulky waste fee: %(fee)s") % {"fee": entry.fee})
        if entry.remarks:
            lines.append(entry.remarks)
    else:
        lines = [entry.answer]
    if entry.link:
        lines.append(entry.link)
    choices: tuple[engine.Choice, ...] = ()
    if entry.procedure_key:
        procedure = next((p for p in live_procedures() if p.key == entry.procedure_key), None)
        if procedure is not None:
            choices = (engine.Choice(procedure.title[:20], start_postback(procedure.key)),)
    return [engine.TextPrompt("\n".join(lines), choices=choices)]
