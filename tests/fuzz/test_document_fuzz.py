"""Fuzz: procedure documents, as a careless operator or an attacker would upload them.

Grammar-based: the ten starter documents (valid shapes) with one subtree replaced by any
JSON, nested deep, keys given twice or texts that are not text. Every outcome is a
document or located errors that can be shown; nothing else escapes, nothing is created.
"""

import json
import time

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from procedures.catalog.services import document_from_upload
from procedures.catalog.starters import starter_documents
from procedures.format import DocumentError, load_document, validate_document
from procedures.models import Procedure
from procedures.services import DocumentRejected
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.strategies import depths, json_values, nasty_text, nested

STARTERS = starter_documents()


def paths(value, prefix=()):
    """Every path to a subtree of ``value`` (lists by index, objects by key)."""
    yield prefix
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        yield from paths(child, (*prefix, key))


def replaced(document, path, new):
    """A copy of ``document`` with the subtree at ``path`` replaced by ``new``."""
    if not path:
        return new
    copy = json.loads(json.dumps(document))
    holder = copy
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = new
    return copy


@st.composite
def mutated_documents(draw) -> str:
    document = draw(st.sampled_from(STARTERS))
    path = draw(st.sampled_from(list(paths(document))))
    kind = draw(st.sampled_from(["replace", "deep", "duplicate", "surrogate", "truncate"]))
    if kind == "replace":
        return json.dumps(replaced(document, path, draw(json_values)), ensure_ascii=False)
    if kind == "deep":
        marker = "__DEEP__"
        text = json.dumps(replaced(document, path, marker), ensure_ascii=False)
        return text.replace(f'"{marker}"', nested(draw(depths)), 1)
    text = json.dumps(document, ensure_ascii=False)
    if kind == "duplicate":
        return (
            text.replace("{", '{"key": 1, "key": 2, ', 1)
            if draw(st.booleans())
            else (text[:-1] + ', "steps": []}')
        )
    if kind == "surrogate":
        key = draw(nasty_text)
        return text[:-1] + ", " + json.dumps(key) + ': "\\ud800"}'
    return text[: draw(st.integers(0, len(text)))]


def shown(errors) -> str:
    """What the console or the terminal prints: it must encode."""
    text = "\n".join(error.located() for error in errors)
    text.encode("utf-8")
    return text


@fuzz_settings(200)
@given(text=mutated_documents())
@example(text='{"steps": [{"when": ' + '{"!": ' * 3000 + "true" + "}" * 3000 + "}]}")
@example(text='{"k\\ud800": 1}')  # once a 500 on the upload page
def test_any_document_text_loads_and_validates_or_gives_located_errors(text):
    try:
        document = load_document(text)
    except DocumentError as refused:
        assert refused.errors and shown(refused.errors)
        return
    shown(validate_document(document, include_warnings=True))


@pytest.mark.django_db
@fuzz_settings(60)
@given(text=mutated_documents())
def test_a_refused_upload_creates_nothing(city_scope, text):
    try:
        document_from_upload(text=text)
    except DocumentRejected as refused:
        shown(refused.errors)
    assert not Procedure.objects.exists()


def test_loading_forty_thousand_keys_costs_about_what_json_loads_does():
    """The duplicate-key check is one pass: a ratio to plain json.loads in the same run."""
    text = "{" + ", ".join(f'"k{number}": {number}' for number in range(40_000)) + "}"
    started = time.process_time()
    json.loads(text)
    baseline = time.process_time() - started
    started = time.process_time()
    assert len(load_document(text)) == 40_000
    ours = time.process_time() - started
    print(
        f"40,000 keys: json.loads {baseline * 1000:.0f} ms CPU, load_document {ours * 1000:.0f} ms"
    )
    assert ours < max(baseline, 0.01) * 50  # the quadratic check was ~1,000× json.loads
