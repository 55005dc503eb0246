"""The product's resident strings in every shipped language (decision 0025): a resident
who chose Vietnamese never reads an untranslated product message, and the resident
catalogs hold resident strings only (staff strings stay in ja and en)."""

import re
import shutil

import pytest
from django.utils import translation

from procedures.languages import PRODUCT_LANGUAGES, product_language, resident_override
from tests.govtech.resident_messages import catalog_path, read_po, resident_messages

RESIDENT_CATALOGS = [code for code in PRODUCT_LANGUAGES if code not in {"ja", "en"}]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[-#0 +]?\d*(?:\.\d+)?[sdf]|\{[a-z_]+\}")


@pytest.fixture(scope="module")
def wanted():
    if shutil.which("xgettext") is None:
        pytest.skip("gettext tools are not installed (make test installs them)")
    return resident_messages()


def test_resident_strings_are_found_in_modules_and_by_their_mark(wanted):
    msgids = {msgid for _context, msgid in wanted}
    assert "The procedure has been cancelled." in msgids  # procedures/engine
    assert "Your booking is confirmed." in msgids  # procedures/reservations/chat.py
    assert "See this application" in msgids  # marked in procedures/casework/services.py
    assert "In review" in msgids  # a status label residents read in 「申請状況」
    assert "The note is empty." not in msgids  # a reviewer's error in the same module


@pytest.mark.parametrize("code", RESIDENT_CATALOGS)
def test_every_resident_string_is_translated(code, wanted):
    catalog = read_po(catalog_path(code))
    untranslated = [
        msgid
        for key, (_context, msgid) in ((key, key) for key in wanted)
        if key not in catalog or not all(catalog[key].msgstrs) or catalog[key].fuzzy
    ]
    assert untranslated == []


@pytest.mark.parametrize("code", RESIDENT_CATALOGS)
def test_resident_catalogs_hold_resident_strings_only(code, wanted):
    assert set(read_po(catalog_path(code))) - set(wanted) == set()


@pytest.mark.parametrize("code", RESIDENT_CATALOGS)
def test_translations_keep_every_placeholder(code, wanted):
    """A lost %(reference)s would fail the resident's message with a KeyError."""
    broken = []
    for key, entry in read_po(catalog_path(code)).items():
        expected = sorted(PLACEHOLDER.findall(entry.plural or entry.msgid))
        for text in entry.msgstrs:
            if sorted(set(PLACEHOLDER.findall(text))) != sorted(set(expected)):
                broken.append((key, text))
    assert broken == []


@pytest.mark.parametrize("code", RESIDENT_CATALOGS)
def test_the_compiled_catalog_is_the_one_gettext_uses(code):
    with resident_override(code):
        assert translation.gettext("The procedure has been cancelled.") != (
            "The procedure has been cancelled."
        )


def test_easy_japanese_falls_back_to_japanese_string_by_string():
    with resident_override("ja-x-easy"):
        assert translation.gettext("Skip") == "とばす"
        # A string missing from the やさしい日本語 catalog: gettext reads the Japanese one.
        easy = translation.gettext("Saved.")
    with translation.override("ja"):
        assert easy == translation.gettext("Saved.") != "Saved."


def test_languages_without_product_strings_read_english():
    assert product_language("ne") == "en"
    assert product_language("zh-Hant") == "en"
    with resident_override("tl"):
        assert translation.gettext("Skip") == "Skip"
