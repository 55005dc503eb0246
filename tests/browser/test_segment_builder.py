"""A broadcaster builds a segment by clicking, watches the live count follow the rules,
saves it, and previews a broadcast's messages as LINE draws them."""

import json
from datetime import datetime

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import AttributeField, AttributeKind, Segment
from delivery.services import line_channel_create
from tests.delivery.broadcast_world import area_field
from tests.factories import PASSWORD, MunicipalityFactory, line_friend, staff_member

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def town():
    city = MunicipalityFactory(slug="demo-city", name="デモ市")
    channel = line_channel_create(
        actor=None,
        municipality=city,
        name="デモ市公式",
        channel_id="2000000701",
        channel_secret="s" * 32,
        access_token="t" * 40,
    )
    area_field(city)
    with scopes_disabled():
        AttributeField.objects.create(
            municipality=city, key="child_birth_year", label="子の生年", kind=AttributeKind.NUMBER
        )
        people = [("north", 2016), ("north", 2010), ("south", 2017)]
        for n, (area, year) in enumerate(people):
            line_friend(
                channel,
                f"U{n:032d}",
                is_following=True,
                attributes={"area": area, "child_birth_year": year},
                followed_at=timezone.make_aware(datetime(2024, 1, 1)),
            )
    return city, channel


