"""Disaster mode's services: the switch (one admin, or two), exactly one alert per
confirmation, the signal after commit, shelter statuses, safety answers and results."""

import uuid

import pytest
from django_scopes import scopes_disabled

from delivery.broadcasts.models import Broadcast, BroadcastRecipient, BroadcastStatus
from delivery.disaster import selectors, services
from delivery.disaster.models import (
    DisasterAlert,
    DisasterSettings,
    SafetyAnswer,
    SafetyCheck,
    ShelterStatus,
    SwitchStatus,
)
from delivery.disaster.signals import disaster_mode_changed
from govtech.models import AuditLogEntry, Role
from govtech.services import ServiceError
from govtech.tenancy import tenant_scope
from tests.delivery.disaster.world import friends, prepare, shelter
from tests.factories import staff_member

NORTH_ONLY = ["north"]


@pytest.fixture
def second_admin(city):
    return staff_member(city, Role.ADMIN, email="admin2@demo-city.example")


@pytest.fixture
def heard():
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    disaster_mode_changed.connect(receiver, dispatch_uid="test-disaster-heard")
    yield calls
    disaster_mode_changed.disconnect(dispatch_uid="test-disaster-heard")


def switch_on(actor, city, key=None, **alert):
    return services.disaster_switch_request(
        actor=actor,
        municipality=city,
        turn_on=True,
        request_key=key or uuid.uuid4(),
        alert_title=alert.get("title", "避難指示"),
        alert_text=alert.get("text", "直ちに避難してください"),
        area_values=alert.get("areas", []),
    )


def announce(callbacks) -> None:
    """Run the switch's after-commit announcement (not the broadcasts' task enqueues)."""
    for callback in callbacks:
        if getattr(callback, "func", None) is services._announce:
            callback()


def actions() -> set[str]:
    with scopes_disabled():
        return set(AuditLogEntry.objects.values_list("action", flat=True))


def audit(action: str) -> AuditLogEntry:
    with scopes_disabled():
        return AuditLogEntry.objects.get(action=action)


def is_on(city) -> bool:
    with tenant_scope(city):
        return selectors.disaster_mode_is_on(municipality=city)


def test_an_admin_switches_on_and_the_alert_goes_out_approved_to_the_chosen_area(
    city, channel, admin_user, heard, django_capture_on_commit_callbacks
):
    prepare(city)
    with django_capture_on_commit_callbacks() as callbacks:
        switch = switch_on(admin_user, city, areas=NORTH_ONLY)
    assert switch.status == SwitchStatus.DONE and is_on(city)
    assert heard == []  # nothing is announced before the commit
    announce(callbacks)
    assert heard == [
        {"signal": disaster_mode_changed, "municipality": city, "active": True, "actor": admin_user}
    ]
    with scopes_disabled():
        alert = DisasterAlert.objects.get()
        (broadcast,) = alert.broadcasts.all()
    assert broadcast.status == BroadcastStatus.SCHEDULED and broadcast.approved_by == admin_user
    assert broadcast.rules == {
        "match": "all",
        "conditions": [{"field": "area", "op": "in", "value": ["north"]}],
    }
    assert broadcast.messages[0]["text"] == "【避難指示】\n直ちに避難してください"
    assert {
        "delivery.disaster.switched_on",
        "delivery.disaster.alert_sent",
        "delivery.broadcast.sent_without_approval",
    } <= actions()


def test_the_same_confirmation_twice_switches_and_alerts_once(city, channel, admin_user):
    prepare(city)
    key = uuid.uuid4()
    first = switch_on(admin_user, city, key)
    again = switch_on(admin_user, city, key)
    assert again.pk == first.pk
    with scopes_disabled():
        assert DisasterAlert.objects.count() == 1 and Broadcast.objects.count() == 1


def test_switching_on_when_on_is_refused_and_sends_nothing(city, channel, admin_user):
    prepare(city)
    switch_on(admin_user, city)
    with pytest.raises(ServiceError):
        switch_on(admin_user, city)
    with scopes_disabled():
        assert DisasterAlert.objects.count() == 1


