"""The builder's fee editor ↔ JSON Logic (pure functions, no database).

Editor models, all with an optional ``quantity`` (the id of a number step whose answer
multiplies the amount, e.g. the number of copies):

- ``{"mode": "none"}`` — no fee (the document has no ``fee``).
- ``{"mode": "fixed", "amount": 300, "quantity": "copies"}`` → ``{"*": [{"var":
  "copies"}, 300]}`` (just ``300`` without a quantity).
- ``{"mode": "per_option", "step": "kind", "match": "is", "amounts": [{"value": "a",
  "amount": 300}, …]}`` — one amount per option of a choice step (``if`` chain), or with
  ``"match": "includes"`` the sum of the amounts of the options picked in a
  multi_choice step.
- ``{"mode": "advanced", "logic": <rule>}`` — anything else, kept as it is.
"""

from __future__ import annotations

from typing import Any

NONE, FIXED, PER_OPTION, ADVANCED = "none", "fixed", "per_option", "advanced"


def _amount(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"an amount must be a number, not {value!r}")
    return value


def _per_option_logic(model: dict[str, Any]) -> dict[str, Any]:
    step = model.get("step")
    if not isinstance(step, str) or not step:
        raise ValueError("amounts per option need a choice step")
    pairs = [(row["value"], _amount(row["amount"])) for row in model.get("amounts") or []]
    variable = {"var": step}
    if model.get("match") == "includes":
        return {"+": [{"if": [{"in": [value, variable]}, amount, 0]} for value, amount in pairs]}
    chain: list[Any] = []
    for value, amount in pairs:
        chain += [{"==": [variable, value]}, amount]
    return {"if": [*chain, 0]}


def fee_to_logic(model: dict[str, Any] | None) -> Any:
    """The document's ``fee`` for an editor model; None means "no fee" (omit the key)."""
    mode = (model or {}).get("mode", NONE)
    if mode == NONE:
        return None
    if mode == ADVANCED:
        return model.get("logic")
    if mode == FIXED:
        amount: Any = _amount(model.get("amount", 0))
    elif mode == PER_OPTION:
        amount = _per_option_logic(model)
    else:
        raise ValueError(f"unknown fee mode {mode!r}")
    quantity = model.get("quantity")
    return {"*": [{"var": quantity}, amount]} if quantity else amount


def _variable(term: Any) -> str | None:
    if isinstance(term, dict) and len(term) == 1 and isinstance(term.get("var"), str):
        return term["var"] or None
    return None


def _is_amount(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _if_chain(logic: Any) -> dict[str, Any] | None:
    args = logic.get("if") if isinstance(logic, dict) and len(logic) == 1 else None
    if not isinstance(args, list) or len(args) < 3 or len(args) % 2 == 0 or args[-1] != 0:
        return None
    step, amounts = None, []
    for test, amount in zip(args[:-1:2], args[1:-1:2], strict=True):
        compare = test.get("==") if isinstance(test, dict) and len(test) == 1 else None
        if not isinstance(compare, list) or len(compare) != 2 or not _is_amount(amount):
            return None
        name, value = _variable(compare[0]), compare[1]
        if name is None or (step and name != step) or not isinstance(value, str):
            return None
        step = name
        amounts.append({"value": value, "amount": amount})
    return {"mode": PER_OPTION, "step": step, "match": "is", "amounts": amounts}


def _includes_sum(logic: Any) -> dict[str, Any] | None:
    terms = logic.get("+") if isinstance(logic, dict) and len(logic) == 1 else None
    if not isinstance(terms, list) or not terms:
        return None
    step, amounts = None, []
    for term in terms:
        args = term.get("if") if isinstance(term, dict) and len(term) == 1 else None
        if not isinstance(args, list) or len(args) != 3 or args[2] != 0:
            return None
        test = args[0].get("in") if isinstance(args[0], dict) and len(args[0]) == 1 else None
        if not isinstance(test, list) or len(test) != 2 or not _is_amount(args[1]):
            return None
        name, value = _variable(test[1]), test[0]
        if name is None or (step and name != step) or not isinstance(value, str):
            return None
        step = name
        amounts.append({"value": value, "amount": args[1]})
    return {"mode": PER_OPTION, "step": step, "match": "includes", "amounts": amounts}


def _amount_model(logic: Any) -> dict[str, Any] | None:
    if _is_amount(logic):
        return {"mode": FIXED, "amount": logic}
    return _if_chain(logic) or _includes_sum(logic)


def logic_to_fee(logic: Any) -> dict[str, Any]:
    """The editor model for a document's ``fee`` (None: no fee); advanced when unknown."""
    if logic is None:
        return {"mode": NONE}
    factors = logic.get("*") if isinstance(logic, dict) and len(logic) == 1 else None
    if isinstance(factors, list) and len(factors) == 2 and _variable(factors[0]):
        inner = _amount_model(factors[1])
        if inner is not None:
            return {**inner, "quantity": _variable(factors[0])}
    model = _amount_model(logic)
    if model is not None:
        return {**model, "quantity": ""}
    return {"mode": ADVANCED, "logic": logic}
