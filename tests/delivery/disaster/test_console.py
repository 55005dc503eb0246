"""Disaster mode in the console: the switch's confirmation page says what will happen and
a double submit switches once; the second admin; the banner; the shelter status page;
safety checks and their results; who may do what. Another municipality's staff find
nothing (404) on every page."""

import uuid

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from django_scopes import scopes_disabled

from delivery.broadcasts.models import Broadcast
from delivery.disaster.models import DisasterAlert, SafetyCheck, Shelter, SwitchStatus
from delivery.disaster.services import safety_answer_record
from govtech.models import AuditLogEntry, Role
from govtech.tenancy import tenant_scope
from tests.delivery.disaster.world import friends, prepare, shelter
from tests.factories import staff_member

PAGE = "admin:delivery_disastersettings_changelist"


def url(name: str, *args) -> str:
    return reverse(f"admin:delivery_disaster_{name}", args=args)


@pytest.fixture
def residents(city, channel):
    prepare(city)
    return friends(channel, "n", 3, area="north") + friends(channel, "s", 2, area="south")


@pytest.fixture
def school(city):
    return shelter(city, "中央小学校", 35.683, 139.765, "closed", address="デモ市本町3-1")


def switch_on(client, key, **data):
    fields = {"title": "避難指示", "text": "直ちに避難", "areas": ["north"], **data}
    return client.post(url("switch", "on"), {**fields, "step": "confirm", "request_key": key})


def test_the_confirmation_page_says_who_gets_the_alert_and_that_menus_change(
    client, admin_user, residents
):
    client.force_login(admin_user)
    form = client.get(url("switch", "on"))
    assert form.status_code == 200
    review = client.post(
        url("switch", "on"),
        {"title": "避難指示", "text": "直ちに避難", "areas": ["north"], "step": "review"},
    )
    body = review.content.decode()
    assert "3" in body and "北地区" in body
    assert 'name="request_key"' in body
    with scopes_disabled():
        assert not Broadcast.objects.exists()  # nothing happens on the review


def test_a_double_submitted_switch_switches_and_alerts_once(client, admin_user, residents):
    client.force_login(admin_user)
    key = str(uuid.uuid4())
    first = switch_on(client, key)
    second = switch_on(client, key)
    assert first.status_code == second.status_code == 302
    with scopes_disabled():
        assert DisasterAlert.objects.count() == 1 and Broadcast.objects.count() == 1
    page = client.get(reverse(PAGE)).content.decode()
    assert 'data-testid="disaster-banner"' in page


def test_a_pending_switch_is_confirmed_by_another_admin_on_the_page(
    client, admin_user, city, residents
):
    second_admin = staff_member(city, Role.ADMIN, email="admin2@demo-city.example")
    Authenticator.objects.create(user=second_admin, type=Authenticator.Type.TOTP, data={})
    with scopes_disabled():
        from delivery.disaster.models import DisasterSettings

        DisasterSettings.objects.filter(municipality=city).update(second_person_required=True)
    client.force_login(admin_user)
    switch_on(client, str(uuid.uuid4()))
    with scopes_disabled():
        from delivery.disaster.models import DisasterSwitch

        pending = DisasterSwitch.objects.get()
    assert pending.status == SwitchStatus.PENDING
    page = client.get(reverse(PAGE)).content.decode()
    assert 'data-testid="disaster-pending"' in page
    assert 'data-testid="disaster-confirm-request"' not in page  # not for the requester
    client.force_login(second_admin)
    assert 'data-testid="disaster-confirm-request"' in client.get(reverse(PAGE)).content.decode()
    client.post(url("request", pending.pk), {"confirm": "1"})
    pending.refresh_from_db()
    assert pending.status == SwitchStatus.DONE and pending.confirmed_by == second_admin


def test_only_admins_switch_and_outsiders_find_nothing(
    client, admin_user, broadcaster, outsider, residents
):
    client.force_login(broadcaster)
    assert client.get(reverse(PAGE)).status_code == 200
    assert client.get(url("switch", "on")).status_code == 404
    assert switch_on(client, str(uuid.uuid4())).status_code == 404
    client.force_login(admin_user)
    switch_on(client, str(uuid.uuid4()))
    with scopes_disabled():
        pending_pk = Broadcast.objects.get().pk
    client.force_login(outsider)
    page = client.get(reverse(PAGE)).content.decode()
    assert "disaster-banner" not in page and "disaster-alert" not in page  # their own: off
    assert client.post(url("request", pending_pk), {"confirm": "1"}).status_code == 404
    assert client.get(url("alert")).status_code == 302  # their mode is off
    with scopes_disabled():
        assert DisasterAlert.objects.count() == 1


