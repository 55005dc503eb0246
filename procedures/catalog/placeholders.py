"""Environment-specific texts in and out of template documents (pure; no database).

A template is written for any municipality: where a city's own procedure says 「デモ市」
or 「環境課（03-1234-5678）」, its template says ``{municipality.name}`` or
``{department.name}（{department.phone}）``. Publishing replaces the publisher's values by
placeholders (``strip_environment``); importing fills in the importer's
(``fill_placeholders``). Only texts are touched (titles, prompts, labels, messages...),
never ids, option values or rules.
"""

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

PLACEHOLDERS = (
    "municipality.name",
    "department.name",
    "department.phone",
    "department.email",
)
PLACEHOLDER_PATTERN = re.compile(r"\{(municipality|department)\.(name|phone|email)\}")
DOCUMENT_TEXTS = ("title", "description", "completion")
STEP_TEXTS = ("prompt", "help", "message", "error", "label")

# Values per language: {"ja": {"municipality.name": "デモ市"}, "en": {...}}; a language
# without its own value uses the "ja" one.
Values = Mapping[str, Mapping[str, str]]


def _text_maps(document: dict[str, Any]) -> Iterator[dict[str, str]]:
    for key in DOCUMENT_TEXTS:
        if isinstance(document.get(key), dict):
            yield document[key]
    for step in document.get("steps", []):
        if not isinstance(step, dict):
            continue
        for key in STEP_TEXTS:
            if isinstance(step.get(key), dict):
                yield step[key]
        for option in step.get("options", []) or []:
            if isinstance(option, dict) and isinstance(option.get("label"), dict):
                yield option["label"]


def _rewrite(document: dict[str, Any], change: Callable[[str, str], str]) -> dict[str, Any]:
    result = copy.deepcopy(document)
    for texts in _text_maps(result):
        for lang, text in texts.items():
            if isinstance(text, str):
                texts[lang] = change(lang, text)
    return result


def _values_for(values: Values, lang: str) -> dict[str, str]:
    merged = dict(values.get("ja", {}))
    merged.update({name: value for name, value in values.get(lang, {}).items() if value})
    return merged


def strip_environment(document: dict[str, Any], values: Values) -> dict[str, Any]:
    """A copy of ``document`` with the publisher's own values replaced by placeholders.

    Longer values are replaced first, so 「デモ市役所」 is not half-replaced by 「デモ市」.
    """
    every = {value: name for lang in values for name, value in values[lang].items() if value}
    ordered = sorted(every, key=len, reverse=True)

    def change(lang: str, text: str) -> str:
        for value in ordered:
            text = text.replace(value, "{" + every[value] + "}")
        return text

    return _rewrite(document, change)


def fill_placeholders(document: dict[str, Any], values: Values) -> dict[str, Any]:
    """A copy of ``document`` with the placeholders we have values for filled in."""

    def change(lang: str, text: str) -> str:
        known = _values_for(values, lang)
        return PLACEHOLDER_PATTERN.sub(lambda m: known.get(m.group(0)[1:-1]) or m.group(0), text)

    return _rewrite(document, change)


def unfilled_placeholders(document: dict[str, Any]) -> list[str]:
    """Placeholders still in the texts (e.g. no department was chosen), sorted."""
    found: set[str] = set()
    for texts in _text_maps(document):
        for text in texts.values():
            if isinstance(text, str):
                found.update(match.group(0) for match in PLACEHOLDER_PATTERN.finditer(text))
    return sorted(found)
