"""Disaster mode in a browser: an admin switches it on from the disaster page through the
confirmation page (which says who gets the alert and that menus change), the banner
appears, and shelter staff set a shelter's status on a phone-sized screen. The
screenshots go into the disaster mode guide (docs/disaster-mode-guide.md)."""

import time

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from delivery.broadcasts import sending
from delivery.broadcasts.models import Broadcast
from delivery.disaster.models import AlertTemplate, DisasterAlert, Shelter
from delivery.line_api import LineClient
from delivery.services import line_channel_bind_simulator
from tests.browser.conftest import signed_in
from tests.delivery.broadcast_world import make_friends, received
from tests.delivery.disaster.world import prepare, shelter

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def closed_senders(monkeypatch):
    """The alert is sent eagerly inside the live server's request thread: its sender's
    kept-alive client would outlive that thread and hold a server thread open past the
    test. Here each sender gets its own client, closed before the test ends."""
    clients = []

    def client(access_token):
        clients.append(LineClient(access_token))
        return clients[-1]

    monkeypatch.setattr(sending, "shared_client", client)
    yield
    for made in clients:
        made.close()
    time.sleep(0.5)  # the server threads of those connections finish meanwhile


@pytest.fixture
def town(live_server, settings, city, admin_user, eager_celery, closed_senders):
    """demo-city on the simulator: 3 residents in the north, 2 in the south, two
    shelters and the 避難指示 template."""
    settings.SITE_URL = live_server.url
    settings.LINE_API_BASE_URL = f"{live_server.url}/simulator/api/line"
    settings.LINE_API_DATA_BASE_URL = settings.LINE_API_BASE_URL
    channel = line_channel_bind_simulator(
        actor=None, municipality=city, channel_id="2000000099", name="デモ市公式LINE"
    )
    prepare(city)
    north = make_friends(channel, "n", 3, area="north")
    south = make_friends(channel, "s", 2, area="south")
    with scopes_disabled():
        AlertTemplate.objects.create(
            municipality=city,
            title="避難指示",
            text="【警戒レベル4】北地区に避難指示を発令しました。危険な場所から全員避難してください。",
        )
    shelter(city, "中央小学校", 35.683, 139.765, "closed", address="デモ市本町3-1")
    shelter(city, "緑公園", 35.695, 139.705, "open", address="デモ市緑町4-5")
    return north, south


def test_an_admin_switches_disaster_mode_on_and_staff_open_a_shelter_on_a_phone(
    browser, live_server, town, doc_screenshot
):
    north, south = town
    tab = signed_in(browser, live_server, "admin@demo-city.example")
    tab.goto(f"{live_server.url}/admin/delivery/disastersettings/")
    expect(tab.get_by_test_id("disaster-state")).to_contain_text("災害モードはオフです")
    doc_screenshot(tab, "disaster-page-off")

    tab.get_by_test_id("disaster-on").click()
    tab.get_by_label("お知らせテンプレート").select_option(label="避難指示")
    tab.get_by_label("北地区").check()
    tab.get_by_test_id("disaster-review").click()
    consequences = tab.get_by_test_id("disaster-consequences")
    expect(consequences).to_contain_text("3人の住民")
    expect(consequences).to_contain_text("災害用メニュー")
    doc_screenshot(tab, "disaster-switch-confirm", full_page=True)
    with scopes_disabled():
        assert not Broadcast.objects.exists()  # nothing happens before the confirmation

    tab.get_by_test_id("disaster-switch-confirm").click()
    expect(tab.get_by_test_id("disaster-banner")).to_be_visible()
    expect(tab.get_by_test_id("disaster-state")).to_contain_text("災害モードはオンです")
    doc_screenshot(tab, "disaster-page-on")
    with scopes_disabled():
        assert DisasterAlert.objects.count() == 1
    assert received(north) == dict.fromkeys(north, 1) and received(south) == dict.fromkeys(south, 0)

    tab.set_viewport_size(PHONE)
    tab.goto(f"{live_server.url}/admin/delivery/disastersettings/shelters/")
    school = tab.get_by_test_id("shelter-card").filter(has_text="中央小学校")
    expect(school.get_by_test_id("shelter-status")).to_have_text("閉鎖")
    doc_screenshot(tab, "disaster-shelters-phone", full_page=True)
    school.get_by_role("button", name="開設").click()
    school = tab.get_by_test_id("shelter-card").filter(has_text="中央小学校")
    expect(school.get_by_test_id("shelter-status")).to_have_text("開設")
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # no sideways scrolling on a phone
    with scopes_disabled():
        assert Shelter.objects.get(spot__name="中央小学校").status == "open"
    tab.context.close()