def test_a_later_alert_is_confirmed_then_sent_once(client, admin_user, outsider, residents):
    client.force_login(admin_user)
    switch_on(client, str(uuid.uuid4()), text="")  # switched on without an alert
    with scopes_disabled():
        assert not DisasterAlert.objects.exists()
    review = client.post(url("alert"), {"title": "続報", "text": "南地区も避難", "step": "review"})
    assert "5" in review.content.decode()
    key = str(uuid.uuid4())
    data = {"title": "続報", "text": "南地区も避難", "step": "confirm", "request_key": key}
    client.post(url("alert"), data)
    client.post(url("alert"), data)
    with scopes_disabled():
        assert DisasterAlert.objects.count() == 1
    client.force_login(outsider)
    client.post(url("alert"), {**data, "request_key": str(uuid.uuid4())})
    with scopes_disabled():
        assert DisasterAlert.objects.count() == 1


def test_shelter_staff_set_a_status_with_one_tap(
    client, city, reviewer, school, outsider, designer
):
    client.force_login(reviewer)
    page = client.get(url("shelters"))
    assert page.status_code == 200 and "中央小学校" in page.content.decode()
    response = client.post(url("shelter", school.pk), {"status": "open"})
    assert response.status_code == 302
    school.refresh_from_db()
    assert school.status == "open" and school.status_changed_by == reviewer
    for stranger in (outsider, designer):
        client.force_login(stranger)
        assert client.post(url("shelter", school.pk), {"status": "closed"}).status_code == 404
    assert client.get(url("shelters")).status_code == 404  # a designer has no shelter role
    school.refresh_from_db()
    assert school.status == "open"
    client.force_login(outsider)
    assert 'data-testid="shelter-card"' not in client.get(url("shelters")).content.decode()


def test_a_safety_check_is_sent_and_its_results_counted_by_area(
    client, city, admin_user, broadcaster, outsider, residents
):
    client.force_login(broadcaster)
    review = client.post(url("check_new"), {"text": "ご無事ですか", "areas": [], "step": "review"})
    assert review.status_code == 200
    key = str(uuid.uuid4())
    data = {"text": "ご無事ですか", "step": "confirm", "request_key": key}
    sent = client.post(url("check_new"), data)
    client.post(url("check_new"), data)
    with scopes_disabled():
        check = SafetyCheck.objects.get()
    assert sent["Location"] == url("check", check.pk)
    with tenant_scope(city):
        safety_answer_record(
            check=check, resident=residents[0].resident, answer="help", now=check.created_at
        )
    results = client.get(url("check", check.pk)).content.decode()
    assert 'data-testid="safety-results"' in results
    assert "safety-help-list" not in results  # contact details: admins only
    assert client.get(url("check_help", check.pk)).status_code == 404
    client.force_login(admin_user)
    people = client.get(url("check_help", check.pk)).content.decode()
    assert "n0" in people
    with scopes_disabled():
        entry = AuditLogEntry.objects.get(action="delivery.safetycheck.help_list_viewed")
    assert entry.data == {"residents": [residents[0].resident.pk]}
    client.force_login(outsider)
    assert client.get(url("check", check.pk)).status_code == 404
    assert client.get(url("check_help", check.pk)).status_code == 404


def test_settings_are_saved_by_an_admin(client, city, admin_user, broadcaster, outsider):
    client.force_login(broadcaster)
    assert client.get(url("settings")).status_code == 404
    client.force_login(admin_user)
    assert client.get(url("settings")).status_code == 200
    client.post(url("settings"), {"second_person_required": "on"})
    with scopes_disabled():
        from delivery.disaster.models import DisasterSettings

        assert DisasterSettings.objects.get(municipality=city).second_person_required
    client.force_login(outsider)
    client.post(url("settings"), {})
    with scopes_disabled():
        assert DisasterSettings.objects.get(municipality=city).second_person_required


def test_the_shelter_list_and_templates_are_prepared_in_the_console(
    client, admin_user, school, outsider
):
    client.force_login(admin_user)
    assert client.get(reverse("admin:delivery_shelter_changelist")).status_code == 200
    assert client.get(reverse("admin:delivery_alerttemplate_add")).status_code == 200
    client.post(
        reverse("admin:delivery_alerttemplate_add"),
        {"title": "高齢者等避難", "text": "高齢者の方は避難を始めてください"},
    )
    client.force_login(outsider)
    listing = client.get(reverse("admin:delivery_shelter_changelist")).content.decode()
    assert "中央小学校" not in listing
    with scopes_disabled():
        assert Shelter.objects.count() == 1
