"""The condition and fee editors' models ↔ JSON Logic (pure functions)."""

import pytest

from procedures import logic
from procedures.builder.conditions import (
    OPERATORS,
    condition_to_logic,
    empty_condition,
    logic_to_condition,
)
from procedures.builder.fees import fee_to_logic, logic_to_fee
from procedures.builder.state import document_from_state, editor_state
from tests.procedures.conftest import CORPUS_DIR, load_corpus

RULES = {
    "is": (
        {"step": "purpose", "op": "is", "value": "other"},
        {"==": [{"var": "purpose"}, "other"]},
    ),
    "is_not": (
        {"step": "purpose", "op": "is_not", "value": "work"},
        {"!=": [{"var": "purpose"}, "work"]},
    ),
    "includes": (
        {"step": "items", "op": "includes", "value": "sofa"},
        {"in": ["sofa", {"var": "items"}]},
    ),
    "gt": ({"step": "copies", "op": "gt", "value": 3}, {">": [{"var": "copies"}, 3]}),
    "lt": ({"step": "copies", "op": "lt", "value": 2}, {"<": [{"var": "copies"}, 2]}),
    "answered": (
        {"step": "email", "op": "answered", "value": None},
        {"!==": [{"var": "email"}, None]},
    ),
}


def simple(*rules, combine="all"):
    return {"mode": "simple", "combine": combine, "rules": list(rules)}


def test_every_operator_of_the_editor_is_covered_here():
    assert set(RULES) == set(OPERATORS)


@pytest.mark.parametrize("op", sorted(RULES))
def test_each_operator_round_trips_to_json_logic_and_back(op):
    rule, expected = RULES[op]

    written = condition_to_logic(simple(rule))

    assert written == expected
    assert logic_to_condition(written) == simple(rule)
    assert logic.check_rule(written) == []


@pytest.mark.parametrize("combine, operator", [("all", "and"), ("any", "or")])
def test_several_rules_are_combined_with_all_or_any(combine, operator):
    rules = [RULES["is"][0], RULES["gt"][0], RULES["answered"][0]]

    written = condition_to_logic(simple(*rules, combine=combine))

    assert written == {operator: [RULES["is"][1], RULES["gt"][1], RULES["answered"][1]]}
    assert logic_to_condition(written) == simple(*rules, combine=combine)


@pytest.mark.parametrize("value", [True, False, 0, 2.5, "", "その他"])
def test_values_keep_their_json_type(value):
    rule = {"step": "answer", "op": "is", "value": value}

    assert logic_to_condition(condition_to_logic(simple(rule))) == simple(rule)


def test_a_step_without_rules_has_no_condition():
    assert condition_to_logic(empty_condition()) is None
    assert condition_to_logic(None) is None
    assert logic_to_condition(None) == empty_condition()


@pytest.mark.parametrize(
    "rule",
    [
        {"if": [{"var": "a"}, True, False]},
        {"and": [{"==": [{"var": "a"}, 1]}, {"or": [{"var": "b"}, {"var": "c"}]}]},
        {"==": [{"var": ["a", "default"]}, 1]},
        {"==": [{"var": "a"}, {"var": "b"}]},
        {"!==": [{"var": "a"}, 0]},
        {"in": ["x", ["x", "y"]]},
        True,
    ],
)
def test_rules_the_simple_editor_cannot_show_are_kept_as_advanced(rule):
    model = logic_to_condition(rule)

    assert model == {"mode": "advanced", "logic": rule}
    assert condition_to_logic(model) == rule


def test_is_answered_counts_a_no_as_an_answer_in_python_as_in_javascript():
    written = condition_to_logic(simple(RULES["answered"][0]))

    assert logic.is_true(written, {"email": False}) is True
    assert logic.is_true(written, {"email": "a@example.jp"}) is True
    assert logic.is_true(written, {}) is False


def test_the_other_text_is_asked_only_when_other_is_picked():
    written = condition_to_logic(simple(RULES["is"][0]))

    assert logic.is_true(written, {"purpose": "other"}) is True
    assert logic.is_true(written, {"purpose": "work"}) is False


def test_an_unknown_operator_is_refused():
    with pytest.raises(ValueError):
        condition_to_logic(simple({"step": "a", "op": "matches", "value": "x"}))


FEES = [
    ({"mode": "fixed", "amount": 300, "quantity": ""}, 300),
    (
        {"mode": "fixed", "amount": 300, "quantity": "copies"},
        {"*": [{"var": "copies"}, 300]},
    ),
    (
        {
            "mode": "per_option",
            "step": "kind",
            "match": "is",
            "amounts": [{"value": "a", "amount": 300}, {"value": "b", "amount": 450}],
            "quantity": "",
        },
        {"if": [{"==": [{"var": "kind"}, "a"]}, 300, {"==": [{"var": "kind"}, "b"]}, 450, 0]},
    ),
    (
        {
            "mode": "per_option",
            "step": "items",
            "match": "includes",
            "amounts": [{"value": "sofa", "amount": 1000}, {"value": "desk", "amount": 500}],
            "quantity": "count",
        },
        {
            "*": [
                {"var": "count"},
                {
                    "+": [
                        {"if": [{"in": ["sofa", {"var": "items"}]}, 1000, 0]},
                        {"if": [{"in": ["desk", {"var": "items"}]}, 500, 0]},
                    ]
                },
            ]
        },
    ),
]


@pytest.mark.parametrize("model, expected", FEES)
def test_fee_rules_round_trip_to_json_logic_and_back(model, expected):
    assert fee_to_logic(model) == expected
    assert logic_to_fee(expected) == model


def test_fee_rules_compute_the_amount():
    assert logic.evaluate_fee(fee_to_logic(FEES[1][0]), {"copies": 2}) == 600
    assert logic.evaluate_fee(fee_to_logic(FEES[2][0]), {"kind": "b"}) == 450
    answers = {"items": ["sofa", "desk"], "count": 2}
    assert logic.evaluate_fee(fee_to_logic(FEES[3][0]), answers) == 3000


def test_no_fee_and_unknown_fee_rules():
    assert fee_to_logic({"mode": "none"}) is None
    assert logic_to_fee(None) == {"mode": "none"}
    odd = {"max": [{"var": "a"}, 100]}
    assert logic_to_fee(odd) == {"mode": "advanced", "logic": odd}
    assert fee_to_logic(logic_to_fee(odd)) == odd


@pytest.mark.parametrize("name", sorted(p.stem for p in CORPUS_DIR.glob("*.json")))
def test_every_starter_procedure_survives_the_builder_unchanged(name):
    document = load_corpus(name)

    assert document_from_state(editor_state(document)) == document


def test_empty_translations_typed_into_the_builder_are_dropped():
    state = editor_state(load_corpus("juminhyo-by-mail"))
    state["steps"][2]["help"] = {"ja": "", "en": "  "}
    state["description"] = {"ja": ""}

    document = document_from_state(state)

    assert "help" not in document["steps"][2]
    assert "description" not in document
