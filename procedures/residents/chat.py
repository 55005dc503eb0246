"""「Language / 言語」: the resident picks the language they are written to in.

Typed (「Language / 言語」, 「Language」, 「言語」) or tapped from the rich menu, it answers
with one button per language the municipality offers, each named in its own language;
the tapped one is stored on the resident (``resident_language_set``) and confirmed in it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from govtech.models import Municipality
from procedures import engine
from procedures.engine import parsing
from procedures.engine.steps import parse_postback, postback
from procedures.languages import language_name, resident_override
from procedures.residents.models import Resident
from procedures.residents.selectors import offered_languages
from procedures.residents.services import resident_language_set

# 「Language / 言語」 is what the rich menu area sends; the others are what people type.
LANGUAGE_WORDS = frozenset(
    parsing.normalize_key(word)
    for word in ("Language / 言語", "Language", "Languages", "言語", "げんご", "言語設定")
)
POSTBACK_KIND = "lang"


def handle(
    *, municipality: Municipality, resident: Resident, inp: engine.Input
) -> list[engine.Prompt] | None:
    """The language buttons, or the choice stored and confirmed; None for other inputs."""
    if isinstance(inp, engine.TextInput) and parsing.normalize_key(inp.text) in LANGUAGE_WORDS:
        return [_language_buttons(municipality, resident)]
    parts = parse_postback(inp.data) if isinstance(inp, engine.PostbackInput) else None
    if parts and len(parts) == 2 and parts[0] == POSTBACK_KIND:
        return [_chosen(municipality, resident, parts[1])]
    return None


def _language_buttons(municipality: Municipality, resident: Resident) -> engine.TextPrompt:
    choices = tuple(
        engine.Choice(language_name(code), postback(POSTBACK_KIND, code))
        for code in offered_languages(municipality)
    )
    with resident_override(resident.language):
        text = _("Which language would you like us to write to you in?")
    # Both languages: a resident who cannot read the current one must still find theirs.
    return engine.TextPrompt(f"{text}\nLanguage / 言語", choices)


def _chosen(municipality: Municipality, resident: Resident, code: str) -> engine.TextPrompt:
    if code not in offered_languages(municipality):
        return _language_buttons(municipality, resident)  # a stale button: ask again
    resident_language_set(resident=resident, language=code)
    with resident_override(code):
        text = _("From now on we will write to you in %(language)s.") % {
            "language": language_name(code)
        }
    return engine.TextPrompt(text)
