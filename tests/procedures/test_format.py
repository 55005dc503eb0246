import copy
import json

import jsonschema
import pytest
from django.utils import translation

from procedures.format import (
    FORMAT,
    DocumentError,
    FormatError,
    load_document,
    my_number_violations,
    schema,
    validate_document,
)
from tests.procedures.conftest import CORPUS_DIR, document, load_corpus

CORPUS = sorted(path.stem for path in CORPUS_DIR.glob("*.json"))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def located(doc, **kwargs) -> list[str]:
    return [str(error) for error in validate_document(doc, **kwargs)]


def codes(doc, **kwargs) -> list[tuple[str, str]]:
    return [(error.path, error.code) for error in validate_document(doc, **kwargs)]


def text_step(id_="name", **fields):
    return {"id": id_, "type": "text", "prompt": {"ja": "入力してください"}, **fields}


def photo_step(prompt):
    return {"id": "card", "type": "image", "prompt": {"ja": prompt}}


def bulky():
    return load_corpus("bulky-waste")


# --- the schema and the corpus ---------------------------------------------------------


def test_the_schema_is_valid_json_schema_for_the_format():
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["properties"]["format"]["const"] == FORMAT


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_documents_are_valid_without_warnings(name):
    assert corpus_problems(name) == []


def corpus_problems(name):
    text = (CORPUS_DIR / f"{name}.json").read_text(encoding="utf-8")
    return located(load_document(text), include_warnings=True)


def test_the_corpus_covers_the_reference_procedures():
    assert {"bulky-waste", "juminhyo-by-mail", "road-damage", "citizen-survey"} <= set(CORPUS)


# --- loading ---------------------------------------------------------------------------


def test_malformed_json_is_located_by_line_and_column():
    with pytest.raises(DocumentError) as caught:
        load_document('{\n  "format": "govtech.procedure.v1",\n  "key": \n}')
    (error,) = caught.value.errors
    assert error.code == "invalid_json"
    assert str(error).startswith("line 4, column 1: ")


def test_a_key_given_twice_is_refused_when_loading():
    with pytest.raises(DocumentError, match='The key "key" appears twice'):
        load_document('{"key": "a", "key": "b"}')


def test_nan_is_refused_when_loading():
    with pytest.raises(DocumentError, match="NaN is not allowed"):
        load_document('{"fee": NaN}')


@pytest.mark.parametrize("depth", [100, 5_000])
def test_a_document_nested_too_deeply_is_refused_before_it_is_walked(depth):
    when = '{"!": ' * depth + "true" + "}" * depth
    text = '{"format": "govtech.procedure.v1", "steps": [{"when": ' + when + "}]}"
    with pytest.raises(DocumentError, match="nested more than 64 levels"):
        load_document(text)


def test_a_lone_surrogate_in_a_key_is_refused_and_the_message_is_printable():
    with pytest.raises(DocumentError) as caught:
        load_document('{"k\\ud800": 1}')
    str(caught.value).encode("utf-8")  # the page or terminal showing it must not fail
    with pytest.raises(DocumentError) as caught:
        load_document('{"k\\ud800": 1, "k\\ud800": 2}')
    assert "\ufffd" in str(caught.value)
    str(caught.value).encode("utf-8")


def test_the_duplicate_key_check_takes_one_pass_over_forty_thousand_keys():
    keys = ", ".join(f'"k{number}": {number}' for number in range(40_000))
    assert len(load_document("{" + keys + "}")) == 40_000
    with pytest.raises(DocumentError, match='"k39999" appears twice'):
        load_document("{" + keys + ', "k39999": 0}')


def test_a_document_must_be_an_object():
    with pytest.raises(DocumentError, match="must be a JSON object"):
        load_document("[1, 2]")


# --- broken documents, each with a located error -----------------------------------------


def test_a_misspelt_step_field_is_located():
    doc = document(text_step(promt={"ja": "x"}))
    assert located(doc) == ['steps[0] (id "name"): Unknown field "promt"; check its spelling.']


def test_a_misspelt_top_level_field_is_located():
    doc = document(text_step(), titel={"ja": "x"})
    assert codes(doc) == [("titel", "unknown_field")]


def test_a_missing_title_is_reported():
    doc = document(text_step())
    del doc["title"]
    assert located(doc) == ['"title" is required.']


