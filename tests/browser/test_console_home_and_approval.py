"""The console in a browser: each role's home page says what needs doing today (the
screenshots go into the guides), and a broadcast goes from its author's request to an
admin's approval on the broadcast's own page, as two people in two browsers."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import Broadcast, BroadcastStatus
from delivery.models import EventStatus, LineChannel, WebhookEvent
from govtech.models import Municipality, User
from govtech.tenancy import tenant_scope
from procedures.models import Procedure
from procedures.services import procedure_create
from tests.browser.conftest import signed_in
from tests.factories import line_friend
from tests.procedures.docs import pet_registration

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

STAFF = {
    "admin": "admin@demo-city.example",
    "designer": "designer@demo-city.example",
    "reviewer": "reviewer@demo-city.example",
    "broadcaster": "broadcaster@demo-city.example",
    "operator": "operator@govtech.example",
}


@pytest.fixture
def shoot(doc_screenshot):
    return doc_screenshot


@pytest.fixture
def demo(db, live_server, settings):
    """The demo city with a day's worth of work waiting in it; LINE is the simulator."""
    settings.LINE_API_BASE_URL = f"{live_server.url}/simulator/api/line"
    call_command("seed_demo", verbosity=0)
    city = Municipality.objects.get(slug="demo-city")
    with tenant_scope(city):
        _work(city)
    return city


def _work(city) -> None:
    designer = User.objects.get(email=STAFF["designer"])
    broadcaster = User.objects.get(email=STAFF["broadcaster"])
    channel = LineChannel.objects.get()
    procedure_create(
        actor=designer,
        municipality=city,
        document={**Procedure.objects.get(key="bulky-waste").draft, "key": "sodai-2027"},
    )
    changed = Procedure.objects.filter(key="juminhyo-by-mail")
    changed.update(draft={**changed.get().draft, "category": "戸籍・住民票（改定中）"})
    # Submissions new and in review: seed_demo's reviewer's day has them.
    for n in range(40):
        line_friend(channel, f"U{n:032d}", is_following=True)
    tomorrow = timezone.now() + timedelta(days=1)
    for title, submit in [("粗大ごみ受付のお知らせ", True), ("夏祭りのご案内", False)]:
        broadcast = broadcasts.broadcast_create(
            actor=broadcaster,
            channel=channel,
            title=title,
            items=[{"type": "text", "text": "{display_name}さん、" + title + "です。"}],
            scheduled_at=tomorrow,
        )
        if submit:
            broadcasts.broadcast_submit(actor=broadcaster, broadcast=broadcast)
    WebhookEvent.objects.create(
        municipality=city,
        channel=channel,
        webhook_event_id="01J0000000000000000000001",
        event_type="message",
        timestamp=1,
        payload={},
        status=EventStatus.FAILED,
        error="timeout",
    )


HOME_BLOCKS = {
    "admin": ["home-approvals", "home-submissions", "home-channels"],
    "designer": ["home-drafts"],
    "reviewer": ["home-submissions"],
    "broadcaster": ["home-broadcasts", "home-channels"],
    "operator": ["home-municipalities"],
}


@pytest.mark.parametrize("role", list(STAFF))
def test_each_role_sees_todays_work_on_the_home_page(browser, live_server, demo, role, shoot):
    tab = signed_in(browser, live_server, STAFF[role])
    tab.goto(f"{live_server.url}/admin/")
    expect(tab.locator("h1")).to_have_text("ホーム")
    for block in HOME_BLOCKS[role]:
        expect(tab.get_by_test_id(block)).to_be_visible()
    if role != "operator":
        expect(tab.get_by_test_id("home-todo").first).to_be_visible()
    expect(tab.locator("#home-apps-heading")).to_have_text("すべての管理画面")
    if "home-channels" in HOME_BLOCKS[role]:  # the quota as the LINE simulator reports it
        expect(tab.get_by_test_id("channel-health")).to_contain_text(" / ")
    shoot(tab, f"home-{role}")
    tab.context.close()


def test_a_broadcast_is_requested_and_approved_on_its_own_page(browser, live_server, demo, shoot):
    with scopes_disabled():
        draft = Broadcast.objects.get(title="夏祭りのご案内")
    author = signed_in(browser, live_server, STAFF["broadcaster"])
    author.goto(f"{live_server.url}/admin/delivery/broadcast/{draft.pk}/change/")
    panel = author.get_by_test_id("broadcast-approval")
    expect(panel.get_by_test_id("broadcast-status")).to_have_text("下書き")
    panel.get_by_test_id("decision-submit").click()
    expect(author.locator(".messagelist .success")).to_contain_text("夏祭りのご案内")
    expect(panel.get_by_test_id("broadcast-status")).to_have_text("承認待ち")
    expect(panel.get_by_test_id("decision-approve")).to_have_count(0)  # not the author's
    shoot(author, "broadcast-approval-requested")

    approver = signed_in(browser, live_server, STAFF["admin"])
    approver.goto(f"{live_server.url}/admin/")
    approver.get_by_test_id("home-todo").filter(has_text="承認を待っています").click()
    approver.get_by_role("link", name="夏祭りのご案内").click()
    panel = approver.get_by_test_id("broadcast-approval")
    expect(panel.get_by_test_id("audience-count")).to_have_text("40人")
    preview = approver.get_by_test_id("broadcast-preview")
    expect(preview.get_by_test_id("preview-message")).to_have_count(1)
    expect(preview.get_by_test_id("preview-message")).to_contain_text("さん、夏祭りのご案内です。")
    expect(approver.locator("textarea[name=messages]")).to_have_count(0)  # no raw JSON
    shoot(approver, "broadcast-approval-review")
    preview.scroll_into_view_if_needed()
    shoot(approver, "broadcast-approval-preview")
    panel.get_by_test_id("decision-approve").click()
    expect(approver.locator(".messagelist .success")).to_contain_text("承認しました")
    expect(panel.get_by_test_id("broadcast-status")).to_have_text("予約済み")
    shoot(approver, "broadcast-approval-approved")
    with scopes_disabled():
        draft.refresh_from_db()
    assert draft.status == BroadcastStatus.SCHEDULED
    assert draft.approved_by.email == STAFF["admin"]
    author.context.close()
    approver.context.close()


def test_the_builder_names_the_confirmation_step(browser, live_server, demo):
    designer = User.objects.get(email=STAFF["designer"])
    with tenant_scope(demo):
        procedure = procedure_create(actor=designer, municipality=demo, document=pet_registration())
    assert procedure.draft["steps"][-1] == {"id": "confirm", "type": "confirm"}  # no text
    tab = signed_in(browser, live_server, STAFF["designer"])
    tab.goto(f"{live_server.url}/admin/procedures/procedure/{procedure.pk}/builder/")
    names = tab.get_by_test_id("step-select").locator(".step-name")
    expect(names.last).to_have_text("送信前の確認")
    expect(tab.get_by_text("（質問が未入力）")).to_have_count(0)
    tab.context.close()
