"""The builder's condition editor ↔ JSON Logic (pure functions, no database).

A designer writes "ask this step when [step] [is / is not / includes / > / < / is
answered] [value]", several such rules combined with all/any. That editor model is::

    {"mode": "simple", "combine": "all" | "any",
     "rules": [{"step": "purpose", "op": "is", "value": "other"}, …]}

and is stored in the document as the step's ``when`` (JSON Logic). Any rule the editor
cannot show (hand-written logic, imported templates) becomes
``{"mode": "advanced", "logic": <rule>}`` and is kept exactly as it is.

Only operators that behave the same in Python and json-logic-js are written: "is
answered" is ``!==`` against null, because the loose ``!=`` treats ``false`` and null
alike in Python but not in JavaScript, and a yes/no answered "no" is still answered.
"""

from __future__ import annotations

from typing import Any

SIMPLE = "simple"
ADVANCED = "advanced"
COMBINATIONS = {"all": "and", "any": "or"}

# op → JSON Logic operator; the variable goes first except for "includes".
OPERATORS = {
    "is": "==",
    "is_not": "!=",
    "includes": "in",
    "gt": ">",
    "lt": "<",
    "answered": "!==",
}
_OP_BY_OPERATOR = {operator: op for op, operator in OPERATORS.items()}

Scalar = str | int | float | bool


def empty_condition() -> dict[str, Any]:
    """The model of a step that is always asked."""
    return {"mode": SIMPLE, "combine": "all", "rules": []}


def rule_to_logic(rule: dict[str, Any]) -> dict[str, Any]:
    """One editor rule as JSON Logic; ValueError for an unknown operator or a bad rule."""
    op, step = rule.get("op"), rule.get("step")
    if op not in OPERATORS:
        raise ValueError(f"unknown condition operator {op!r}")
    if not isinstance(step, str) or not step:
        raise ValueError("a condition needs a step")
    variable = {"var": step}
    if op == "answered":
        return {"!==": [variable, None]}
    value = rule.get("value")
    if isinstance(value, list | dict) or value is None:
        raise ValueError(f"a condition compares with one value, not {value!r}")
    if op == "includes":
        return {"in": [value, variable]}
    return {OPERATORS[op]: [variable, value]}


def condition_to_logic(condition: dict[str, Any] | None) -> Any:
    """The ``when`` for an editor model; None when the step is always asked.

    One rule is written on its own; several are wrapped in ``and`` (all) or ``or`` (any).
    Advanced models return their logic unchanged.
    """
    if not condition:
        return None
    if condition.get("mode") == ADVANCED:
        return condition.get("logic")
    rules = [rule_to_logic(rule) for rule in condition.get("rules") or []]
    if not rules:
        return None
    if len(rules) == 1:
        return rules[0]
    combine = condition.get("combine", "all")
    if combine not in COMBINATIONS:
        raise ValueError(f"unknown combination {combine!r}")
    return {COMBINATIONS[combine]: rules}


def _variable(term: Any) -> str | None:
    if isinstance(term, dict) and len(term) == 1 and isinstance(term.get("var"), str):
        return term["var"] or None
    return None


def _is_scalar(value: Any) -> bool:
    return isinstance(value, Scalar)


def logic_to_rule(logic: Any) -> dict[str, Any] | None:
    """The editor rule for one JSON Logic comparison, or None when it is not one."""
    if not isinstance(logic, dict) or len(logic) != 1:
        return None
    ((operator, args),) = logic.items()
    op = _OP_BY_OPERATOR.get(operator)
    if op is None or not isinstance(args, list) or len(args) != 2:
        return None
    if op == "includes":
        value, step = args[0], _variable(args[1])
    else:
        step, value = _variable(args[0]), args[1]
    if step is None:
        return None
    if op == "answered":
        return {"step": step, "op": op, "value": None} if value is None else None
    if not _is_scalar(value):
        return None
    return {"step": step, "op": op, "value": value}


def logic_to_condition(logic: Any) -> dict[str, Any]:
    """The editor model for a step's ``when`` (absent → always asked).

    Anything the simple editor cannot show exactly becomes an advanced model, so that
    ``condition_to_logic(logic_to_condition(x)) == x`` for every ``x``.
    """
    if logic is None:
        return empty_condition()
    single = logic_to_rule(logic)
    if single is not None:
        return {"mode": SIMPLE, "combine": "all", "rules": [single]}
    if isinstance(logic, dict) and len(logic) == 1:
        ((operator, args),) = logic.items()
        combine = next((name for name, op in COMBINATIONS.items() if op == operator), None)
        if combine and isinstance(args, list) and len(args) >= 2:
            rules = [logic_to_rule(arg) for arg in args]
            if all(rule is not None for rule in rules):
                return {"mode": SIMPLE, "combine": combine, "rules": rules}
    return {"mode": ADVANCED, "logic": logic}
