"""A channel admin designs a two-tab rich menu in the console (layouts, actions, the
image drawn from the labels), sees it as on a phone, publishes it to LINE (the
simulator) and a resident's chat shows it."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from delivery.richmenus.models import PublicationStatus, RichMenuPublication
from tests.browser.conftest import signed_in
from tests.delivery.line_world import line_world  # noqa: F401 (fixture)
from tests.delivery.richmenus.world import published_procedure, sim_menu_of
from tests.factories import staff_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _area(page, prefix: str, row: int, kind: str, target: str, value: str, label: str) -> None:
    page.get_by_test_id(f"{prefix}area-{row}-kind").select_option(kind)
    if target:
        field = page.get_by_test_id(f"{prefix}area-{row}-{target}")
        if target == "procedure":
            field.select_option(value)
        else:
            field.fill(value)
    page.get_by_test_id(f"{prefix}area-{row}-label").fill(label)


def _add_tab(page, key: str, title: str, layout: str, areas: list[tuple], shoot=None) -> None:
    page.get_by_test_id("new-key").fill(key)
    page.get_by_test_id("new-title").fill(title)
    page.get_by_test_id(f"new-layout-{layout}").check()
    for row, area in enumerate(areas):
        _area(page, "new-", row, *area)
    expect(page.get_by_test_id(f"new-area-{len(areas)}-kind")).to_be_hidden()  # the layout's rows
    if shoot:
        page.get_by_test_id("new-layout-compact-2").scroll_into_view_if_needed()
        shoot()
    page.get_by_test_id("add-tab").click()
    expect(page.get_by_test_id(f"preview-{key}")).to_be_visible()


@pytest.mark.usefixtures("eager_celery")
def test_design_preview_and_publish_a_menu_with_tabs(
    browser,
    live_server,
    city,
    designer,
    line_world,  # noqa: F811 (the fixture imported above)
    doc_screenshot,
):
    published_procedure(city, designer)
    admin = staff_member(city, "admin", email="channel-admin@demo-city.example")
    page = signed_in(browser, live_server, admin.email)
    page.goto(f"{live_server.url}/admin/delivery/richmenuset/add/")
    page.fill("input[name=name]", "基本メニュー")
    page.check("input[name=is_default]")
    doc_screenshot(page, "richmenu-set-add")
    page.click("input[name=_save]")
    expect(page.get_by_test_id("richmenu-designer")).to_be_visible()

    _add_tab(
        page,
        "life",
        "くらし",
        "large-3",
        [
            ("tab", "tab", "safety", "防災"),
            ("procedure", "procedure", "pet-registration", "ペット登録"),
            ("applications", "", "", "申請状況"),
        ],
    )
    _add_tab(
        page,
        "safety",
        "防災",
        "compact-2",
        [
            ("tab", "tab", "life", "くらし"),
            ("uri", "uri", "https://example.jp/bousai", "防災サイト"),
        ],
        shoot=lambda: doc_screenshot(page, "richmenu-designer-areas"),
    )
    page.get_by_test_id("publish").click()

    expect(page.get_by_test_id("publish-status")).to_contain_text("公開")
    with scopes_disabled():
        publication = RichMenuPublication.objects.get()
    assert publication.status == PublicationStatus.LIVE
    expect(page.get_by_test_id("preview-life").locator("img")).to_be_visible()
    page.get_by_test_id("preview-life").scroll_into_view_if_needed()
    doc_screenshot(page, "richmenu-designer-preview")
    assert sim_menu_of(line_world().user_id) == publication.line_ids["life"]
    page.context.close()  # no request of this tab outlives the live server
