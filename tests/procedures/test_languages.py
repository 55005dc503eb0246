"""Which language a resident gets (decision 0025): codes from elsewhere, a procedure
without theirs, the product's words, and the engine keeping both apart."""

from datetime import UTC, datetime

import pytest

from procedures import engine
from procedures.languages import (
    offered_languages,
    procedure_language,
    product_language,
    profile_language,
    resident_language,
)
from tests.procedures.docs import pet_registration

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "code, expected",
    [
        ("en-US", "en"),
        ("zh-TW", "zh-Hant"),
        ("zh-hans-CN", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("pt-BR", "pt"),
        ("fil", "tl"),
        ("ja-x-easy", "ja-x-easy"),
        ("th", "ja"),
        ("", "ja"),
    ],
)
def test_codes_from_profiles_and_browsers_become_residents_languages(code, expected):
    assert resident_language(code) == expected


def test_a_profile_language_defaults_to_english_for_other_foreign_languages():
    assert profile_language("vi") == "vi"
    assert profile_language("th") == "en"
    assert profile_language("vi", offered=["ja", "en"]) == "en"
    assert profile_language("vi", offered=["ja"]) == "ja"
    assert profile_language("") == "ja"


def test_a_procedure_without_the_residents_language_speaks_its_first_one():
    assert procedure_language("vi", ["ja", "vi"]) == "vi"
    assert procedure_language("vi", ["en", "ja"]) == "en"
    assert procedure_language("ja-x-easy", ["en", "ja"]) == "ja"
    assert procedure_language("ja-x-easy", ["ja-x-easy", "ja"]) == "ja-x-easy"


def test_the_products_words_are_english_where_it_has_no_catalog():
    assert [product_language(code) for code in ("vi", "ko", "ne", "es", "zh-TW")] == [
        "vi",
        "ko",
        "en",
        "en",
        "en",
    ]


def test_japanese_is_always_offered_and_order_is_kept():
    assert offered_languages(["vi", "en"]) == ["ja", "en", "vi"]
    assert offered_languages([]) == offered_languages(None)
    assert len(offered_languages([])) == 12


def test_the_engine_asks_in_the_procedures_language_and_answers_commands_in_the_residents():
    result = engine.start(pet_registration(), lang="vi", now=NOW)  # ja and en only
    assert (result.state.lang, result.state.resident_lang) == ("ja", "vi")
    assert "飼い主の氏名を入力してください" in [p.text for p in result.prompts]

    cancelled = engine.advance(
        pet_registration(), result.state, engine.TextInput("cancel"), now=NOW
    )

    assert [p.text for p in cancelled.prompts] == ["Đã dừng thủ tục."]


def test_a_state_stored_before_resident_lang_existed_speaks_its_texts_language():
    result = engine.start(pet_registration(), lang="en", now=NOW)
    stored = result.state.to_dict()
    del stored["resident_lang"]

    cancelled = engine.advance(
        pet_registration(),
        engine.ConversationState.from_dict(stored),
        engine.TextInput("cancel"),
        now=NOW,
    )

    assert [p.text for p in cancelled.prompts] == ["The procedure has been cancelled."]
