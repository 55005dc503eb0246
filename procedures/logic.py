"""JSON Logic for procedure documents: conditions (`when`), fees and computed bounds.

A thin layer over maykin-json-logic-py that fixes what a portable format needs:

- Only operators that behave the same in json-logic-js (the browser preview) and in
  Python are allowed (`KNOWN_OPERATORS`). Server-clock or side-effect operators such as
  `today` and `log` are refused, so a rule gives the same answer everywhere.
- Variables are answers keyed by step id. A dotted path reads a field of an answer:
  `location.latitude`, `items.0`, and `items.length` (the number of selected options,
  or of characters in a text) — `length` works as it does in JavaScript.
- `evaluate` never raises: an operator error (division by zero, a type mismatch) yields
  `None`, which callers treat as "false" for conditions and "no amount" for fees.
- `evaluate_fee` turns the float that arithmetic produces into int yen. Fractions of a
  yen are dropped (切り捨て), as 国等の債権債務等の金額の端数計算に関する法律 §2 does
  for public money; the value is first rounded to 6 decimals so that float noise such
  as 28.999999999999996 still counts as 29.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from json_logic import jsonLogic

logger = logging.getLogger(__name__)

KNOWN_OPERATORS: frozenset[str] = frozenset(
    {
        "var", "missing", "missing_some",
        "if", "?:", "==", "===", "!=", "!==", "!", "!!", "and", "or",
        ">", ">=", "<", "<=", "in", "cat",
        "+", "-", "*", "/", "%", "min", "max",
        "merge", "map", "reduce",
    }
)  # fmt: skip

# Operators whose second argument is evaluated against each element (`current`,
# `accumulator`), not against the answers: their variables are not step references.
SCOPED_OPERATORS: frozenset[str] = frozenset({"map", "reduce"})


def _resolve(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for key in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def _with_lengths(rule: Any, data: dict[str, Any]) -> Any:
    """Rewrite `{"var": "x.length"}` to read a precomputed length, as JavaScript would.

    maykin-json-logic-py cannot read `.length` of a list; rewriting the rule keeps the
    answers plain JSON values (so `===` and `in` behave as usual).
    """
    if isinstance(rule, list):
        return [_with_lengths(item, data) for item in rule]
    if not isinstance(rule, dict) or len(rule) != 1:
        return rule
    ((operator, args),) = rule.items()
    if operator == "var":
        name = args[0] if isinstance(args, list) and args else args
        if isinstance(name, str) and name.endswith(".length"):
            target = _resolve(data, name.removesuffix(".length"))
            key = f"__length_{len(data)}"
            data[key] = len(target) if isinstance(target, list | str) else None
            rest = args[1:] if isinstance(args, list) else []
            return {"var": [key, *rest]}
        return rule
    if operator in SCOPED_OPERATORS and isinstance(args, list) and args:
        return {operator: [_with_lengths(args[0], data), *args[1:]]}
    return {operator: _with_lengths(args, data)}


def evaluate(rule: Any, data: Mapping[str, Any] | None = None) -> Any:
    """Evaluate `rule` over `data` (answers by step id); `None` when the rule fails."""
    values = dict(data or {})
    try:
        return jsonLogic(_with_lengths(rule, values), values)
    except Exception:  # any operator error means "no value"
        logger.debug("JSON Logic rule failed: %r", rule, exc_info=True)
        return None


def is_true(rule: Any, data: Mapping[str, Any] | None = None) -> bool:
    """JavaScript truthiness of the rule's value (an empty list is truthy there)."""
    value = evaluate(rule, data)
    if isinstance(value, list | dict):
        return True
    return bool(value)


def evaluate_fee(rule: Any, data: Mapping[str, Any] | None = None) -> int:
    """The fee in int yen: fractions dropped, negative or non-numeric results are 0."""
    value = evaluate(rule, data)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if not math.isfinite(value) or value <= 0:
        return 0
    return math.floor(round(value, 6))


def referenced_vars(rule: Any) -> set[str]:
    """Every literal variable path the rule reads from the answers."""
    found: set[str] = set()
    _collect_vars(rule, found)
    return found


def _collect_vars(rule: Any, found: set[str]) -> None:
    if isinstance(rule, list):
        for item in rule:
            _collect_vars(item, found)
        return
    if not isinstance(rule, dict) or len(rule) != 1:
        return
    ((operator, args),) = rule.items()
    args_list = args if isinstance(args, list) else [args]
    if operator == "var":
        if args_list and isinstance(args_list[0], str | int):
            found.add(str(args_list[0]))
        _collect_vars(args_list[1:], found)
    elif operator == "missing":
        names = args_list[0] if args_list and isinstance(args_list[0], list) else args_list
        found.update(str(name) for name in names if isinstance(name, str))
    elif operator == "missing_some":
        if len(args_list) > 1 and isinstance(args_list[1], list):
            found.update(str(name) for name in args_list[1] if isinstance(name, str))
    elif operator in SCOPED_OPERATORS:
        _collect_vars(args_list[:1], found)
        _collect_vars(args_list[2:], found)
    else:
        _collect_vars(args_list, found)


def check_rule(rule: Any) -> list[str]:
    """Problems with the rule's shape, as short English descriptions (empty: fine)."""
    problems: list[str] = []
    _check(rule, problems)
    return problems


def _check(rule: Any, problems: list[str]) -> None:
    if isinstance(rule, list):
        for item in rule:
            _check(item, problems)
        return
    if not isinstance(rule, dict):
        return
    if len(rule) != 1:
        keys = ", ".join(sorted(map(str, rule))) or "none"
        problems.append(f"an operation must have exactly one operator (found: {keys})")
        return
    ((operator, args),) = rule.items()
    if operator not in KNOWN_OPERATORS:
        problems.append(f'unknown operator "{operator}"')
        return
    if operator == "var":
        _check_var(args, problems)
    _check(args, problems)


def _check_var(args: Any, problems: list[str]) -> None:
    name = args[0] if isinstance(args, list) and args else args
    if isinstance(args, list) and not args:
        problems.append('"var" needs a variable name')
    elif not isinstance(name, str | int) or isinstance(name, bool):
        problems.append('"var" needs a literal variable name, not an expression')
