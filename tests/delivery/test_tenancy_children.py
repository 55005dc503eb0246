"""Rows without a municipality of their own (chunks, frozen recipients, reminder
occurrences) are scoped through their parent: unscoped queries raise, another
municipality sees none of them."""

from datetime import date

import pytest
from django_scopes import ScopeError, scopes_disabled

from delivery.broadcasts.models import (
    Broadcast,
    BroadcastChunk,
    BroadcastRecipient,
    ReminderOccurrence,
    ReminderRule,
)
from govtech.tenancy import no_tenant_scope, tenant_scope
from tests.factories import line_friend

CHILDREN = [BroadcastChunk, BroadcastRecipient, ReminderOccurrence]


@pytest.fixture
def city_rows(city, channel):
    """One broadcast of demo-city with a chunk, a frozen recipient and a reminder occurrence."""
    with scopes_disabled():
        friend = line_friend(channel, "U" + "f" * 32)
        broadcast = Broadcast.objects.create(municipality=city, channel=channel, title="清掃")
        BroadcastChunk.objects.create(broadcast=broadcast, index=0, first_seq=0, size=1)
        BroadcastRecipient.objects.create(broadcast=broadcast, seq=0, friend=friend)
        rule = ReminderRule.objects.create(
            municipality=city, channel=channel, name="燃やすごみ", attribute_key="area",
            attribute_value="north", message="{date}は燃やすごみの日です",
        )  # fmt: skip
        ReminderOccurrence.objects.create(rule=rule, date=date(2026, 12, 2), broadcast=broadcast)


@pytest.mark.parametrize("model", CHILDREN, ids=lambda model: model.__name__)
def test_a_child_row_refuses_a_query_outside_any_scope(city_rows, model):
    with pytest.raises(ScopeError):
        model.objects.count()


@pytest.mark.parametrize("model", CHILDREN, ids=lambda model: model.__name__)
def test_the_owning_municipality_sees_its_child_rows(city, city_rows, model):
    with tenant_scope(city):
        assert model.objects.count() == 1


@pytest.mark.parametrize("model", CHILDREN, ids=lambda model: model.__name__)
def test_another_municipality_sees_none_of_them(other_town, city_rows, model):
    with tenant_scope(other_town):
        assert model.objects.count() == 0


@pytest.mark.parametrize("model", CHILDREN, ids=lambda model: model.__name__)
def test_someone_of_no_municipality_sees_none_of_them(city_rows, model):
    with no_tenant_scope():
        assert not model.objects.exists()


def test_an_outsider_cannot_reach_a_chunk_through_its_broadcast_id(other_town, city_rows):
    with scopes_disabled():
        broadcast = Broadcast.objects.get()
    with tenant_scope(other_town):
        assert not BroadcastChunk.objects.filter(broadcast_id=broadcast.pk).exists()
