"""Fuzz: console endpoints that take JSON (builder save and preview, segment count,
broadcast draft preview). Any body is answered below 500; a refused save changes nothing.
"""

import json

import pytest
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from delivery.services import line_channel_create
from procedures.models import Procedure
from procedures.services import procedure_create
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.strategies import depths, json_values, nested
from tests.procedures.docs import pet_registration

pytestmark = pytest.mark.django_db


@st.composite
def bodies(draw) -> bytes:
    """JSON of any shape, sometimes wrapped deep; sometimes not JSON at all."""
    kind = draw(st.sampled_from(["json", "deep", "object", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    value = draw(json_values)
    if kind == "object":
        value = {"state": value, "expected_revision": draw(st.integers(-2, 3)), "rules": value}
    text = json.dumps(value, ensure_ascii=False)
    if kind == "deep":
        text = nested(draw(depths), text)
    return text.encode("utf-8", "surrogatepass")


@pytest.fixture
def procedure(city, designer):
    return procedure_create(actor=designer, municipality=city, document=pet_registration())


@pytest.fixture
def broadcasting(city):
    line_channel_create(
        actor=None,
        municipality=city,
        name="fuzz",
        channel_id="1650009997",
        channel_secret="secret",
        access_token="token",
    )


def post(client, address: str, body: bytes):
    return client.post(address, body, content_type="application/json")


@fuzz_settings(120)
@given(body=bodies(), endpoint=st.sampled_from(["builder_save", "builder_preview"]))
@example(body=b'{"state": null, "expected_revision": 0}', endpoint="builder_save")  # once a 500
@example(body=b'{"state": {"steps": [1]}, "index": 0}', endpoint="builder_preview")
def test_the_builder_answers_any_body_below_500_and_a_refused_save_changes_nothing(
    client, designer, procedure, body, endpoint
):
    client.force_login(designer)
    address = reverse(f"admin:procedures_procedure_{endpoint}", args=[procedure.pk])
    response = post(client, address, body)
    assert response.status_code < 500
    if endpoint == "builder_save" and response.status_code != 200:
        with_scope = Procedure.objects.with_scope(municipality=procedure.municipality)
        assert with_scope.get(pk=procedure.pk).draft == procedure.draft


@fuzz_settings(120)
@given(
    body=bodies(),
    endpoint=st.sampled_from(["delivery_segment_count", "delivery_broadcast_draft_preview"]),
)
def test_the_broadcast_console_answers_any_body_below_500(
    client, broadcaster, broadcasting, body, endpoint
):
    client.force_login(broadcaster)
    assert post(client, reverse(f"admin:{endpoint}"), body).status_code < 500