def log_in(page, base: str, user) -> None:
    page.goto(f"{base}/accounts/login/?next=/admin/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def test_a_rule_built_by_clicking_updates_the_live_count(page, live_server, town, screenshot):
    city, _channel = town
    log_in(page, live_server.url, staff_member(city, "broadcaster"))
    page.goto(f"{live_server.url}/admin/delivery/segment/add/")
    count = page.get_by_test_id("segment-count")
    expect(count).to_have_text("3")  # no conditions: every friend
    expect(page.locator("#id_rules")).to_be_hidden()  # the JSON waits behind "advanced"
    expect(page.get_by_test_id("rule-add")).to_contain_text("条件を追加")

    page.fill("input[name=name]", "北地区の小学生の親")
    page.get_by_test_id("rule-add").click()
    row = page.get_by_test_id("rule-row").first
    expect(row.get_by_test_id("rule-subject")).to_be_focused()
    row.get_by_test_id("rule-subject").select_option(label="地区")
    row.get_by_test_id("rule-value").select_option(label="北地区")
    expect(count).to_have_text("2")

    page.get_by_test_id("rule-add").press("Enter")  # the keyboard works as well
    second = page.get_by_test_id("rule-row").nth(1)
    expect(second).to_have_attribute("aria-label", "条件 2")
    second.get_by_test_id("rule-subject").select_option(label="子の生年")
    second.get_by_test_id("rule-op").select_option(value="gte")
    second.get_by_test_id("rule-value").fill("2015")
    expect(count).to_have_text("1")
    screenshot(page, "segment-builder", full_page=True)

    page.get_by_test_id("rule-match").select_option(value="any")
    expect(count).to_have_text("3")
    page.get_by_test_id("rule-match").select_option(value="all")
    expect(count).to_have_text("1")

    page.get_by_test_id("rules-advanced-toggle").click()
    expect(page.locator("#id_rules")).to_be_visible()
    screenshot(page, "segment-builder-advanced", full_page=True)
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/delivery/segment/")

    with scopes_disabled():
        assert Segment.objects.get().rules == {
            "match": "all",
            "conditions": [
                {"field": "area", "op": "is", "value": "north"},
                {"field": "child_birth_year", "op": "gte", "value": 2015},
            ],
        }


def test_saved_rules_come_back_as_rows_and_json_edits_follow(page, live_server, town):
    city, _channel = town
    rules = {"match": "any", "conditions": [{"field": "area", "op": "in", "value": ["south"]}]}
    with scopes_disabled():
        segment = Segment.objects.create(municipality=city, name="南", rules=rules)
    log_in(page, live_server.url, staff_member(city, "broadcaster"))
    page.goto(f"{live_server.url}/admin/delivery/segment/{segment.pk}/change/")

    row = page.get_by_test_id("rule-row")
    expect(row).to_have_count(1)
    expect(page.get_by_test_id("rule-match")).to_have_value("any")
    expect(row.get_by_test_id("rule-op")).to_have_value("in")
    expect(row.get_by_label("南地区")).to_be_checked()
    expect(page.get_by_test_id("segment-count")).to_have_text("1")

    row.get_by_label("北地区").check()  # keyboard-reachable checkboxes, one per option
    expect(page.get_by_test_id("segment-count")).to_have_text("3")
    row.get_by_test_id("rule-remove").click()
    expect(page.get_by_test_id("rule-add")).to_be_focused()
    expect(page.get_by_test_id("segment-count")).to_have_text("3")

    page.get_by_test_id("rules-advanced-toggle").click()
    unknown = {"match": "all", "conditions": [{"field": "shoe_size", "op": "is", "value": "24"}]}
    page.locator("#id_rules").fill(json.dumps(unknown))
    expect(page.get_by_test_id("rule-notice")).to_be_visible()
    page.locator("#id_rules").fill(json.dumps(rules))
    expect(page.get_by_test_id("rule-notice")).to_be_hidden()
    expect(page.get_by_test_id("rule-row")).to_have_count(1)


def test_groups_nested_by_clicking_update_the_count_and_come_back_as_groups(
    page, live_server, town, screenshot
):
    city, _channel = town
    log_in(page, live_server.url, staff_member(city, "broadcaster"))
    page.goto(f"{live_server.url}/admin/delivery/segment/add/")
    count = page.get_by_test_id("segment-count")
    page.fill("input[name=name]", "北地区、または2017年以降生まれの子の親")

    # all of: [地区 = 北地区] and any of: [子の生年 ≥ 2015, 地区 = 南地区]
    page.get_by_test_id("rule-add").click()
    page.get_by_test_id("rule-row").first.get_by_test_id("rule-subject").select_option(label="地区")
    expect(count).to_have_text("2")
    page.get_by_test_id("rule-add-group").click()
    group = page.get_by_test_id("rule-group")
    expect(group).to_have_attribute("aria-label", "グループ 2")
    inner = group.get_by_test_id("rule-row").first
    expect(inner.get_by_test_id("rule-subject")).to_be_focused()
    expect(group.get_by_test_id("group-match")).to_have_value("any")
    inner.get_by_test_id("rule-subject").select_option(label="子の生年")
    inner.get_by_test_id("rule-op").select_option(value="gte")
    inner.get_by_test_id("rule-value").fill("2015")
    expect(count).to_have_text("1")  # north and born 2015 or later
    group.get_by_test_id("group-add").click()
    second = group.get_by_test_id("rule-row").nth(1)
    expect(second).to_have_attribute("aria-label", "条件 2.2")
    second.get_by_test_id("rule-subject").select_option(label="地区")
    second.get_by_test_id("rule-value").select_option(label="北地区")
    expect(count).to_have_text("2")  # every northerner matches the group now
    page.get_by_test_id("rule-match").select_option(value="any")
    expect(count).to_have_text("3")  # the southerner born in 2017 matches the group
    page.get_by_test_id("rule-match").select_option(value="all")
    expect(count).to_have_text("2")
    screenshot(page, "segment-builder-groups", full_page=True)
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/delivery/segment/")

    nested = {
        "match": "all",
        "conditions": [
            {"field": "area", "op": "is", "value": "north"},
            {
                "match": "any",
                "conditions": [
                    {"field": "child_birth_year", "op": "gte", "value": 2015},
                    {"field": "area", "op": "is", "value": "north"},
                ],
            },
        ],
    }
    with scopes_disabled():
        segment = Segment.objects.get()
        assert segment.rules == nested
    page.goto(f"{live_server.url}/admin/delivery/segment/{segment.pk}/change/")
    expect(page.get_by_test_id("rule-group")).to_have_count(1)
    expect(page.get_by_test_id("rule-row")).to_have_count(3)
    expect(page.get_by_test_id("rule-notice")).to_be_hidden()
    expect(count).to_have_text("2")
    page.get_by_test_id("group-remove").click()
    expect(page.get_by_test_id("rule-group")).to_have_count(0)
    expect(page.get_by_test_id("rule-row").first.get_by_test_id("rule-subject")).to_be_focused()
    expect(count).to_have_text("2")


def test_the_broadcast_page_previews_the_messages_as_line_draws_them(
    page, live_server, town, screenshot
):
    city, channel = town
    author = staff_member(city, "broadcaster")
    items = [
        {"type": "text", "text": "{display_name}さん、粗大ごみの受付が始まりました"},
        {"type": "flex", "template": "notice", "title": "粗大ごみ", "body": "4月1日から受付"},
    ]
    broadcast = broadcasts.broadcast_create(
        actor=author, channel=channel, title="粗大ごみ", items=items
    )
    log_in(page, live_server.url, author)
    page.goto(f"{live_server.url}/admin/delivery/broadcast/{broadcast.pk}/change/")

    preview = page.get_by_test_id("broadcast-preview")
    messages = preview.get_by_test_id("preview-message")
    expect(messages).to_have_count(2)
    expect(messages.first.locator(".bubble")).to_have_text(
        "山田 花子さん、粗大ごみの受付が始まりました"
    )
    expect(messages.first).not_to_contain_text("{display_name}")
    expect(messages.nth(1)).to_contain_text("4月1日から受付")
    preview.scroll_into_view_if_needed()
    screenshot(page, "broadcast-preview")
