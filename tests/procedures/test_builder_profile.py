"""The 「登録情報の変更」 profile procedure built in the builder: its steps are bound to the
resident attributes (type and options from the field), publishing warns when they no
longer match, and a resident's answers become their attributes."""

import json

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from delivery.broadcasts.attributes import OptionRow, attribute_field_save
from delivery.broadcasts.models import AttributeField
from procedures import engine
from procedures.models import Submission
from procedures.residents.models import Resident
from procedures.runtime import resident_input
from procedures.services import procedure_create, procedure_publish
from tests.delivery.broadcast_world import area_field
from tests.factories import resident as resident_of

pytestmark = pytest.mark.django_db


def profile_document(**changes):
    document = {
        "format": "govtech.procedure.v1",
        "key": "profile",
        "kind": "profile",
        "title": {"ja": "登録情報の変更"},
        "languages": ["ja"],
        "triggers": {"keywords": ["登録情報"]},
        "steps": [
            {
                "id": "area",
                "type": "choice",
                "prompt": {"ja": "お住まいの地区を選んでください"},
                "options": [
                    {"value": "north", "label": {"ja": "北地区"}},
                    {"value": "south", "label": {"ja": "南地区"}},
                ],
            },
            {"id": "confirm", "type": "confirm"},
        ],
        "completion": {"ja": "登録しました"},
    }
    document.update(changes)
    return document


@pytest.fixture
def profile(city, designer):
    area_field(city)
    return procedure_create(actor=designer, municipality=city, document=profile_document())


def builder_config(client, procedure):
    page = client.get(reverse("admin:procedures_procedure_builder", args=[procedure.pk]))
    return page.context["builder_config"]


def publish_warnings(client, procedure):
    page = client.get(reverse("admin:procedures_procedure_publish", args=[procedure.pk]))
    return [
        problem["message"] for group in page.context["grouped"] for problem in group["warnings"]
    ]


def test_the_builder_offers_the_profile_kind_and_the_attributes_to_bind_steps_to(
    client, designer, profile
):
    client.force_login(designer)

    config = builder_config(client, profile)

    assert "profile" in [kind["code"] for kind in config["kinds"]]
    fields = config["kind_bindings"]["profile"]["fields"]
    assert fields == [
        {
            "key": "area",
            "label": "地区",
            "type": "choice",
            "options": [
                {"value": "north", "label": {"ja": "北地区"}},
                {"value": "south", "label": {"ja": "南地区"}},
            ],
        }
    ]
    assert config["kind_bindings"]["profile"]["url"] is None  # a designer cannot edit them


def test_publishing_warns_when_a_bound_steps_options_no_longer_match(
    client, designer, profile, city
):
    client.force_login(designer)
    assert publish_warnings(client, profile) == []
    with scopes_disabled():
        field = AttributeField.objects.get(key="area")
    rows = [OptionRow("north", "北地区", "north"), OptionRow("east", "東地区")]
    attribute_field_save(
        actor=None,
        municipality=city,
        key="area",
        label="地区",
        kind="choice",
        rows=rows,
        field=field,
    )

    warnings = publish_warnings(client, profile)

    assert any("選択肢が登録項目「地区」と違います" in text for text in warnings), warnings
    version = procedure_publish(actor=designer, procedure=profile)  # a warning, not an error
    assert version.number == 1


def test_publishing_warns_when_no_step_registers_anything(client, designer, city):
    area_field(city)
    steps = [
        {"id": "note", "type": "text", "prompt": {"ja": "メモ"}},
        {"id": "confirm", "type": "confirm"},
    ]
    procedure = procedure_create(
        actor=designer, municipality=city, document=profile_document(steps=steps)
    )
    client.force_login(designer)

    assert any("何も登録されません" in text for text in publish_warnings(client, procedure))


def test_a_resident_completing_the_published_profile_gets_the_attribute(designer, profile, city):
    procedure_publish(actor=designer, procedure=profile)
    person = resident_of(city)

    for text in ["登録情報", "2", "送信"]:
        resident_input(municipality=city, resident=person, inp=engine.TextInput(text))

    with scopes_disabled():
        assert Resident.objects.get(pk=person.pk).attributes == {"area": "south"}
        assert Submission.objects.get().procedure == profile


def test_an_outsider_gets_no_attributes_of_another_municipality(client, outsider, profile):
    client.force_login(outsider)

    response = client.get(reverse("admin:procedures_procedure_builder", args=[profile.pk]))

    assert response.status_code == 404
    assert "北地区" not in json.dumps(getattr(response, "context", None) or {}, default=str)
