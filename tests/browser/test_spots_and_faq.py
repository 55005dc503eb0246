"""Spots and the FAQ in a browser: an admin imports the facilities CSV (checked, previewed,
applied), residents ask the FAQ in LINE, and the admin reads the hit rate and adds a
question nobody could answer with 「FAQに追加」. The screenshots illustrate
docs/spots-and-faq-guide.md (``GOVTECH_UPDATE_DOCS_IMAGES=1`` refreshes them)."""

from pathlib import Path

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from delivery.faq.models import FaqEntry, UnansweredQuestion
from delivery.faq.seed import faq_demo_ensure
from delivery.spots.models import Spot
from govtech.tenancy import tenant_scope
from tests.browser.conftest import signed_in
from tests.delivery.line_world import line_world  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
DEMO = Path(__file__).resolve().parents[2] / "delivery" / "spots" / "demo"


def test_an_admin_imports_facilities_and_previews_before_applying(
    browser, live_server, city, admin_user, doc_screenshot
):
    tab = signed_in(browser, live_server, admin_user.email)
    tab.goto(f"{live_server.url}/admin/delivery/spot/")
    tab.get_by_role("link", name="CSV を取り込む").click()
    tab.get_by_label("データセット").select_option(label="公共施設")
    tab.get_by_label("CSV ファイル").set_input_files(str(DEMO / "facilities.csv"))
    doc_screenshot(tab, "spots-import")
    tab.get_by_test_id("spot-upload").click()

    summary = tab.get_by_test_id("spot-summary")
    expect(summary).to_contain_text("新規: 5")
    expect(tab.get_by_role("cell", name="デモ市役所")).to_be_visible()
    with scopes_disabled():
        assert not Spot.objects.exists()  # nothing changes before the admin applies
    doc_screenshot(tab, "spots-preview", full_page=True)

    tab.get_by_test_id("spot-apply").click()
    expect(tab.locator("#result_list")).to_contain_text("デモ市立中央図書館")
    doc_screenshot(tab, "spots-list", full_page=True)
    with scopes_disabled():
        assert Spot.objects.filter(municipality=city).count() == 5
    tab.context.close()


def test_an_admin_reads_the_hit_rate_and_adds_an_unanswered_question(
    browser,
    live_server,
    line_world,  # noqa: F811 (the fixture imported above)
    city,
    admin_user,
    doc_screenshot,
):
    with tenant_scope(city):
        faq_demo_ensure(municipality=city, actor=admin_user)
    hanako = line_world()
    for text in ["ぺっとぼとる", "かんでんち", "ねこの引き取り", "ねこの引き取り"]:
        hanako.say(text)
        hanako.received()

    tab = signed_in(browser, live_server, admin_user.email)
    tab.goto(f"{live_server.url}/admin/delivery/faqentry/")
    expect(tab.get_by_text("直近 30 日：質問 4 件、回答 2 件（50%）")).to_be_visible()
    doc_screenshot(tab, "faq-list", full_page=True)

    tab.locator(".object-tools").get_by_role("link", name="回答できなかった質問").click()
    row = tab.locator("#result_list tbody tr", has_text="ねこの引き取り")
    expect(row).to_contain_text("2")
    doc_screenshot(tab, "faq-unanswered")
    row.get_by_role("link", name="FAQに追加").click()

    expect(tab.locator("#id_question")).to_have_value("ねこの引き取り")
    tab.locator("#id_answer").fill(
        "犬・猫の引き取りは行っていません。動物愛護センターにご相談ください。"
    )
    doc_screenshot(tab, "faq-add-from-unanswered", full_page=True)
    tab.get_by_role("button", name="保存", exact=True).click()
    expect(tab.locator(".messagelist")).to_be_visible()
    with scopes_disabled():
        entry = FaqEntry.objects.get(question="ねこの引き取り")
        assert UnansweredQuestion.objects.get().answered_by == entry
    tab.context.close()

    hanako.say("ねこの引き取り")
    hanako.received()
    assert "動物愛護センター" in hanako.texts()
