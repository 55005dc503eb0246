"""A broadcaster composes a broadcast and sees it as LINE draws it before saving, sends
a test to their own test resident (after creating one in the simulator), and a garbage
calendar's irregular dates are uploaded from the city's Excel CSV."""

import json

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from delivery.broadcasts.models import Broadcast, ReminderRule
from delivery.broadcasts.testers import trial_line_user_id
from delivery.models import LineChannel
from tests.browser.test_segment_builder import log_in
from tests.delivery.broadcast_world import area_field, make_friends, received
from tests.delivery.line_world import CHANNEL_ID, line_world  # noqa: F401 (fixture)
from tests.factories import staff_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ITEMS = [
    {"type": "text", "text": "{display_name}さん、粗大ごみの受付が始まりました"},
    {"type": "flex", "template": "notice", "title": "粗大ごみ", "body": "4月1日から受付"},
]


@pytest.mark.usefixtures("line_world")
def test_compose_preview_live_then_send_a_test_to_my_own_test_resident(
    page, live_server, city, screenshot
):
    with scopes_disabled():
        channel = LineChannel.objects.get(channel_id=CHANNEL_ID)
    residents = make_friends(channel, "r", 2)
    author = staff_member(city, "broadcaster")
    log_in(page, live_server.url, author)
    page.goto(f"{live_server.url}/admin/delivery/broadcast/add/")
    preview = page.get_by_test_id("broadcast-preview")
    expect(preview.get_by_test_id("preview-error")).to_contain_text("LINE")  # type to see

    page.select_option("select[name=channel]", str(channel.pk))
    expect(preview.get_by_test_id("preview-channel")).to_have_text(channel.name)  # no ID
    page.fill("input[name=title]", "粗大ごみの受付")
    page.get_by_test_id("composer-advanced-toggle").click()  # typing the JSON by hand
    page.fill("textarea[name=messages]", json.dumps(ITEMS[:1], ensure_ascii=False)[:-3])
    expect(preview.get_by_test_id("preview-error")).to_contain_text("JSON")
    page.fill("textarea[name=messages]", json.dumps(ITEMS, ensure_ascii=False))
    messages = preview.get_by_test_id("preview-message")
    expect(messages).to_have_count(2)
    expect(messages.first.locator(".bubble")).to_have_text(
        "山田 花子さん、粗大ごみの受付が始まりました"
    )
    expect(messages.nth(1)).to_contain_text("4月1日から受付")
    expect(preview.get_by_test_id("preview-error")).to_be_hidden()
    page.locator("textarea[name=messages]").press_sequentially("x")  # broken again
    expect(preview.get_by_test_id("preview-error")).to_be_visible()
    expect(messages).to_have_count(2)  # the last good preview stays in view
    page.fill("textarea[name=messages]", json.dumps(ITEMS, ensure_ascii=False))
    expect(preview.get_by_test_id("preview-error")).to_be_hidden()
    preview.scroll_into_view_if_needed()
    screenshot(page, "broadcast-compose-preview")

    # No test resident yet: saved, nothing sent, and the page says how to get one.
    page.get_by_test_id("save-and-test-send").click()
    expect(page.locator(".messagelist .error")).to_contain_text("テスト住民がいない")
    with scopes_disabled():
        broadcast = Broadcast.objects.get()
    assert broadcast.messages == ITEMS

    page.get_by_test_id("create-test-resident").click()
    expect(page.locator(".messagelist .success")).to_contain_text("LINE シミュレーター")
    expect(page.get_by_test_id("no-test-resident")).to_have_count(0)
    page.get_by_test_id("save-and-test-send").click()
    expect(page.locator(".messagelist .success")).to_contain_text("テスト住民")
    mine = trial_line_user_id(user=author)
    assert received([mine, *residents]) == {mine: 2, **dict.fromkeys(residents, 0)}
    screenshot(page, "broadcast-test-sent")


def test_irregular_dates_are_uploaded_from_an_excel_csv(page, live_server, city, tmp_path):
    from delivery.services import line_channel_create

    channel = line_channel_create(
        actor=None,
        municipality=city,
        name="デモ市",
        channel_id="2000000902",
        channel_secret="s" * 32,
        access_token="t" * 40,
    )
    area_field(city)
    with scopes_disabled():
        rule = ReminderRule.objects.create(
            municipality=city,
            channel=channel,
            name="燃やすごみ（北地区）",
            attribute_key="area",
            attribute_value="north",
            message="{date}は燃やすごみの日です",
            weekdays=[0, 3],
        )
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        "日付,地区,区分\n2025/12/30,北地区,追加\n2025/12/32,東地区,追加\n".encode("cp932")
    )
    good = tmp_path / "good.csv"
    good.write_bytes(
        "日付,地区,区分\n2025/12/30,北地区,追加\n2026/1/1,北地区,休み\n".encode("cp932")
    )
    log_in(page, live_server.url, staff_member(city, "broadcaster"))
    page.goto(f"{live_server.url}/admin/delivery/reminderrule/{rule.pk}/change/")

    page.get_by_test_id("import-dates").click()
    page.set_input_files("input[name=file]", str(bad))
    page.get_by_test_id("import-submit").click()
    problems = page.get_by_test_id("csv-problems")
    expect(problems).to_contain_text("3行目")
    expect(problems).to_contain_text("2025/12/32")
    expect(problems).to_contain_text("東地区")
    with scopes_disabled():
        assert ReminderRule.objects.get(pk=rule.pk).extra_dates == []

    page.set_input_files("input[name=file]", str(good))
    page.get_by_test_id("import-submit").click()
    page.wait_for_url(f"{live_server.url}/admin/delivery/reminderrule/{rule.pk}/change/")
    expect(page.locator(".messagelist .success")).to_contain_text("1")
    with scopes_disabled():
        rule.refresh_from_db()
    assert (rule.extra_dates, rule.skip_dates) == (["2025-12-30"], ["2026-01-01"])
