"""Bounds on JSON that comes from outside: nesting depth, and text that cannot be kept.

``json.loads`` recurses in C: a body nested a thousand levels deep raises RecursionError
(a 500), and one a few hundred deep parses but then breaks whatever walks it next (JSON
Schema validation, JSON Logic, ``json.dumps``). A lone UTF-16 surrogate parses but
cannot be encoded to UTF-8, so the page that shows it back fails. Everything parsed
from a request, an upload or a command goes through :func:`loads_bounded`.
"""

import json
import re
from typing import Any

from django.utils.translation import gettext as _

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRefused(ValueError):
    """Valid JSON we still do not take; the message says why and can be shown."""


def loads_bounded(
    text: str | bytes, *, max_depth: int, lone_surrogates: bool = False, **options: Any
) -> Any:
    """``json.loads(text, **options)``, refusing nesting deeper than ``max_depth``.

    Raises ``json.JSONDecodeError`` for text that is not JSON and :class:`JsonRefused`
    (both ValueError) for JSON nested too deeply or, unless ``lone_surrogates`` (the
    caller replaces them), holding a lone surrogate.
    """
    try:
        value = json.loads(text, **options)
    except RecursionError:
        raise JsonRefused(_too_deep(max_depth)) from None
    problem = shape_problem(value, max_depth=max_depth, lone_surrogates=lone_surrogates)
    if problem:
        raise JsonRefused(problem)
    return value


def shape_problem(value: Any, *, max_depth: int, lone_surrogates: bool = False) -> str | None:
    """Why ``value`` (parsed JSON) is refused, or None. Iterative: no recursion to exhaust."""
    surrogate = None if lone_surrogates else LONE_SURROGATE
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list) and depth > max_depth:
            return _too_deep(max_depth)
        if isinstance(item, dict):
            if surrogate and any(surrogate.search(key) for key in item):
                return _unreadable()
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif surrogate and isinstance(item, str) and surrogate.search(item):
            return _unreadable()
    return None


def _too_deep(max_depth: int) -> str:
    return _("The JSON is nested more than %(depth)d levels deep.") % {"depth": max_depth}


def _unreadable() -> str:
    return _("The JSON contains a character that is not valid text (a lone surrogate).")
