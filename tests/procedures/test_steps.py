import json

import pytest
from django.utils import translation

from procedures.engine import (
    ImageInput,
    InvalidAnswer,
    StepContext,
    StepType,
    TextPrompt,
    prompt_from_dict,
    register,
    step_type,
)
from procedures.engine.inputs import FollowInput, LocationInput, PostbackInput, TextInput
from procedures.engine.steps import Partial
from procedures.engine.steps.base import _REGISTRY
from procedures.format import schema

OPTIONS = [
    {"value": "sofa", "label": {"ja": "ソファ", "en": "Sofa"}},
    {"value": "bed", "label": {"ja": "ベッド", "en": "Bed"}},
    {"value": "other", "label": {"ja": "その他", "en": "Other"}},
]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def ctx(now):
    return StepContext(definition={}, lang="en", now=now)


def answer(step, text_or_input, ctx):
    """Parse and validate like the machine does; returns the stored value."""
    kind = step_type(step["type"])
    inp = TextInput(text_or_input) if isinstance(text_or_input, str) else text_or_input
    value = kind.parse(step, inp, ctx)
    if not isinstance(value, Partial):
        kind.validate(step, value, ctx)
    return value


def refused(step, text_or_input, ctx) -> str:
    with pytest.raises(InvalidAnswer) as caught:
        answer(step, text_or_input, ctx)
    return caught.value.reason


def step(type_, **fields):
    return {"id": "q", "type": type_, "prompt": {"ja": "質問", "en": "Question"}, **fields}


# --- registry ---------------------------------------------------------------------


def test_every_step_type_in_the_schema_is_registered():
    names = schema()["$defs"]["step"]["properties"]["type"]["enum"]
    assert all(step_type(name).name == name for name in names)


def test_an_unknown_step_type_is_a_key_error():
    with pytest.raises(KeyError):
        step_type("signature")


def test_a_new_step_type_is_added_by_registering_a_class(monkeypatch, ctx):
    monkeypatch.setattr("procedures.engine.steps.base._REGISTRY", dict(_REGISTRY))

    @register
    class ShoutStep(StepType):
        name = "shout"

        def parse_text(self, step, text, ctx):
            return text.upper()

    assert answer({"id": "q", "type": "shout"}, "hello", ctx) == "HELLO"


@pytest.mark.parametrize(
    "definition",
    [
        step("text"), step("number"), step("email"), step("phone"), step("postal_code"),
        step("date", validation={"min_date": 1, "max_date": 30}), step("time"),
        step("choice", options=OPTIONS), step("multi_choice", options=OPTIONS),
        step("yes_no"), step("image"), step("location"), step("consent"),
        {"id": "m", "type": "message", "message": {"ja": "お知らせ"}},
        {"id": "e", "type": "end", "message": {"ja": "終了"}},
    ],
)  # fmt: skip
def test_every_prompt_round_trips_through_json(definition, ctx):
    for prompt in step_type(definition["type"]).prompt(definition, ctx):
        data = json.loads(json.dumps(prompt.to_dict()))
        assert prompt_from_dict(data) == prompt
        assert data["kind"]


def test_reservation_steps_without_availability_say_they_are_not_available(ctx):
    reservation = step("reservation", resource="gym")
    (prompt,) = step_type("reservation").prompt(reservation, ctx)
    assert "not available" in prompt.text
    with pytest.raises(InvalidAnswer, match="not available"):
        step_type("reservation").parse(reservation, TextInput("3月1日"), ctx)


# --- text --------------------------------------------------------------------------


def test_text_is_normalised(ctx):
    assert answer(step("text"), "　山田　太郎　", ctx) == "山田 太郎"


def test_text_keeps_line_breaks_of_a_longer_message(ctx):
    assert answer(step("text"), "1行目\n2行目\n", ctx) == "1行目\n2行目"


def test_text_refuses_an_empty_answer(ctx):
    assert refused(step("text"), "   ", ctx) == "Please type your answer."


def test_text_refuses_a_photo(ctx):
    assert refused(step("text"), ImageInput("file-1"), ctx) == "Please type your answer."