def test_only_a_municipality_admin_may_switch(city, channel, broadcaster, outsider):
    prepare(city)
    for actor in (broadcaster, outsider):
        with pytest.raises(ServiceError):
            switch_on(actor, city)
    assert not is_on(city)


def test_a_second_admin_must_confirm_when_the_city_says_so(
    city, channel, admin_user, second_admin, outsider, heard, django_capture_on_commit_callbacks
):
    prepare(city, second_person=True)
    switch = switch_on(admin_user, city)
    assert switch.status == SwitchStatus.PENDING and not is_on(city)
    with scopes_disabled():
        assert not Broadcast.objects.exists()
    with pytest.raises(ServiceError):  # not the one who asked
        services.disaster_switch_confirm(actor=admin_user, switch=switch)
    with pytest.raises(ServiceError):  # nor another municipality's admin
        services.disaster_switch_confirm(actor=outsider, switch=switch)
    with django_capture_on_commit_callbacks() as callbacks:
        done = services.disaster_switch_confirm(actor=second_admin, switch=switch)
        again = services.disaster_switch_confirm(actor=second_admin, switch=switch)  # double tap
    announce(callbacks)
    assert done.status == again.status == SwitchStatus.DONE and done.confirmed_by == second_admin
    assert is_on(city)
    with scopes_disabled():
        assert Broadcast.objects.count() == 1
    assert [call["active"] for call in heard] == [True]


def test_switching_off_sends_no_alert_and_is_announced(
    city, channel, admin_user, heard, django_capture_on_commit_callbacks
):
    prepare(city)
    with django_capture_on_commit_callbacks() as callbacks:
        switch_on(admin_user, city)
        services.disaster_switch_request(
            actor=admin_user, municipality=city, turn_on=False, request_key=uuid.uuid4()
        )
    announce(callbacks)
    assert not is_on(city)
    assert [call["active"] for call in heard] == [True, False]
    with scopes_disabled():
        assert Broadcast.objects.count() == 1


def test_a_later_alert_needs_disaster_mode_and_goes_once_per_key(city, channel, admin_user):
    prepare(city)
    key = uuid.uuid4()
    send = dict(
        actor=admin_user,
        municipality=city,
        title="続報",
        text="避難所を追加しました",
        area_values=[],
        request_key=key,
    )
    with pytest.raises(ServiceError):
        services.disaster_alert_send(**send)
    switch_on(admin_user, city)
    first = services.disaster_alert_send(**send)
    assert services.disaster_alert_send(**send).pk == first.pk
    with scopes_disabled():
        assert DisasterAlert.objects.count() == 2 and Broadcast.objects.count() == 2
        assert Broadcast.objects.get(title="続報").rules == {}


def test_a_shelter_status_is_set_with_who_and_when_and_audited(city, broadcaster):
    school = shelter(city, "中央小学校", 35.68, 139.76, ShelterStatus.CLOSED)
    with tenant_scope(city):
        services.shelter_status_set(actor=broadcaster, shelter=school, status="open")
        school.refresh_from_db()
    assert school.status == "open" and school.status_changed_by == broadcaster
    assert school.status_changed_at is not None
    entry = audit("delivery.shelter.status_changed")
    assert entry.data == {"from": "closed", "to": "open"}
    with pytest.raises(ServiceError), tenant_scope(city):
        services.shelter_status_set(actor=broadcaster, shelter=school, status="burning")


def test_open_shelters_come_first_by_distance_then_full_and_closed(city):
    here = (35.6800, 139.7600)
    shelter(city, "遠い開設", 35.7200, 139.7600, ShelterStatus.OPEN)
    shelter(city, "近い閉鎖", 35.6801, 139.7601, ShelterStatus.CLOSED)
    shelter(city, "中くらい満員", 35.6900, 139.7600, ShelterStatus.FULL)
    shelter(city, "近い開設", 35.6850, 139.7600, ShelterStatus.OPEN)
    with tenant_scope(city):
        found = selectors.shelters_nearest(latitude=here[0], longitude=here[1])
    assert [n.shelter.spot.name for n in found] == [
        "近い開設",
        "遠い開設",
        "近い閉鎖",
        "中くらい満員",
    ]