def test_a_wrong_format_is_reported():
    doc = document(text_step(), format="govtech.procedure.v2")
    assert codes(doc) == [("format", "not_allowed")]


def test_an_unknown_kind_is_reported():
    assert "use one of: application" in located(document(text_step(), kind="petition"))[0]


def test_a_document_without_steps_is_refused():
    assert located(document()) == ["steps: A procedure needs at least one step."]


def test_an_unknown_step_type_is_located():
    doc = document({"id": "sign", "type": "signature", "prompt": {"ja": "署名"}})
    assert codes(doc) == [("steps[0].type", "not_allowed")]


def test_a_step_id_that_is_not_a_slug_is_refused():
    doc = document(text_step("お名前"))
    assert codes(doc) == [("steps[0].id", "bad_form")]


def test_duplicate_step_ids_are_located():
    doc = document(text_step("name"), text_step("name"))
    assert located(doc) == ['steps[1] (id "name"): The step id "name" is used more than once.']


def test_when_referring_to_an_unknown_step_is_located():
    doc = bulky()
    doc["steps"][3]["when"] = {"in": ["other", {"var": "itemz"}]}
    assert located(doc) == ['steps[3] (id "photo"): "when" refers to unknown step "itemz".']


def test_when_referring_to_a_later_step_is_refused():
    doc = document(text_step("a", when={"==": [{"var": "b"}, "x"]}), text_step("b"))
    assert codes(doc) == [("steps[0].when", "unknown_var")]


def test_when_referring_to_its_own_step_is_refused():
    doc = document(text_step("a", when={"var": "a"}))
    assert codes(doc) == [("steps[0].when", "unknown_var")]


def test_when_referring_to_a_message_step_is_refused():
    doc = document({"id": "hello", "type": "message", "message": {"ja": "こんにちは"}},
                   text_step("a", when={"var": "hello"}))  # fmt: skip
    assert codes(doc) == [("steps[1].when", "not_an_answer")]


def test_a_dotted_variable_must_name_a_field_of_the_answer():
    doc = bulky()
    doc["steps"][2]["when"] = {">": [{"var": "count.length"}, 10]}
    assert located(doc) == [
        'steps[2] (id "too_many"): "when" refers to "count.length", which does not exist.'
    ]


def test_dotted_variables_of_multi_choice_and_location_are_allowed():
    doc = bulky()
    doc["steps"][2]["when"] = {">": [{"var": "items.length"}, 3]}
    doc["steps"][3]["when"] = {"==": [{"var": "items.0"}, "other"]}
    assert located(doc) == []


def test_an_unknown_operator_is_located():
    doc = bulky()
    doc["steps"][3]["when"] = {"contains": [{"var": "items"}, "other"]}
    assert located(doc) == [
        'steps[3] (id "photo"): "when" is not valid JSON Logic: unknown operator "contains".'
    ]


def test_a_rule_with_two_operators_is_refused():
    doc = document(text_step("a"), text_step("b", when={"==": [{"var": "a"}, "x"], "!": [1]}))
    assert codes(doc) == [("steps[1].when", "invalid_logic")]


def test_duplicate_option_values_are_located():
    doc = bulky()
    doc["steps"][0]["options"][2]["value"] = "sofa"
    assert located(doc) == [
        'steps[0] (id "items"): The option value "sofa" is used more than once.'
    ]
    assert codes(doc) == [("steps[0].options[2].value", "duplicate_option")]


def test_a_choice_without_options_is_refused():
    doc = document({"id": "pick", "type": "choice", "prompt": {"ja": "選択"}})
    assert located(doc) == ['steps[0] (id "pick"): "options" is required.']


def test_a_second_confirm_step_is_refused():
    doc = document(text_step(), {"id": "c1", "type": "confirm"}, {"id": "c2", "type": "confirm"})
    assert ("steps[2]", "duplicate_confirm") in codes(doc)


def test_confirm_must_be_the_last_step():
    doc = document({"id": "c", "type": "confirm"}, text_step())
    assert located(doc) == ['steps[0] (id "c"): The confirm step must be the last step.']


def test_an_invalid_pattern_is_located():
    doc = document(text_step(validation={"pattern": "[0-9"}))
    assert codes(doc) == [("steps[0].validation.pattern", "invalid_pattern")]


