"""Segment rules are evaluated in SQL: the count before sending is who gets it."""

from datetime import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from delivery.broadcasts import selectors
from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import AttributeField, AttributeKind
from delivery.models import Friend
from delivery.services import line_channel_create
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.runtime import resident_input
from procedures.services import procedure_create, procedure_publish
from tests.factories import line_friend


def friend(channel, n, following=True, followed=None, **attributes):
    return line_friend(
        channel,
        f"U{n:032d}",
        is_following=following,
        attributes=attributes,
        followed_at=followed or timezone.make_aware(datetime(2024, 1, 1)),
    )


@pytest.fixture
def residents(channel):
    friend(channel, 1, area="north", interests=["childcare", "jobs"], child_birth_year=2019)
    friend(channel, 2, area="north", interests=["jobs"], child_birth_year=2012)
    friend(channel, 3, area="south", interests=["childcare"])
    friend(channel, 4, area="east", followed=timezone.make_aware(datetime(2025, 6, 1)))
    friend(channel, 5, following=False, area="north", interests=["childcare"])
    return channel


def count(channel, rules):
    with tenant_scope(channel.municipality):
        return selectors.segment_count(channel=channel, rules=rules)


def c(field, op, value=None):
    return {"field": field, "op": op, "value": value}


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({}, 4),
        ({"match": "all", "conditions": [c("area", "is", "north")]}, 2),
        ({"match": "all", "conditions": [c("area", "in", ["north", "south"])]}, 3),
        ({"match": "all", "conditions": [c("interests", "has", "childcare")]}, 2),
        ({"match": "all", "conditions": [c("child_birth_year", "gte", 2015)]}, 1),
        ({"match": "all", "conditions": [c("child_birth_year", "lte", 2015)]}, 1),
        ({"match": "all", "conditions": [c("child_birth_year", "set")]}, 2),
        (
            {
                "match": "all",
                "conditions": [c("area", "is", "north"), c("interests", "has", "jobs")],
            },
            2,
        ),
        (
            {
                "match": "any",
                "conditions": [c("area", "is", "east"), c("interests", "has", "childcare")],
            },
            3,
        ),
        (
            {
                "match": "all",
                "conditions": [
                    c("interests", "has", "childcare"),
                    {
                        "match": "any",
                        "conditions": [
                            c("area", "is", "south"),
                            c("child_birth_year", "gte", 2018),
                        ],
                    },
                ],
            },
            2,
        ),
        (
            {
                "match": "all",
                "conditions": [{"behaviour": "followed_since", "value": "2025-01-01"}],
            },
            1,
        ),
    ],
)
def test_rules_count_the_matching_followers(residents, rules, expected):
    assert count(residents, rules) == expected


def test_residents_who_blocked_the_account_are_never_counted(residents):
    assert count(residents, {"match": "all", "conditions": [c("area", "is", "north")]}) == 2


def test_another_municipalitys_friends_are_never_counted(residents, other_town):
    other = line_channel_create(
        actor=None,
        municipality=other_town,
        name="よそ",
        channel_id="2000000402",
        channel_secret="s" * 32,
        access_token="t" * 40,
    )
    friend(other, 9, area="north")
    assert count(residents, {"match": "all", "conditions": [c("area", "is", "north")]}) == 2


def test_completed_procedure_counts_residents_with_a_submission(residents, city):
    from procedures.models import Procedure, Submission

    with tenant_scope(city):
        procedure = Procedure.objects.create(municipality=city, key="bulky-waste", draft={})
        Submission.objects.create(
            municipality=city,
            reference="A-1",
            procedure=procedure,
            resident=Friend.objects.get(line_user_id=f"U{3:032d}").resident,
            answers={},
        )
    rules = {
        "match": "all",
        "conditions": [{"behaviour": "completed_procedure", "value": "bulky-waste"}],
    }
    assert count(residents, rules) == 1


@pytest.mark.parametrize(
    "rules",
    [
        {"match": "most", "conditions": []},
        {"match": "all", "conditions": [c("Area; DROP", "is", "x")]},
        {"match": "all", "conditions": [{"field": "area", "op": "like", "value": "x"}]},
        {"match": "all"},
    ],
)
def test_malformed_rules_are_refused(rules, city):
    with pytest.raises(ValidationError):
        broadcasts.segment_save(actor=None, municipality=city, name="x", rules=rules)


def test_profile_answers_write_only_defined_attributes(residents, city):
    with tenant_scope(city):
        AttributeField.objects.create(
            municipality=city,
            key="area",
            label="地区",
            kind=AttributeKind.CHOICE,
            options=[{"value": "north"}, {"value": "south"}],
        )
        AttributeField.objects.create(
            municipality=city,
            key="interests",
            label="関心",
            kind=AttributeKind.MULTI_CHOICE,
            options=[{"value": "jobs"}, {"value": "childcare"}],
        )
        resident = Friend.objects.get(line_user_id=f"U{4:032d}").resident
    definition = {"kind": "profile", "steps": [{"id": "area"}, {"id": "interests"}, {"id": "x"}]}

    broadcasts.resident_attributes_set(
        resident=resident,
        answers={"area": "south", "interests": ["jobs", "bogus"], "x": "y"},
        definition=definition,
    )

    resident.refresh_from_db()
    assert resident.attributes == {"area": "south", "interests": ["jobs"]}


def test_submitting_a_profile_procedure_sets_the_residents_attributes(residents, city, designer):
    """The profile kind's submit effect (registered by delivery), through the runtime:
    the webhook loop knows nothing about it."""
    with tenant_scope(city):
        AttributeField.objects.create(
            municipality=city,
            key="area",
            label="地区",
            kind=AttributeKind.CHOICE,
            options=[{"value": "north"}, {"value": "south"}],
        )
        resident = Friend.objects.get(line_user_id=f"U{4:032d}").resident
    document = {
        "format": "govtech.procedure.v1",
        "key": "profile",
        "kind": "profile",
        "title": {"ja": "お住まいの地区"},
        "triggers": {"keywords": ["地区の登録"]},
        "steps": [
            {
                "id": "area",
                "type": "choice",
                "prompt": {"ja": "地区を選んでください"},
                "options": [
                    {"value": "north", "label": {"ja": "北"}},
                    {"value": "south", "label": {"ja": "南"}},
                ],
            }
        ],
    }
    procedure = procedure_create(actor=designer, municipality=city, document=document)
    procedure_publish(actor=designer, procedure=procedure)

    resident_input(municipality=city, resident=resident, inp=engine.TextInput("地区の登録"))
    reply = resident_input(municipality=city, resident=resident, inp=engine.TextInput("南"))

    assert reply.submission is not None
    resident.refresh_from_db()
    assert resident.attributes["area"] == "south"
