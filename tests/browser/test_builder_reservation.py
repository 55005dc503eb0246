"""A designer chooses the facility of a reservation step imported from another city's template.

The template keeps its publisher's resource key, which names nothing here: the builder
marks it, offers this municipality's resources by name and key, and once one is chosen
and saved the draft can be published.
"""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from govtech.models import Vendor
from procedures.catalog.services import TemplateMetadata, template_import, template_publish
from procedures.models import ProcedureVersion
from tests.browser.test_builder import editor, log_in, select_step
from tests.procedures.reservation_fixtures import hiroba_document, make_resource

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def imported(city, designer):
    vendor = Vendor.objects.create(name="govtech starter", slug="govtech-starter")
    version = template_publish(
        actor=None,
        publisher=vendor,
        document=hiroba_document(),
        metadata=TemplateMetadata(title="こどもひろば予約", category="子育て"),
    )
    return template_import(actor=designer, municipality=city, version=version)


def open_builder(page, base, procedure) -> None:
    page.goto(f"{base}/admin/procedures/procedure/{procedure.pk}/builder/")
    expect(page.get_by_test_id("builder")).to_be_visible()
    select_step(page, "visit")


def test_designer_replaces_the_templates_key_with_a_facility_of_the_city_and_publishes(
    page, live_server, city, designer, imported, screenshot
):
    make_resource(city, key="hiroba-chuo", name="中央こどもひろば")
    make_resource(city, key="hiroba-kita", name="北こどもひろば", is_active=False)
    base = live_server.url
    log_in(page, base, designer)
    open_builder(page, base, imported)

    form = editor(page)
    expect(form.get_by_test_id("resource-warning")).to_contain_text("kodomo-hiroba")
    choice = form.get_by_test_id("field-resource")
    # The inactive facility is not offered; the template's key stays selected, marked.
    values = choice.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert values == ["", "hiroba-chuo", "kodomo-hiroba"]
    expect(choice.locator("option").nth(1)).to_have_text("中央こどもひろば (hiroba-chuo)")
    expect(choice).to_have_value("kodomo-hiroba")
    screenshot(page, "builder-reservation-resource-unknown")
    choice.select_option("hiroba-chuo")
    expect(form.get_by_test_id("resource-warning")).to_have_count(0)
    expect(choice).to_be_focused()
    page.get_by_test_id("save-button").click()
    # The save must be done before leaving: otherwise the publish link saves again with
    # the same revision and the second save is refused as a conflict (seen on a busy machine).
    expect(page.get_by_test_id("save-status")).to_contain_text("保存しました")
    expect(page.locator("[data-step-id=visit]")).not_to_have_class("has-errors")

    page.get_by_test_id("publish-link").click()
    expect(page.get_by_test_id("publish-ready")).to_be_visible()
    page.get_by_test_id("publish-button").click()
    page.wait_for_url("**/versions/")
    with scopes_disabled():
        assert ProcedureVersion.objects.get().document["steps"][0]["resource"] == "hiroba-chuo"


def test_without_any_resource_the_builder_says_so_instead_of_an_empty_list(
    page, live_server, designer, imported
):
    base = live_server.url
    log_in(page, base, designer)
    open_builder(page, base, imported)

    form = editor(page)
    expect(form.get_by_test_id("resource-none")).to_be_visible()
    expect(form.get_by_test_id("field-resource")).to_have_count(0)
    expect(form.get_by_test_id("resource-link")).to_have_count(0)  # designers ask an admin
    expect(form.get_by_test_id("resource-warning")).to_contain_text("kodomo-hiroba")
