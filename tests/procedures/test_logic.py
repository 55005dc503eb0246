import pytest

from procedures import logic


def test_evaluate_reads_answers_by_step_id():
    assert logic.evaluate({"==": [{"var": "kind"}, "sofa"]}, {"kind": "sofa"}) is True


def test_length_of_a_multi_choice_answer_works_as_in_javascript():
    rule = {"*": [{"var": "items.length"}, 500]}
    assert logic.evaluate(rule, {"items": ["sofa", "bed", "desk"]}) == 1500


def test_length_of_a_missing_answer_is_none():
    assert logic.evaluate({"var": "items.length"}, {}) is None


def test_in_finds_an_option_in_a_multi_choice_answer():
    assert logic.is_true({"in": ["other", {"var": "items"}]}, {"items": ["sofa", "other"]})
    assert not logic.is_true({"in": ["other", {"var": "items"}]}, {"items": ["sofa"]})


def test_in_on_a_skipped_answer_is_false():
    assert not logic.is_true({"in": ["other", {"var": "items"}]}, {})


def test_strict_equality_still_works_for_list_answers_with_length():
    rule = {"and": [{"===": [{"var": "name"}, "abc"]}, {"==": [{"var": "items.length"}, 1]}]}
    assert logic.is_true(rule, {"name": "abc", "items": ["x"]})


def test_a_failing_operator_evaluates_to_none_instead_of_raising():
    assert logic.evaluate({"/": [1, 0]}) is None
    assert logic.evaluate({"*": [{"var": "name"}, 2]}, {"name": "abc"}) is None


def test_an_empty_list_is_truthy_like_in_javascript():
    assert logic.is_true({"var": "items"}, {"items": []})


@pytest.mark.parametrize(
    ("rule", "answers", "fee"),
    [
        ({"*": [{"var": "copies"}, 300]}, {"copies": 3}, 900),
        ({"*": [{"var": "copies"}, 300]}, {}, 0),
        ({"*": [{"var": "price"}, 1.1]}, {"price": 1000}, 1100),
        ({"*": [{"var": "count"}, 0.29, 100]}, {"count": 1}, 29),
        ({"/": [1000, 3]}, {}, 333),
        ({"-": [0, 500]}, {}, 0),
        ({"cat": ["a", "b"]}, {}, 0),
        (True, {}, 0),
        (500, {}, 500),
    ],
)
def test_fee_is_int_yen_with_fractions_dropped(rule, answers, fee):
    result = logic.evaluate_fee(rule, answers)
    assert result == fee
    assert type(result) is int


def test_referenced_vars_finds_vars_in_nested_rules():
    rule = {"and": [{">": [{"var": "count"}, 10]}, {"in": ["x", {"var": ["items", []]}]}]}
    assert logic.referenced_vars(rule) == {"count", "items"}


def test_referenced_vars_includes_missing_and_missing_some():
    rule = {"or": [{"missing": ["a", "b"]}, {"missing_some": [1, ["c", "d"]]}]}
    assert logic.referenced_vars(rule) == {"a", "b", "c", "d"}


def test_referenced_vars_ignores_variables_scoped_to_reduce():
    rule = {
        "reduce": [
            {"var": "items"},
            {"+": [{"var": "accumulator"}, {"var": "current"}]},
            {"var": "start"},
        ]
    }
    assert logic.referenced_vars(rule) == {"items", "start"}


def test_check_rule_accepts_a_valid_rule():
    assert logic.check_rule({"if": [{">": [{"var": "n"}, 3]}, 100, 0]}) == []


def test_check_rule_refuses_an_unknown_operator():
    assert logic.check_rule({"and": [{"similar": [1, 2]}]}) == ['unknown operator "similar"']


def test_check_rule_refuses_server_clock_operators():
    assert logic.check_rule({"<": [{"var": "d"}, {"today": []}]}) == ['unknown operator "today"']


def test_check_rule_refuses_an_object_with_two_operators():
    assert "exactly one operator" in logic.check_rule({"==": [1, 1], "!=": [1, 2]})[0]


def test_check_rule_refuses_a_computed_variable_name():
    assert "literal" in logic.check_rule({"var": {"cat": ["a", "b"]}})[0]
