"""An admin edits a resident attribute's options as rows (no JSON): adds one, reorders,
renames a value residents hold (the page says they move with it), saves; the same form
works without JavaScript."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from delivery.broadcasts.models import AttributeField
from procedures.models import Procedure
from procedures.residents.models import Resident
from procedures.residents.services import resident_create
from tests.browser.conftest import signed_in
from tests.delivery.broadcast_world import area_field
from tests.factories import MunicipalityFactory, staff_member

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def area(live_server):
    city = MunicipalityFactory(slug="demo-city", name="デモ市")
    staff_member(city, "admin", email="admin@demo-city.example")
    field = area_field(city)
    with scopes_disabled():
        for _n in range(3):
            person = resident_create(municipality=city)
            Resident.objects.filter(pk=person.pk).update(attributes={"area": "north"})
    return field


def test_an_admin_adds_reorders_and_renames_options_by_clicking(
    browser, live_server, area, doc_screenshot
):
    tab = signed_in(browser, live_server, "admin@demo-city.example")
    tab.goto(f"{live_server.url}/admin/delivery/attributefield/{area.pk}/change/")
    rows = tab.get_by_test_id("option-rows").locator("tr.option-row:visible")
    expect(rows).to_have_count(2)

    tab.get_by_test_id("option-add").click()
    rows.nth(2).locator("input[name$='-label']").fill("東地区")
    rows.nth(2).locator("input[name$='-value']").fill("east")
    rows.nth(2).get_by_role("button", name="上へ移動").click()
    rows.nth(0).locator("input[name$='-value']").fill("kita")
    expect(rows.nth(0).locator(".option-move")).to_contain_text("3人")
    doc_screenshot(tab, "attributes-options-editor", full_page=True)

    tab.get_by_role("button", name="保存", exact=True).click()
    expect(tab.locator(".messagelist")).to_contain_text("3人の住民の登録を")
    with scopes_disabled():
        field = AttributeField.objects.get(pk=area.pk)
        assert field.option_values == ["kita", "east", "south"]
        assert set(Resident.objects.values_list("attributes__area", flat=True)) == {"kita"}


def test_the_options_form_works_without_javascript(browser, live_server, area):
    signed = signed_in(browser, live_server, "admin@demo-city.example")
    no_js = browser.new_context(java_script_enabled=False, locale="ja-JP")
    no_js.add_cookies(signed.context.cookies())
    page = no_js.new_page()
    page.goto(f"{live_server.url}/admin/delivery/attributefield/{area.pk}/change/")

    page.fill("input[name='options-2-label']", "東地区")
    page.fill("input[name='options-2-value']", "east")
    page.check("input[name='options-1-DELETE']")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url("**/attributefield/")

    with scopes_disabled():
        assert AttributeField.objects.get(pk=area.pk).option_values == ["north", "east"]
    no_js.close()
    signed.context.close()


def test_a_designer_binds_profile_steps_to_attributes_in_the_builder(
    browser, live_server, area, doc_screenshot
):
    """Opening the builder takes over options changed in the console; choosing an
    attribute for a new step gives it the attribute's key, type and options."""
    from procedures.services import procedure_create
    from tests.procedures.test_builder_profile import profile_document

    city = area.municipality
    designer = staff_member(city, "designer", email="designer@demo-city.example")
    with scopes_disabled():
        AttributeField.objects.create(
            municipality=city,
            key="interests",
            label="関心",
            kind="multi_choice",
            options=[{"value": "kids", "label": "子育て"}, {"value": "safety", "label": "防災"}],
        )
        AttributeField.objects.filter(pk=area.pk).update(
            options=[*area.options, {"value": "east", "label": "東地区"}]
        )
    procedure = procedure_create(actor=designer, municipality=city, document=profile_document())
    tab = signed_in(browser, live_server, "designer@demo-city.example")
    tab.goto(f"{live_server.url}/admin/procedures/procedure/{procedure.pk}/builder/")

    expect(tab.get_by_test_id("save-status")).to_contain_text("住民属性の設定に合わせました")
    expect(tab.get_by_test_id("followed-options")).to_contain_text("東地区 (east)")
    tab.get_by_test_id("palette-text").click()
    tab.get_by_test_id("editor").get_by_test_id("field-attribute").select_option("interests")
    expect(tab.get_by_test_id("editor").get_by_test_id("field-id")).to_have_value("interests")
    expect(tab.get_by_test_id("followed-options")).to_contain_text("防災 (safety)")
    doc_screenshot(tab, "builder-profile-attribute")
    tab.get_by_test_id("save-button").click()
    expect(tab.get_by_test_id("save-status")).to_contain_text("保存しました")

    with scopes_disabled():
        steps = {s["id"]: s for s in Procedure.objects.get(pk=procedure.pk).draft["steps"]}
    assert [o["value"] for o in steps["area"]["options"]] == ["north", "south", "east"]
    assert steps["interests"]["type"] == "multi_choice"
    assert [o["value"] for o in steps["interests"]["options"]] == ["kids", "safety"]
    tab.context.close()
