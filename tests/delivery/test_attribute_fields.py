"""Attribute fields edited with a form: options as rows (no JSON), values as slugs,
renamed values follow the residents who hold them; another municipality sees nothing."""

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from delivery.broadcasts.attributes import OptionRow, attribute_field_save
from delivery.broadcasts.models import AttributeField
from procedures.residents.models import Resident
from procedures.residents.services import resident_create
from tests.delivery.broadcast_world import area_field

pytestmark = pytest.mark.django_db


def resident(city, **attributes):
    made = resident_create(municipality=city)
    with scopes_disabled():
        Resident.objects.filter(pk=made.pk).update(attributes=attributes)
    return made


def attributes_of(person):
    with scopes_disabled():
        return Resident.objects.get(pk=person.pk).attributes


def option_post(rows, *, label="地区", kind="choice", key="area", total=None):
    """The form as a browser without JavaScript posts it."""
    data = {
        "key": key,
        "label": label,
        "kind": kind,
        "options-TOTAL_FORMS": str(total if total is not None else len(rows)),
        "options-INITIAL_FORMS": "0",
        "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"options-{index}-{name}"] = value
    return data


def change_url(field):
    return reverse("admin:delivery_attributefield_change", args=[field.pk])


def test_an_admin_adds_a_list_field_with_rows_not_json(client, admin_user, city):
    client.force_login(admin_user)
    rows = [
        {"value": "north", "label": "北地区", "ORDER": "2"},
        {"value": "south", "label": "南地区", "ORDER": "1"},
        {"value": "", "label": "", "ORDER": ""},  # a blank extra row is ignored
    ]

    response = client.post(reverse("admin:delivery_attributefield_add"), option_post(rows))

    assert response.status_code == 302, response.context["adminform"].form.errors
    with scopes_disabled():
        field = AttributeField.objects.get(municipality=city, key="area")
    assert field.options == [
        {"value": "south", "label": "南地区"},
        {"value": "north", "label": "北地区"},
    ]


def test_the_editor_shows_rows_with_how_many_residents_chose_each(client, admin_user, city):
    field = area_field(city)
    resident(city, area="north")
    resident(city, area="north")
    client.force_login(admin_user)

    body = client.get(change_url(field)).content.decode()

    assert 'value="北地区"' in body and 'name="options-0-value"' in body
    assert 'data-held="2"' in body
    assert "住民の登録も新しい値に移ります" in body
    assert '"value": "north"' not in body  # no JSON to edit


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([{"value": "north", "label": "北"}, {"value": "north", "label": "北2"}], "2回"),
        ([{"value": "North Area", "label": "北"}], "小文字"),
        ([{"value": "north", "label": ""}], "表示名がありません"),
    ],
)
def test_values_must_be_unique_slugs_with_labels(client, admin_user, city, rows, problem):
    client.force_login(admin_user)

    response = client.post(reverse("admin:delivery_attributefield_add"), option_post(rows))

    assert response.status_code == 200
    assert problem in response.content.decode()
    with scopes_disabled():
        assert not AttributeField.objects.exists()


def test_renaming_a_value_moves_the_residents_who_hold_it(client, admin_user, city):
    field = area_field(city)
    north, south = resident(city, area="north"), resident(city, area="south")
    client.force_login(admin_user)
    rows = [
        {"value": "kita", "label": "北地区", "original": "north", "ORDER": "1"},
        {"value": "south", "label": "南地区", "original": "south", "ORDER": "2"},
    ]

    response = client.post(change_url(field), option_post(rows), follow=True)

    assert "1人の住民の登録を" in response.content.decode()
    assert attributes_of(north) == {"area": "kita"}
    assert attributes_of(south) == {"area": "south"}


def test_removing_an_option_clears_it_from_residents_and_keeps_the_rest(city):
    with scopes_disabled():
        field = AttributeField.objects.create(
            municipality=city,
            key="interests",
            label="関心",
            kind="multi_choice",
            options=[{"value": "kids", "label": "子育て"}, {"value": "sports", "label": "運動"}],
        )
    fan = resident(city, interests=["kids", "sports"], area="north")
    northerner = resident(city, area="north")
    single = area_field(city)
    only_north = resident(city, area="north")

    attribute_field_save(
        actor=None,
        municipality=city,
        key="interests",
        label="関心",
        kind="multi_choice",
        rows=[OptionRow("sports", "運動", "sports")],
        field=field,
    )
    attribute_field_save(
        actor=None,
        municipality=city,
        key="area",
        label="地区",
        kind="choice",
        rows=[OptionRow("south", "南地区", "south")],
        field=single,
    )

    assert attributes_of(fan) == {"interests": ["sports"]}
    assert attributes_of(northerner) == {}
    assert attributes_of(only_north) == {}


def test_swapping_two_values_keeps_each_resident_with_their_option(city):
    field = area_field(city)
    north, south = resident(city, area="north"), resident(city, area="south")

    attribute_field_save(
        actor=None,
        municipality=city,
        key="area",
        label="地区",
        kind="choice",
        rows=[OptionRow("south", "北地区", "north"), OptionRow("north", "南地区", "south")],
        field=field,
    )

    assert attributes_of(north) == {"area": "south"}
    assert attributes_of(south) == {"area": "north"}


def test_the_key_and_kind_cannot_change_once_residents_may_hold_values(client, admin_user, city):
    field = area_field(city)
    client.force_login(admin_user)
    rows = [{"value": "north", "label": "北", "original": "north"}]

    client.post(change_url(field), option_post(rows, key="zone", kind="text"))

    with scopes_disabled():
        field.refresh_from_db()
    assert (field.key, field.kind, field.options) == (
        "area",
        "choice",
        [{"value": "north", "label": "北"}],
    )


def test_a_text_field_needs_no_options(client, admin_user, city):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:delivery_attributefield_add"),
        option_post([{"value": "", "label": ""}], key="nickname", label="呼び名", kind="text"),
    )

    assert response.status_code == 302
    with scopes_disabled():
        assert AttributeField.objects.get(key="nickname").options == []


def test_an_outsider_sees_no_field_of_another_municipality(client, outsider, city):
    field = area_field(city)
    client.force_login(outsider)

    assert client.get(change_url(field)).status_code == 404
    rows = [{"value": "x", "label": "x", "original": "north"}]
    assert client.post(change_url(field), option_post(rows)).status_code == 404
    with scopes_disabled():
        assert AttributeField.objects.get().option_values == ["north", "south"]