def test_safety_answers_keep_the_latest_tap_and_results_count_by_area(city, channel, admin_user):
    prepare(city)
    north = friends(channel, "n", 3, area="north")
    south = friends(channel, "s", 2, area="south")
    with tenant_scope(city):
        check = services.safety_check_send(
            actor=admin_user,
            municipality=city,
            text="ご無事ですか",
            area_values=[],
            request_key=uuid.uuid4(),
        )
        (broadcast,) = check.broadcasts.all()
        # What starting the broadcast freezes: everyone who was asked.
        BroadcastRecipient.objects.bulk_create(
            [
                BroadcastRecipient(broadcast=broadcast, seq=i, friend=f)
                for i, f in enumerate(north + south)
            ]
        )
        record = services.safety_answer_record
        record(check=check, resident=north[0].resident, answer="help", now=check.created_at)
        record(check=check, resident=north[0].resident, answer="safe", now=check.created_at)
        record(check=check, resident=north[1].resident, answer="help", now=check.created_at)
        record(check=check, resident=north[1].resident, answer="help", now=check.created_at)
        record(check=check, resident=south[0].resident, answer="safe", now=check.created_at)
        results = selectors.safety_results(
            check=check, labels={"north": "北地区", "south": "南地区"}
        )
        assert SafetyAnswer.objects.count() == 3
    rows = [(r.label, r.safe, r.needs_help, r.no_answer) for r in results.areas]
    assert rows == [("北地区", 1, 1, 1), ("南地区", 1, 0, 1)]
    assert (results.total.safe, results.total.needs_help, results.total.no_answer) == (2, 1, 2)


def test_a_safety_check_carries_the_two_answers_as_quick_replies(city, channel, broadcaster):
    prepare(city)
    with tenant_scope(city):
        check = services.safety_check_send(
            actor=broadcaster,
            municipality=city,
            text="ご無事ですか",
            area_values=["south"],
            request_key=uuid.uuid4(),
        )
        (broadcast,) = check.broadcasts.all()
    replies = broadcast.messages[0]["quick_replies"]
    assert [r["label"] for r in replies] == ["無事", "支援が必要"]
    assert replies[0]["data"] == f"gt|safety|{check.pk}|safe"
    assert check.area_key == "area"


def test_settings_are_for_admins_and_audited(city, admin_user, broadcaster):
    with pytest.raises(ServiceError):
        services.disaster_settings_set(
            actor=broadcaster, municipality=city, area_field=None, second_person_required=True
        )
    services.disaster_settings_set(
        actor=admin_user, municipality=city, area_field=None, second_person_required=True
    )
    with scopes_disabled():
        assert DisasterSettings.objects.get().second_person_required
    assert "delivery.disastersettings.changed" in actions()


def test_every_evacuation_spot_can_be_used_as_a_shelter_at_once(city, admin_user):
    shelter(city, "既存", 35.0, 139.0, ShelterStatus.OPEN)
    with scopes_disabled():
        from delivery.spots.models import Spot

        Spot.objects.create(
            municipality=city,
            kind="evacuation_site",
            source_id="E9",
            name="公園",
            latitude=35.1,
            longitude=139.1,
        )
        Spot.objects.create(
            municipality=city,
            kind="aed",
            source_id="A1",
            name="AED",
            latitude=35.1,
            longitude=139.1,
        )
    assert services.shelters_use_all(actor=admin_user, municipality=city) == 1
    assert services.shelters_use_all(actor=admin_user, municipality=city) == 0
    with scopes_disabled():
        assert SafetyCheck.objects.count() == 0