def test_text_checks_its_length(ctx):
    limited = step("text", validation={"min_length": 2, "max_length": 5})
    assert answer(limited, "山田", ctx) == "山田"
    assert refused(limited, "山", ctx) == "Please enter at least 2 characters."
    assert refused(limited, "山田太郎です", ctx) == "Please enter at most 5 characters."


def test_text_checks_its_pattern_against_the_whole_answer(ctx):
    code = step("text", validation={"pattern": "[A-Z]{2}[0-9]{4}"})
    assert answer(code, "ＡＢ１２３４", ctx) == "AB1234"
    assert refused(code, "AB12345", ctx) == "The answer is not in the expected format."


# --- number --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [("3", 3), ("３", 3), ("3枚", 3), ("三通", 3)])
def test_number_accepts_full_width_digits_counters_and_kanji(text, value, ctx):
    assert answer(step("number"), text, ctx) == value


@pytest.mark.parametrize("text", ["three", "3.5", "たくさん"])
def test_number_refuses_what_is_not_a_whole_number(text, ctx):
    assert refused(step("number"), text, ctx) == "Please enter a whole number, for example 3."


def test_number_checks_min_and_max(ctx):
    copies = step("number", validation={"min": 1, "max": 10})
    assert refused(copies, "0", ctx) == "Please enter a number of at least 1."
    assert refused(copies, "11", ctx) == "Please enter a number of at most 10."
    assert answer(copies, "10", ctx) == 10


def test_number_bounds_can_be_computed_from_earlier_answers(now):
    ctx = StepContext({}, "en", now, answers={"items": ["sofa", "bed"]})
    count = step("number", validation={"min": {"var": "items.length"}})
    assert refused(count, "1", ctx) == "Please enter a number of at least 2."
    assert answer(count, "2", ctx) == 2


# --- email, phone, postal code ----------------------------------------------------------


def test_email_accepts_a_full_width_address(ctx):
    assert answer(step("email"), "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", ctx) == "taro@example.jp"


def test_email_refuses_a_malformed_address(ctx):
    assert "e-mail address" in refused(step("email"), "taro@", ctx)


def test_email_pattern_can_restrict_the_domain(ctx):
    staff = step("email", validation={"pattern": r".*@city\.example\.lg\.jp"})
    assert answer(staff, "a@city.example.lg.jp", ctx) == "a@city.example.lg.jp"
    assert refused(staff, "a@example.com", ctx) == "This e-mail address cannot be used here."


@pytest.mark.parametrize("text", ["090-1234-5678", "09012345678", "０９０１２３４５６７８"])
def test_phone_accepts_numbers_with_or_without_hyphens(text, ctx):
    assert answer(step("phone"), text, ctx) == "09012345678"


def test_phone_refuses_a_short_number(ctx):
    assert "phone number" in refused(step("phone"), "1234-5678", ctx)


def test_phone_is_shown_with_hyphens(ctx):
    assert step_type("phone").summarize(step("phone"), "09012345678", ctx) == "090-1234-5678"


def test_postal_code_accepts_the_postal_mark_and_full_width_digits(ctx):
    assert answer(step("postal_code"), "〒１５０－０００２", ctx) == "150-0002"


def test_postal_code_refuses_six_digits(ctx):
    assert "7-digit" in refused(step("postal_code"), "150-002", ctx)


# --- date and time -------------------------------------------------------------------------


def test_date_accepts_a_japanese_date_without_year(ctx):
    assert answer(step("date"), "12月1日", ctx) == "2026-12-01"


def test_date_accepts_an_era_date(ctx):
    assert answer(step("date"), "R8.12.1", ctx) == "2026-12-01"


def test_date_accepts_the_picker(ctx):
    picked = PostbackInput("gt|a|q", {"date": "2026-04-01"})
    assert answer(step("date"), picked, ctx) == "2026-04-01"


def test_date_refuses_an_impossible_date(ctx):
    assert "date such as" in refused(step("date"), "2月30日", ctx)


def test_date_checks_relative_limits(ctx):
    window = step("date", validation={"min_date": 7, "max_date": 60})
    assert refused(window, "明日", ctx) == "Please choose a date on or after 2026-03-17 (Tue)."
    assert (
        refused(window, "2026/12/1", ctx) == "Please choose a date on or before 2026-05-09 (Sat)."
    )
    assert answer(window, "3月17日", ctx) == "2026-03-17"