def test_validation_that_does_not_apply_to_the_type_is_refused():
    doc = document(text_step(validation={"min_date": 1}))
    assert located(doc) == [
        'steps[0] (id "name"): "min_date" does not apply to steps of type "text".'
    ]


def test_a_minimum_above_the_maximum_is_refused():
    doc = document(
        {"id": "n", "type": "number", "prompt": {"ja": "数"}, "validation": {"min": 5, "max": 1}}
    )
    assert codes(doc) == [("steps[0].validation", "invalid_range")]


def test_a_computed_bound_may_only_read_earlier_steps():
    doc = document({"id": "n", "type": "number", "prompt": {"ja": "数"},
                    "validation": {"max": {"var": "later"}}}, text_step("later"))  # fmt: skip
    assert codes(doc) == [("steps[0].validation.max", "unknown_var")]


def test_a_fee_that_is_not_an_amount_is_refused():
    doc = bulky()
    doc["fee"] = {"cat": [{"var": "count"}, "円"]}
    assert located(doc) == ['fee: The fee does not work out to an amount in yen (it gave "1円").']


def test_a_fee_referring_to_an_unknown_step_is_refused():
    doc = bulky()
    doc["fee"] = {"*": [{"var": "copies"}, 300]}
    assert located(doc) == ['fee: "fee" refers to unknown step "copies".']


def test_a_fee_dividing_by_zero_is_refused():
    doc = bulky()
    doc["fee"] = {"/": [{"var": "count"}, 0]}
    assert codes(doc) == [("fee", "invalid_fee")]


def test_a_prompt_without_the_primary_language_is_refused():
    doc = document({"id": "name", "type": "text", "prompt": {"en": "Name"}}, languages=["ja", "en"],
                   title={"ja": "テスト", "en": "Test"})  # fmt: skip
    assert located(doc) == [
        'steps[0] (id "name"): "prompt" has no text in the primary language "ja".'
    ]


def test_an_end_step_without_a_message_is_refused():
    doc = document(text_step(), {"id": "stop", "type": "end"})
    assert located(doc) == ['steps[1] (id "stop"): This step needs a "message".']


def test_a_question_without_a_prompt_is_refused():
    doc = document({"id": "name", "type": "text"})
    assert located(doc) == ['steps[0] (id "name"): "prompt" is required.']


def test_a_reservation_step_needs_a_resource():
    doc = document({"id": "slot", "type": "reservation", "prompt": {"ja": "日時"}})
    assert codes(doc) == [("steps[0].resource", "missing_resource")]
    assert located(doc) == [
        'steps[0] (id "slot"): Choose the reservation resource (facility) residents book '
        "in this step."
    ]


def test_a_reservation_step_bound_to_a_resource_is_accepted():
    doc = document(
        {"id": "slot", "type": "reservation", "prompt": {"ja": "日時"}, "resource": "gym"}
    )
    assert located(doc) == []


def test_an_option_value_with_the_postback_separator_is_refused():
    doc = bulky()
    doc["steps"][0]["options"][0]["value"] = "sofa|bed"
    assert codes(doc) == [("steps[0].options[0].value", "bad_form")]


def test_errors_come_in_document_order():
    doc = document(text_step("b", when={"var": "zz"}), text_step("b"), text_step("c", promt={}))
    assert [error.path for error in validate_document(doc)] == ["steps[2].promt"]
    doc = document(text_step("b", when={"var": "zz"}), text_step("b"))
    assert [error.path for error in validate_document(doc)] == ["steps[0].when", "steps[1].id"]


# --- warnings ------------------------------------------------------------------------------


def test_a_missing_translation_is_only_a_warning():
    doc = bulky()
    del doc["steps"][1]["prompt"]["en"]
    assert validate_document(doc) == []
    (warning,) = validate_document(doc, include_warnings=True)
    assert (warning.code, warning.severity, warning.path) == (
        "missing_translation", "warning", "steps[1].prompt",
    )  # fmt: skip


def test_steps_after_an_unconditional_end_are_warned_about():
    doc = document({"id": "stop", "type": "end", "message": {"ja": "終了"}}, text_step())
    assert codes(doc, include_warnings=True) == [("steps[1]", "unreachable_step")]


def test_options_on_a_text_step_are_warned_about():
    doc = document(text_step(options=[{"value": "a", "label": {"ja": "A"}}]))
    assert codes(doc, include_warnings=True) == [("steps[0].options", "options_ignored")]


