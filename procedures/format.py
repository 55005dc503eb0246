"""The portable procedure format `govtech.procedure.v1`: loading and checking documents.

`validate_document` runs the JSON Schema (`procedures/schema/procedure.v1.json`) and,
when the shape is right, the checks a schema cannot express. Every problem is a
`FormatError` located by path (`steps[3].when`) and step id, with a machine `code` and
a translated message. Import and publish refuse a document with any error; warnings
(`include_warnings=True`) are shown to the designer but do not block.

Decisions:
- Variables (`{"var": …}`) in `when` and in computed `validation` bounds may only read
  answers of EARLIER question steps; `fee` may read any question step. A dotted path
  reads a field of an answer, only where the step type offers it: `items.length` and
  `items.0` (multi_choice), `comment.length` (text), `place.latitude` / `.longitude` /
  `.address` / `.title` (location), `photo.ref` / `.content_type` (image).
- Only JSON Logic operators that json-logic-js also has are allowed (see `logic`).
- Texts missing in the primary language (the first of `languages`, default "ja") are
  errors; texts missing in another listed language are warnings (the engine falls back
  to Japanese), as are texts in languages not listed.
- The document may hold at most one `confirm` step and it must be the last step.
- A step that asks for a My Number is an error (`my_number_violations`).
- What a step binds in the municipality (a reservation step's `resource`) means nothing
  in the document alone: the checks against a municipality are the step type's binding
  (`procedures.steptypes`), which `procedures.selectors.document_problems` adds.
- The schema accepts every registered step type and kind: a type registered in code
  (with the fields it declares in `StepType.schema_fields`) or a kind with a submit
  effect needs no edit of the JSON file.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from django.utils.translation import gettext as _

from govtech.jsonlimits import LONE_SURROGATE, loads_bounded
from procedures import logic
from procedures.engine.steps import StepType, registered_types, step_type

FORMAT = "govtech.procedure.v1"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "procedure.v1.json"
PRIMARY_LANGUAGE = "ja"


@dataclass(frozen=True)
class FormatError:
    """One problem in a document. `path` is like `steps[3].when`; `step_id` may be None."""

    path: str
    step_id: str | None
    code: str
    message: str
    severity: str = "error"  # or "warning"

    def located(self) -> str:
        """E.g. `steps[3] (id "photo"): "when" refers to unknown step "itemz".`"""
        where = self.path
        match = re.match(r"^steps\[\d+\]", self.path)
        if match and self.step_id:
            where = f'{match.group(0)} (id "{self.step_id}")'
        return f"{where}: {self.message}" if where else self.message

    def __str__(self) -> str:
        return self.located()


class DocumentError(ValueError):
    """The text is not a JSON document; `errors` says where."""

    def __init__(self, errors: list[FormatError]):
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


MAX_DOCUMENT_DEPTH = 64  # a real document nests about 12 levels (steps → when → and → …)


def load_document(text: str) -> dict[str, Any]:
    """Parse JSON text into a document; DocumentError (located) when it is not one.

    Refuses duplicate keys, NaN/Infinity, nesting deeper than MAX_DOCUMENT_DEPTH and lone
    surrogates before anything walks the document (those once raised RecursionError or
    failed the page that showed the error).
    """

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        document = dict(pairs)
        if len(document) < len(pairs):
            seen: set[str] = set()
            twice = next(key for key, _value in pairs if key in seen or seen.add(key))
            raise ValueError(_('The key "%(key)s" appears twice.') % {"key": twice})
        return document

    def no_constant(name: str) -> Any:
        raise ValueError(_("%(name)s is not allowed in a document.") % {"name": name})

    try:
        document = loads_bounded(
            text,
            max_depth=MAX_DOCUMENT_DEPTH,
            object_pairs_hook=no_duplicates,
            parse_constant=no_constant,
        )
    except json.JSONDecodeError as problem:
        where = _("line %(line)d, column %(column)d") % {
            "line": problem.lineno,
            "column": problem.colno,
        }
        raise DocumentError([FormatError(where, None, "invalid_json", problem.msg)]) from None
    except ValueError as problem:
        message = LONE_SURROGATE.sub("\ufffd", str(problem))
        raise DocumentError([FormatError("", None, "invalid_json", message)]) from None
    if not isinstance(document, dict):
        message = _("A procedure document must be a JSON object.")
        raise DocumentError([FormatError("", None, "invalid_json", message)])
    return document


_extra_kinds: set[str] = set()


def procedure_kind_register(name: str) -> None:
    """Accept ``name`` as a procedure ``kind`` (procedures.steptypes calls it for a kind
    with a submit effect)."""
    _extra_kinds.add(name)


def schema() -> dict[str, Any]:
    """The JSON Schema: the file, widened to every registered step type and kind."""
    return _schema(tuple(registered_types()), tuple(sorted(_extra_kinds)))


@cache
def _schema(types: tuple[str, ...], kinds: tuple[str, ...]) -> dict[str, Any]:
    document = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    kind_enum = document["properties"]["kind"]["enum"]
    kind_enum.extend(kind for kind in kinds if kind not in kind_enum)
    step = document["$defs"]["step"]
    type_enum = step["properties"]["type"]["enum"]
    for name in types:
        if name in type_enum:
            continue
        type_enum.append(name)
        kind = step_type(name)
        step["properties"].update(kind.schema_fields)
        if kind.required_fields:
            rule = {"properties": {"type": {"const": name}}}
            step["allOf"].append({"if": rule, "then": {"required": list(kind.required_fields)}})
    return document


def validate_document(
    doc: Any, *, include_warnings: bool = False, extra: Iterable[FormatError] = ()
) -> list[FormatError]:
    """Every error in `doc` (and warnings if asked), in document order. Empty: valid.

    The document is checked as a portable one; `extra` are problems found elsewhere (the
    step bindings' checks against a municipality), sorted in with the rest.
    """
    problems = _schema_errors(doc)
    if not problems:
        problems = list(_semantic_problems(doc)) + my_number_violations(doc)
    problems += list(extra)
    if not include_warnings:
        problems = [problem for problem in problems if problem.severity == "error"]
    return sorted(problems, key=lambda p: _sort_key(p.path))


def _sort_key(path: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"[\[\].]+", path)]


# --- schema -----------------------------------------------------------------------


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _step_id_at(doc: Any, parts: list[Any]) -> str | None:
    if len(parts) >= 2 and parts[0] == "steps" and isinstance(parts[1], int):
        step = doc["steps"][parts[1]]
        if isinstance(step, dict) and isinstance(step.get("id"), str):
            return step["id"]
    return None


def _schema_errors(doc: Any) -> list[FormatError]:
    validator = jsonschema.Draft202012Validator(schema())
    problems = []
    for error in validator.iter_errors(doc):
        parts = list(error.absolute_path)
        code, message, parts = _describe(error, parts)
        problems.append(FormatError(_path(parts), _step_id_at(doc, parts), code, message))
    return problems


def _describe(error: jsonschema.ValidationError, parts: list[Any]) -> tuple[str, str, list]:
    kind, instance = error.validator, error.instance
    if kind == "required":
        missing = next(n for n in error.validator_value if n not in instance)
        found = _missing_field_message(instance, missing)
        if found is not None:
            return f"missing_{missing}", found, [*parts, missing]
        return "missing_field", _('"%(field)s" is required.') % {"field": missing}, parts
    if kind == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extra = sorted(set(instance) - known)[0]
        message = _('Unknown field "%(field)s"; check its spelling.') % {"field": extra}
        return "unknown_field", message, [*parts, extra]
    if kind in {"enum", "const"}:
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        message = _('"%(value)s" is not allowed here; use one of: %(allowed)s.') % {
            "value": instance,
            "allowed": ", ".join(map(str, allowed)),
        }
        return "not_allowed", message, parts
    if kind == "minItems" and parts == ["steps"]:
        return "no_steps", _("A procedure needs at least one step."), parts
    if kind == "pattern":
        message = _('"%(value)s" is not in the required form (%(pattern)s).') % {
            "value": instance,
            "pattern": error.validator_value,
        }
        return "bad_form", message, parts
    if kind == "anyOf":
        return "missing_field", _('This step needs a "message".'), parts
    return f"schema_{kind}", _("Invalid value: %(detail)s") % {"detail": error.message}, parts


def _missing_field_message(instance: Any, missing: str) -> str | None:
    """The step type's own words for a field it requires (e.g. a reservation's resource)."""
    try:
        kind = step_type(instance.get("type", "")) if isinstance(instance, dict) else None
    except KeyError:
        return None
    return kind.missing_field_message(missing) if kind else None


# --- semantic checks ----------------------------------------------------------------


def _problem(path: str, step_id: str | None, code: str, message: str, severity="error"):
    return FormatError(path, step_id, code, message, severity)


def _semantic_problems(doc: Mapping[str, Any]) -> Iterator[FormatError]:
    languages = doc.get("languages") or [PRIMARY_LANGUAGE]
    steps = doc["steps"]
    yield from _text_problems("title", None, doc["title"], languages)
    for key in ("description", "completion"):
        if key in doc:
            yield from _text_problems(key, None, doc[key], languages, required=False)
    yield from _id_problems(steps)
    yield from _confirm_problems(steps)
    yield from _reachability_problems(steps)
    for index, step in enumerate(steps):
        yield from _step_problems(index, step, steps[:index], languages)
    if "fee" in doc:
        yield from _fee_problems(doc["fee"], steps)


def _text_problems(path, step_id, texts, languages, *, required=True) -> Iterator[FormatError]:
    primary = languages[0]
    field = path.rsplit(".", 1)[-1]
    if not texts.get(primary, "").strip():
        message = _('"%(field)s" has no text in the primary language "%(lang)s".') % {
            "field": field,
            "lang": primary,
        }
        yield _problem(path, step_id, "missing_text", message, "error" if required else "warning")
    for lang in languages[1:]:
        if not texts.get(lang, "").strip():
            message = _('"%(field)s" has no "%(lang)s" translation.') % {
                "field": field,
                "lang": lang,
            }
            yield _problem(path, step_id, "missing_translation", message, "warning")
    for lang in texts:
        if lang not in languages:
            message = _('"%(field)s" has text in "%(lang)s", which is not in "languages".') % {
                "field": field,
                "lang": lang,
            }
            yield _problem(f"{path}.{lang}", step_id, "unlisted_language", message, "warning")


def _id_problems(steps: list[Mapping[str, Any]]) -> Iterator[FormatError]:
    seen: set[str] = set()
    for index, step in enumerate(steps):
        if step["id"] in seen:
            message = _('The step id "%(id)s" is used more than once.') % {"id": step["id"]}
            yield _problem(f"steps[{index}].id", step["id"], "duplicate_step_id", message)
        seen.add(step["id"])


def _confirm_problems(steps: list[Mapping[str, Any]]) -> Iterator[FormatError]:
    confirms = [i for i, step in enumerate(steps) if step_type(step["type"]).role == "confirm"]
    for index in confirms[1:]:
        message = _("A procedure can have only one confirm step.")
        yield _problem(f"steps[{index}]", steps[index]["id"], "duplicate_confirm", message)
    if confirms and confirms[0] != len(steps) - 1:
        index = confirms[0]
        message = _("The confirm step must be the last step.")
        yield _problem(f"steps[{index}]", steps[index]["id"], "confirm_not_last", message)


def _reachability_problems(steps: list[Mapping[str, Any]]) -> Iterator[FormatError]:
    for index, step in enumerate(steps[:-1]):
        if step_type(step["type"]).role == "end" and "when" not in step:
            following = steps[index + 1]
            message = _("No step after an end step without a condition is ever asked.")
            yield _problem(
                f"steps[{index + 1}]", following["id"], "unreachable_step", message, "warning"
            )
            return


def _step_problems(index, step, earlier, languages) -> Iterator[FormatError]:
    path, step_id = f"steps[{index}]", step["id"]
    kind = step_type(step["type"])
    if not kind.available:
        message = _('Steps of type "%(type)s" are not available yet.') % {"type": step["type"]}
        yield _problem(f"{path}.type", step_id, "unsupported_step_type", message)
    for key in ("prompt", "message", "label", "help", "error"):
        if key in step:
            required = key in {"prompt", "message"}
            yield from _text_problems(
                f"{path}.{key}", step_id, step[key], languages, required=required
            )
    yield from _option_problems(path, step, kind)
    yield from _validation_problems(path, step, kind, earlier)
    if "when" in step:
        yield from _rule_problems(f"{path}.when", step_id, step["when"], earlier, "when")


def _option_problems(path, step, kind: StepType) -> Iterator[FormatError]:
    options = step.get("options", [])
    if options and not kind.needs_options:
        message = _('Steps of type "%(type)s" do not use "options".') % {"type": step["type"]}
        yield _problem(f"{path}.options", step["id"], "options_ignored", message, "warning")
    seen: set[str] = set()
    for number, option in enumerate(options):
        if option["value"] in seen:
            message = _('The option value "%(value)s" is used more than once.') % {
                "value": option["value"]
            }
            yield _problem(
                f"{path}.options[{number}].value", step["id"], "duplicate_option", message
            )
        seen.add(option["value"])


def _validation_problems(path, step, kind: StepType, earlier) -> Iterator[FormatError]:
    rules = step.get("validation", {})
    for key in rules:
        if key not in kind.validation_fields:
            message = _('"%(field)s" does not apply to steps of type "%(type)s".') % {
                "field": key,
                "type": step["type"],
            }
            yield _problem(
                f"{path}.validation.{key}", step["id"], "validation_not_applicable", message
            )
    if "pattern" in rules:
        try:
            re.compile(rules["pattern"])
        except re.error as problem:
            message = _("The pattern is not a valid regular expression: %(detail)s") % {
                "detail": str(problem)
            }
            yield _problem(f"{path}.validation.pattern", step["id"], "invalid_pattern", message)
    for low, high in (("min", "max"), ("min_length", "max_length"), ("min_date", "max_date")):
        first, last = rules.get(low), rules.get(high)
        if isinstance(first, int | float) and isinstance(last, int | float) and first > last:
            message = _('"%(low)s" is greater than "%(high)s".') % {"low": low, "high": high}
            yield _problem(f"{path}.validation", step["id"], "invalid_range", message)
    for key in ("min", "max"):
        if isinstance(rules.get(key), dict):
            rule_path = f"{path}.validation.{key}"
            yield from _rule_problems(rule_path, step["id"], rules[key], earlier, key)


def _rule_problems(path, step_id, rule, visible_steps, field) -> Iterator[FormatError]:
    """Operator and variable problems of a JSON Logic rule that may read `visible_steps`."""
    for detail in logic.check_rule(rule):
        message = _('"%(field)s" is not valid JSON Logic: %(detail)s.') % {
            "field": field,
            "detail": detail,
        }
        yield _problem(path, step_id, "invalid_logic", message)
    visible = {step["id"]: step for step in visible_steps}
    for name in sorted(logic.referenced_vars(rule)):
        problem = _var_problem(name, visible, field)
        if problem:
            yield _problem(path, step_id, *problem)


def _var_problem(name: str, visible: Mapping[str, Any], field: str) -> tuple[str, str] | None:
    head, _dot, rest = name.partition(".")
    values = {"field": field, "var": name, "step": head}
    if head not in visible:
        return "unknown_var", _('"%(field)s" refers to unknown step "%(step)s".') % values
    kind = step_type(visible[head]["type"])
    if kind.role != "question":
        return "not_an_answer", _(
            '"%(field)s" refers to step "%(step)s", which has no answer.'
        ) % values
    if rest and not (rest in kind.var_fields or (rest.isdigit() and "length" in kind.var_fields)):
        return "unknown_var_field", _(
            '"%(field)s" refers to "%(var)s", which does not exist.'
        ) % values
    return None


def _fee_problems(rule: Any, steps: list[Mapping[str, Any]]) -> Iterator[FormatError]:
    problems = list(_rule_problems("fee", None, rule, steps, "fee"))
    if problems:
        yield from problems
        return
    samples = {
        step["id"]: step_type(step["type"]).sample(step)
        for step in steps
        if step_type(step["type"]).role == "question"
    }
    value = logic.evaluate(rule, samples)
    if isinstance(value, bool) or not isinstance(value, int | float):
        message = _("The fee does not work out to an amount in yen (it gave %(value)s).") % {
            "value": json.dumps(value, ensure_ascii=False, default=str)
        }
        yield _problem("fee", None, "invalid_fee", message)


# --- My Number -------------------------------------------------------------------------

_MY_NUMBER_TERMS = ("マイナンバー", "まいなんばー", "個人番号", "mynumber", "individualnumber")
_MY_NUMBER_IDS = ("mynumber", "kojinbango", "kojinbangou", "individualnumber")
# A sentence that mentions My Number while telling the resident NOT to give it.
_NEGATIONS = (
    "ないで", "ないでください", "不要", "禁止", "しない", "書かない", "送らない", "除い", "除く",
    "以外", "donot", "don't", "don’t", "dont", "never", "without", "notinclude", "notenter",
    "notsend", "notrequired", "mustnot", "shouldnot",
)  # fmt: skip
_CARD_FRONT = ("表面", "おもて面", "front")
_CARD_BACK = ("裏面", "うら面", "back", "両面", "bothsides")
_SENTENCE_END = re.compile(r"[。．.!！?？\n]")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def _asking_sentences(texts: list[str]) -> list[str]:
    """Sentences that mention a My Number without telling the resident not to send it."""
    found = []
    for text in texts:
        for sentence in _SENTENCE_END.split(unicodedata.normalize("NFKC", text)):
            compact = _compact(sentence)
            mentions = any(term in compact for term in _MY_NUMBER_TERMS)
            if mentions and not any(word in compact for word in _NEGATIONS):
                found.append(compact)
    return found


def _shows_only_card_front(sentence: str) -> bool:
    front = any(word in sentence for word in _CARD_FRONT)
    return front and not any(word in sentence for word in _CARD_BACK)


def _step_texts(step: Mapping[str, Any]) -> list[str]:
    return [text for key in ("prompt", "label", "help") for text in step.get(key, {}).values()]


def _accepts(rules: Mapping[str, Any], value: str) -> bool:
    pattern = rules.get("pattern")
    if pattern is not None:
        try:
            if re.fullmatch(pattern, value) is None:
                return False
        except re.error:
            return False
    return rules.get("min_length", 0) <= len(value) <= rules.get("max_length", len(value))


def _asks_for_twelve_digits(step: Mapping[str, Any]) -> bool:
    """Validation that accepts exactly-12-digit numbers and hardly anything else."""
    rules = step.get("validation", {})
    low, high = rules.get("min"), rules.get("max")
    if isinstance(low, int | float) and isinstance(high, int | float):
        return 10**11 <= low <= high <= 10**12 - 1
    twelve = ("123456789012", "1234-5678-9012", "1234 5678 9012")
    others = ("12345678901", "1234567890123", "1234-5678-901", "1234-5678-90123", "abcdefghijkl")
    if not any(_accepts(rules, sample) for sample in twelve):
        return False
    return not any(_accepts(rules, sample) for sample in others)


def _asks_for_my_number(step: Mapping[str, Any], kind: StepType) -> bool:
    if kind.my_number_risk is None:
        return False  # a choice, date or yes/no answer cannot carry the number
    if any(term in _compact(step["id"]).replace("_", "") for term in _MY_NUMBER_IDS):
        return True
    sentences = _asking_sentences(_step_texts(step))
    if kind.my_number_risk == "photo":  # the card's front shows no number
        sentences = [s for s in sentences if not _shows_only_card_front(s)]
    return bool(sentences) or _asks_for_twelve_digits(step)


def my_number_violations(doc: Any) -> list[FormatError]:
    """Steps that ask for a My Number (個人番号), which may never be collected.

    Only steps that take free input count (text, number, image); a message saying
    「マイナンバーは送らないでください」, a sentence telling the resident not to send
    it, a yes/no question 「マイナンバーカードをお持ちですか」, or a photo of the card's
    front (which shows no number) are not refused.
    """
    problems = []
    steps = doc.get("steps", []) if isinstance(doc, dict) else []
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or not isinstance(step.get("id"), str):
            continue
        try:
            kind = step_type(step.get("type", ""))
        except KeyError:
            continue
        if _asks_for_my_number(step, kind):
            message = _(
                "This step asks for a My Number (個人番号), which may never be collected. "
                "Remove the step or ask for something else."
            )
            problems.append(_problem(f"steps[{index}]", step["id"], "my_number", message))
    return problems