def test_date_picker_carries_the_limits(ctx):
    window = step("date", validation={"min_date": 7, "max_date": 60})
    (prompt,) = step_type("date").prompt(window, ctx)
    assert (prompt.mode, prompt.min, prompt.max) == ("date", "2026-03-17", "2026-05-09")


def test_date_is_summarised_in_japanese_with_the_weekday(now):
    ctx = StepContext({}, "ja", now)
    assert step_type("date").summarize(step("date"), "2026-12-01", ctx) == "2026年12月1日（火）"


@pytest.mark.parametrize("text", ["14:30", "14時30分", "午後2時半", "２：３０ｐｍ"])
def test_time_accepts_japanese_and_clock_forms(text, ctx):
    assert answer(step("time"), text, ctx) == "14:30"


def test_time_accepts_the_picker(ctx):
    assert answer(step("time"), PostbackInput("gt|a|q", {"time": "09:15"}), ctx) == "09:15"


def test_time_refuses_an_hour_past_23(ctx):
    assert "time such as" in refused(step("time"), "25時", ctx)


# --- choices ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["ベッド", "Bed", "bed", "2", "２", " ベッド "])
def test_choice_accepts_label_value_or_number(text, ctx):
    assert answer(step("choice", options=OPTIONS), text, ctx) == "bed"


def test_choice_accepts_full_width_number(ctx):
    assert answer(step("choice", options=OPTIONS), "３", ctx) == "other"


def test_choice_accepts_its_button(ctx):
    assert answer(step("choice", options=OPTIONS), PostbackInput("gt|a|q|sofa"), ctx) == "sofa"


@pytest.mark.parametrize(
    "inp",
    [TextInput("机"), TextInput("4"), TextInput("0"), PostbackInput("gt|a|q|desk"), FollowInput()],
)
def test_choice_refuses_anything_but_its_options(inp, ctx):
    assert refused(step("choice", options=OPTIONS), inp, ctx) == "Please choose one of the options."


def test_choice_buttons_carry_short_postback_data(ctx):
    (prompt,) = step_type("choice").prompt(step("choice", options=OPTIONS), ctx)
    assert [c.label for c in prompt.choices] == ["Sofa", "Bed", "Other"]
    assert all(len(c.data.encode()) <= 300 for c in prompt.choices)


def test_multi_choice_taps_toggle_a_selection_until_done(now):
    multi = step("multi_choice", options=OPTIONS)
    kind = step_type("multi_choice")
    ctx = StepContext({}, "en", now)
    first = kind.parse(multi, PostbackInput("gt|t|q|other"), ctx)
    ctx = StepContext({}, "en", now, pending=first.value)
    second = kind.parse(multi, PostbackInput("gt|t|q|sofa"), ctx)
    assert second == Partial(["sofa", "other"])
    ctx = StepContext({}, "en", now, pending=second.value)
    untoggled = kind.parse(multi, PostbackInput("gt|t|q|other"), ctx)
    assert untoggled == Partial(["sofa"])
    ctx = StepContext({}, "en", now, pending=untoggled.value)
    assert kind.parse(multi, PostbackInput("gt|d|q"), ctx) == ["sofa"]


def test_multi_choice_prompt_marks_the_selected_options(now):
    ctx = StepContext({}, "en", now, pending=["bed"])
    (prompt,) = step_type("multi_choice").prompt(step("multi_choice", options=OPTIONS), ctx)
    assert prompt.multi
    assert [c.label for c in prompt.choices] == ["Sofa", "✓ Bed", "Other", "Done"]
    assert "Selected: Bed" in prompt.text


@pytest.mark.parametrize(
    ("text", "values"), [("1、3", ["sofa", "other"]), ("ベッド, ソファ", ["sofa", "bed"])]
)
def test_multi_choice_accepts_a_typed_list(text, values, ctx):
    assert answer(step("multi_choice", options=OPTIONS), text, ctx) == values


def test_multi_choice_refuses_done_with_nothing_selected(ctx):
    multi = step("multi_choice", options=OPTIONS)
    assert refused(multi, PostbackInput("gt|d|q"), ctx) == "Please choose at least 1 option."