def test_format_error_reads_as_a_located_sentence():
    error = FormatError(
        "steps[3].when", "photo", "unknown_var", '"when" refers to unknown step "itemz".'
    )
    assert error.located() == 'steps[3] (id "photo"): "when" refers to unknown step "itemz".'
    assert str(FormatError("fee", None, "invalid_fee", "Bad.")) == "fee: Bad."


# --- My Number ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "step",
    [
        text_step("num", prompt={"ja": "マイナンバーを入力してください"}),
        text_step("num", prompt={"ja": "ﾏｲﾅﾝﾊﾞｰを入力してください"}),
        text_step("num", prompt={"ja": "個 人 番 号（12桁）"}),
        text_step("num", prompt={"ja": "番号を入力", "en": "Enter your Individual Number"}),
        text_step("num", prompt={"ja": "番号"}, label={"ja": "個人番号"}),
        text_step("num", prompt={"ja": "番号"}, help={"ja": "マイナンバーカードの裏面の番号です"}),
        text_step("num", prompt={"ja": "番号"}, validation={"pattern": r"^\d{12}$"}),
        text_step("num", prompt={"ja": "番号"}, validation={"pattern": "[0-9]{12}"}),
        text_step("num", prompt={"ja": "番号"}, validation={"pattern": r"\d{4}-?\d{4}-?\d{4}"}),
        text_step("num", prompt={"ja": "番号"},
                  validation={"pattern": "[0-9]+", "min_length": 12, "max_length": 12}),
        {"id": "num", "type": "number", "prompt": {"ja": "番号"},
         "validation": {"min": 100000000000, "max": 999999999999}},
        text_step("my_number", prompt={"ja": "番号を入力してください"}),
        photo_step("マイナンバーカードの両面の写真を送ってください"),
        photo_step("マイナンバーカードの写真を送ってください"),
    ],
)  # fmt: skip
def test_a_step_asking_for_a_my_number_is_refused(step):
    doc = document(step)
    (error,) = my_number_violations(doc)
    assert (error.path, error.code) == ("steps[0]", "my_number")
    assert "my_number" in [code for _path, code in codes(doc)]


@pytest.mark.parametrize(
    "step",
    [
        {"id": "notice", "type": "message", "message": {"ja": "マイナンバーは送らないでください"}},
        text_step("comment", help={"ja": "氏名・マイナンバーなどは書かないでください。"}),
        text_step("comment", prompt={"ja": "ご意見をどうぞ。Do not include your My Number."}),
        {"id": "has_card", "type": "yes_no", "prompt": {"ja": "マイナンバーカードをお持ちですか"}},
        {"id": "include", "type": "choice", "prompt": {"ja": "個人番号の記載が必要ですか"},
         "options": [{"value": "no", "label": {"ja": "不要"}},
                     {"value": "yes", "label": {"ja": "必要"}}]},
        photo_step("マイナンバーカードの表面の写真を送ってください"),
        text_step("code", prompt={"ja": "受付コード"},
                  validation={"min_length": 12, "max_length": 12}),
        text_step("tel", prompt={"ja": "番号"}, validation={"pattern": r"\d{10,12}"}),
        {"id": "phone", "type": "phone", "prompt": {"ja": "電話番号"}},
    ],
)  # fmt: skip
def test_a_step_that_does_not_ask_for_a_my_number_is_not_refused(step):
    assert my_number_violations(document(step)) == []


def test_the_juminhyo_corpus_mentions_my_number_without_collecting_it():
    doc = load_corpus("juminhyo-by-mail")
    assert my_number_violations(doc) == []
    broken = copy.deepcopy(doc)
    broken["steps"][5] = text_step("my_no", prompt={"ja": "マイナンバーを入力してください"})
    assert [error.step_id for error in my_number_violations(broken)] == ["my_no"]


def test_my_number_check_tolerates_a_malformed_document():
    assert my_number_violations({"steps": [1, {"type": "text"}, {"id": "x", "type": "nope"}]}) == []
    assert my_number_violations([]) == []


def test_validate_document_tolerates_any_json():
    for value in (None, 1, "x", [], {"steps": "no"}, json.loads('{"format": 1}')):
        assert validate_document(value)
