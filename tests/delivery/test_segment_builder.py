"""The segment page's visual rule builder: what it offers, and that what it writes is
what the server validates and counts. Another municipality's fields never show."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from delivery.broadcasts import selectors
from delivery.broadcasts.models import AttributeField, AttributeKind
from delivery.broadcasts.rule_builder import builder_config
from delivery.broadcasts.segments import MAX_DEPTH, validate_rules
from govtech.tenancy import tenant_scope
from tests.delivery.test_segments import friend

SAMPLE_VALUES = {"number": 2015, "text": "x", "date": "2025-04-01", "none": None}


@pytest.fixture
def fields(city):
    from procedures.models import Procedure

    with tenant_scope(city):
        AttributeField.objects.create(
            municipality=city,
            key="area",
            label="地区",
            kind=AttributeKind.CHOICE,
            options=[
                {"value": "north", "label": "北地区"},
                {"value": "south", "label": {"ja": "南"}},
            ],
        )
        AttributeField.objects.create(
            municipality=city,
            key="interests",
            label="関心",
            kind=AttributeKind.MULTI_CHOICE,
            options=[{"value": "jobs"}, {"value": "childcare"}],
        )
        AttributeField.objects.create(
            municipality=city, key="child_birth_year", label="子の生年", kind=AttributeKind.NUMBER
        )
        Procedure.objects.create(
            municipality=city, key="bulky-waste", draft={"title": {"ja": "粗大ごみ"}}
        )


def _config(city) -> dict:
    with tenant_scope(city):
        return builder_config()


def _subjects(config: dict) -> dict:
    return {subject["id"]: subject for subject in config["subjects"]}


def _condition(subject: dict, op: dict):
    """The condition the builder writes for a row (segment_builder.js serialize())."""
    if op["value"] == "choice":
        value = subject["options"][0]["value"] if subject["options"] else "x"
    elif op["value"] == "choices":
        value = [option["value"] for option in subject["options"]]
    else:
        value = SAMPLE_VALUES[op["value"]]
    if subject["group"] == "behaviour":
        condition = {"behaviour": subject["behaviour"]}
    else:
        condition = {"field": subject["field"], "op": op["op"]}
    if op["value"] != "none":
        condition["value"] = value
    return condition


def test_it_offers_each_attribute_with_operators_for_its_kind(fields, city):
    subjects = _subjects(_config(city))

    assert [op["op"] for op in subjects["field:area"]["ops"]] == ["is", "in", "set"]
    assert subjects["field:area"]["options"] == [
        {"value": "north", "label": "北地区"},
        {"value": "south", "label": "南"},
    ]
    assert [op["op"] for op in subjects["field:interests"]["ops"]] == ["has", "set"]
    assert [op["value"] for op in subjects["field:child_birth_year"]["ops"]] == [
        "number",
        "number",
        "number",
        "none",
    ]
    assert "field:language" in subjects


def test_it_offers_the_behaviours_the_server_evaluates(fields, city):
    subjects = _subjects(_config(city))

    assert subjects["behaviour:followed_since"]["ops"][0]["value"] == "date"
    assert subjects["behaviour:completed_procedure"]["options"] == [
        {"value": "bulky-waste", "label": "粗大ごみ"}
    ]
    assert subjects["behaviour:has_booking"]["options"] == []


def test_every_row_the_builder_can_write_is_valid_and_counts_in_sql(fields, city, channel):
    config = _config(city)
    for match in ("all", "any"):
        for subject in config["subjects"]:
            for op in subject["ops"]:
                rules = {"match": match, "conditions": [_condition(subject, op)]}
                validate_rules(rules)
                with tenant_scope(city):
                    assert selectors.segment_count(channel=channel, rules=rules) >= 0


def test_rules_written_by_the_builder_round_trip_through_the_form(
    client, broadcaster, fields, city, channel
):
    friend(channel, 1, area="north", child_birth_year=2016)
    friend(channel, 2, area="south", child_birth_year=2012)
    rules = {
        "match": "all",
        "conditions": [
            {"field": "area", "op": "in", "value": ["north", "south"]},
            {"field": "child_birth_year", "op": "gte", "value": 2015},
        ],
    }
    client.force_login(broadcaster)
    response = client.post(
        reverse("admin:delivery_segment_add"),
        {"name": "小学生の親", "rules": json.dumps(rules)},
    )
    assert response.status_code == 302
    from delivery.broadcasts.models import Segment

    with tenant_scope(city):
        segment = Segment.objects.get()
        assert segment.rules == rules
        assert selectors.segment_count(channel=channel, rules=segment.rules) == 1
    page = client.get(reverse("admin:delivery_segment_change", args=[segment.pk]))
    assert json.loads(page.context["adminform"].form["rules"].value()) == rules


def test_the_segment_page_carries_the_builder_and_its_japanese_labels(client, broadcaster, fields):
    client.force_login(broadcaster)
    response = client.get(reverse("admin:delivery_segment_add"), HTTP_ACCEPT_LANGUAGE="ja")

    assert response.status_code == 200
    assert 'id="rule-builder-config"' in response.content.decode()
    config = response.context["rule_builder"]
    assert "field:area" in _subjects(config)
    assert config["strings"]["add"] == "条件を追加"


def test_an_outsider_sees_none_of_the_city_fields(client, outsider, fields, city):
    client.force_login(outsider)
    response = client.get(reverse("admin:delivery_segment_add"))

    subjects = _subjects(response.context["rule_builder"])
    assert "field:area" not in subjects
    assert subjects["behaviour:completed_procedure"]["options"] == []


def _nest(conditions: list, depth: int) -> dict:
    group = {"match": "any", "conditions": conditions}
    for _ in range(depth):
        group = {"match": "all", "conditions": [group]}
    return group


def test_the_builder_may_nest_groups_as_deep_as_the_server_accepts(fields, city):
    config = _config(city)
    row = {"field": "area", "op": "is", "value": "north"}

    assert config["max_depth"] == MAX_DEPTH
    validate_rules(_nest([row], config["max_depth"]))
    with pytest.raises(ValidationError):
        validate_rules(_nest([row], config["max_depth"] + 1))
    assert {"group", "add_group", "remove_group", "group_match"} <= set(config["strings"])


def test_nested_groups_built_in_the_console_are_counted_in_sql(
    client, broadcaster, fields, city, channel
):
    friend(channel, 1, area="north", child_birth_year=2016)
    friend(channel, 2, area="north", child_birth_year=2010, interests=["childcare"])
    friend(channel, 3, area="north", child_birth_year=2010)
    friend(channel, 4, area="south", child_birth_year=2016)
    rules = {
        "match": "all",
        "conditions": [
            {"field": "area", "op": "is", "value": "north"},
            {
                "match": "any",
                "conditions": [
                    {"field": "child_birth_year", "op": "gte", "value": 2015},
                    {"field": "interests", "op": "has", "value": "childcare"},
                ],
            },
        ],
    }
    client.force_login(broadcaster)
    count = client.post(
        reverse("admin:delivery_segment_count"), json.dumps(rules), content_type="application/json"
    )
    assert count.json() == {"count": 2}
    saved = client.post(
        reverse("admin:delivery_segment_add"), {"name": "北の子育て", "rules": json.dumps(rules)}
    )
    assert saved.status_code == 302