def test_multi_choice_checks_the_number_of_options(ctx):
    multi = step("multi_choice", options=OPTIONS, validation={"min": 2, "max": 2})
    assert refused(multi, "1", ctx) == "Please choose at least 2 options."
    assert refused(multi, "1,2,3", ctx) == "Please choose at most 2 options."


def test_multi_choice_refuses_an_unknown_label(ctx):
    assert "choose from the options" in refused(step("multi_choice", options=OPTIONS), "1、机", ctx)


@pytest.mark.parametrize(
    ("inp", "value"),
    [("はい", True), ("yes", True), ("いいえ", False), ("NO", False),
     (PostbackInput("gt|a|q|yes"), True), (PostbackInput("gt|a|q|no"), False)],
)  # fmt: skip
def test_yes_no_accepts_japanese_english_and_buttons(inp, value, ctx):
    assert answer(step("yes_no"), inp, ctx) is value


def test_yes_no_refuses_maybe(ctx):
    assert refused(step("yes_no"), "たぶん", ctx) == "Please answer yes or no."


def test_a_required_consent_cannot_be_declined(ctx):
    assert "need to agree" in refused(step("consent"), "同意しない", ctx)
    assert answer(step("consent"), "同意する", ctx) is True


def test_an_optional_consent_can_be_declined(ctx):
    assert answer(step("consent", required=False), PostbackInput("gt|a|q|no"), ctx) is False


# --- media ------------------------------------------------------------------------------------


def test_image_stores_the_file_reference(ctx):
    value = answer(step("image"), ImageInput("uploads/abc", "image/png"), ctx)
    assert value == {"ref": "uploads/abc", "content_type": "image/png"}


def test_image_refuses_text(ctx):
    assert refused(step("image"), "写真です", ctx) == "Please send a photo."


def test_location_stores_coordinates_and_address(ctx):
    value = answer(step("location"), LocationInput(35.66, 139.70, "渋谷区宇田川町1-1"), ctx)
    assert value == {
        "latitude": 35.66,
        "longitude": 139.70,
        "address": "渋谷区宇田川町1-1",
        "title": "",
    }


def test_location_accepts_a_typed_address(ctx):
    value = answer(step("location"), "渋谷区宇田川町１－１", ctx)
    assert value["address"] == "渋谷区宇田川町1-1"
    assert value["latitude"] is None


def test_location_refuses_impossible_coordinates(ctx):
    assert "location" in refused(step("location"), LocationInput(135.0, 500.0), ctx)


def test_location_refuses_a_photo(ctx):
    assert "location" in refused(step("location"), ImageInput("x"), ctx)


def test_message_steps_show_their_message(ctx):
    message = {"id": "m", "type": "message", "message": {"ja": "お知らせ", "en": "Notice"}}
    assert step_type("message").prompt(message, ctx) == [TextPrompt("Notice")]


# --- kana ---------------------------------------------------------------------------


def test_a_katakana_field_converts_hiragana_and_half_width_kana(ctx):
    furigana = step("text", validation={"script": "katakana"})
    assert answer(furigana, "やまだ　たろう", ctx) == "ヤマダ タロウ"
    assert answer(furigana, "ﾔﾏﾀﾞ ﾀﾛｳ", ctx) == "ヤマダ タロウ"
    assert answer(furigana, "サイトー", ctx) == "サイトー"


def test_a_katakana_field_says_what_it_expects_in_the_residents_language(ctx):
    furigana = step("text", validation={"script": "katakana"})
    assert refused(furigana, "山田太郎", ctx) == (
        "Please enter this in katakana, for example ヤマダ タロウ."
    )
    with translation.override("ja"):
        assert "カタカナで入力してください" in refused(furigana, "Yamada", ctx)


def test_a_hiragana_field_converts_katakana(ctx):
    reading = step("text", validation={"script": "hiragana"})
    assert answer(reading, "ヤマダ", ctx) == "やまだ"
    assert "hiragana" in refused(reading, "山田", ctx)


def test_the_schema_accepts_only_the_known_scripts():
    scripts = schema()["$defs"]["validation"]["properties"]["script"]["enum"]
    assert scripts == ["katakana", "hiragana"]
