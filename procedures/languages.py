"""Residents' languages: which exist, how a code read elsewhere becomes one of them, and
what a resident gets when a procedure or the product has no text in theirs.

Decision 0025 (docs/decisions/0025-residents-languages.md):
- Codes are BCP 47 as the format writes them (``zh-Hans``, not Django's ``zh-hans``);
  やさしい日本語 is the private-use tag ``ja-x-easy``.
- A procedure without the resident's language: its first language (``ja-x-easy``
  prefers ``ja`` when the procedure has it).
- The product's own resident strings exist in ``PRODUCT_LANGUAGES``; a resident of
  another language reads them in English (``ja-x-easy`` falls back string by string to
  Japanese, through gettext's own ``ja_X-easy`` → ``ja`` lookup).

Pure Python (no models), so the engine may use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.utils import translation
from django.utils.translation import gettext as _

EASY_JAPANESE = "ja-x-easy"

# Code → the language's name in itself, in the order residents see them.
RESIDENT_LANGUAGES: dict[str, str] = {
    "ja": "日本語",
    EASY_JAPANESE: "やさしい にほんご",
    "en": "English",
    "zh-Hans": "简体中文",
    "zh-Hant": "繁體中文",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "pt": "Português",
    "es": "Español",
    "ne": "नेपाली",
    "id": "Bahasa Indonesia",
    "tl": "Tagalog",
}

# Languages the product's own resident strings are translated into (every resident
# string, checked by tests/govtech/test_resident_catalogs.py).
PRODUCT_LANGUAGES: tuple[str, ...] = ("ja", EASY_JAPANESE, "en", "zh-Hans", "ko", "vi", "pt")

# What a LINE profile (or a browser) may say, beyond the codes themselves.
_ALIASES = {
    "zh": "zh-Hans",
    "zh-cn": "zh-Hans",
    "zh-sg": "zh-Hans",
    "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant",
    "zh-mo": "zh-Hant",
    "fil": "tl",
    "in": "id",  # the old code of Indonesian, still sent by some Android versions
}
_BY_LOWER = {code.lower(): code for code in RESIDENT_LANGUAGES}


def resident_language(code: str | None, *, default: str = "ja") -> str:
    """The resident language a code means (``"en-US"`` → ``"en"``, ``"zh-TW"`` →
    ``"zh-Hant"``, ``"pt-BR"`` → ``"pt"``); ``default`` when it names none of them."""
    lowered = (code or "").strip().replace("_", "-").lower()
    while lowered:
        found = _BY_LOWER.get(lowered) or _ALIASES.get(lowered)
        if found:
            return found
        lowered = lowered.rpartition("-")[0]
    return default


def profile_language(code: str | None, *, offered: Sequence[str] = ()) -> str:
    """A new resident's language from their LINE profile: the language it names when the
    municipality offers it, English for another foreign language (when offered), else
    Japanese."""
    offered = offered or tuple(RESIDENT_LANGUAGES)
    if not (code or "").strip():
        return "ja"
    found = resident_language(code, default="en")
    if found in offered:
        return found
    return "en" if found != "ja" and "en" in offered else "ja"


def product_language(code: str | None) -> str:
    """The language the product's own strings are read in by a resident of ``code``."""
    found = resident_language(code)
    return found if found in PRODUCT_LANGUAGES else "en"


def procedure_language(code: str | None, languages: Sequence[str]) -> str:
    """The language of a procedure's texts for a resident of ``code``: theirs when the
    procedure lists it, else its first language (やさしい日本語 reads Japanese first)."""
    listed = list(languages) or ["ja"]
    wanted = resident_language(code, default="")
    if wanted in listed:
        return wanted
    if wanted == EASY_JAPANESE and "ja" in listed:
        return "ja"
    return listed[0]


def offered_languages(configured: Iterable[str] | None) -> list[str]:
    """A municipality's offered languages in display order; all when none configured.
    Japanese is always offered (the staff read it, and it is every procedure's default)."""
    chosen = {resident_language(code, default="") for code in configured or ()} - {""}
    if not chosen:
        return list(RESIDENT_LANGUAGES)
    return [code for code in RESIDENT_LANGUAGES if code in chosen or code == "ja"]


def language_name(code: str) -> str:
    """The language's own name (``vi`` → ``Tiếng Việt``); the code if unknown."""
    return RESIDENT_LANGUAGES.get(resident_language(code, default=""), code)


def staff_language_names() -> dict[str, str]:
    """Each residents' language named for staff (ベトナム語, not Tiếng Việt)."""
    return {
        "ja": _("Japanese"),
        EASY_JAPANESE: _("Easy Japanese (やさしい日本語)"),
        "en": _("English"),
        "zh-Hans": _("Chinese (Simplified)"),
        "zh-Hant": _("Chinese (Traditional)"),
        "ko": _("Korean"),
        "vi": _("Vietnamese"),
        "pt": _("Portuguese"),
        "es": _("Spanish"),
        "ne": _("Nepali"),
        "id": _("Indonesian"),
        "tl": _("Tagalog"),
    }


def staff_language_name(code: str) -> str:
    return str(staff_language_names().get(code, code))


def resident_override(code: str | None) -> translation.override:
    """Activate the product language of a resident of ``code`` (``with
    resident_override(resident.language): _("…")``)."""
    return translation.override(product_language(code))


# Where the product's resident strings are (decision 0025): every translatable string of
# these modules, and anywhere else a string marked with a comment
# ``# Translators: residents read this.`` on the line before its ``_(``. The catalogs of
# PRODUCT_LANGUAGES other than ja and en hold exactly those (staff never use them);
# tests/govtech/test_resident_catalogs.py checks both ways.
RESIDENT_MODULES: tuple[str, ...] = (
    "procedures/engine",
    "procedures/runtime.py",
    "procedures/residents/chat.py",
    "procedures/casework/chat.py",
    "procedures/casework/workflow.py",
    "procedures/reservations/chat.py",
    "procedures/reservations/notices.py",
    "delivery/rendering.py",
    "delivery/faq/chat.py",
    "delivery/spots/chat.py",
    "delivery/disaster/chat.py",
)
RESIDENT_MARK = "Translators: residents read this"
