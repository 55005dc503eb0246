"""A designer translates a procedure into Vietnamese in the builder: the completeness
per language, the texts beside the Japanese ones, the publish page's warning. The
screenshot is the designers' guide's (docs/designers-guide.md, 翻訳)."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from procedures.models import Procedure
from procedures.services import procedure_create
from tests.browser.conftest import signed_in
from tests.procedures.docs import pet_registration

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_designer_translates_a_procedure_and_sees_what_is_missing(
    browser, live_server, city, designer, doc_screenshot
):
    document = pet_registration()
    document["languages"] = ["ja", "en"]
    procedure = procedure_create(actor=designer, municipality=city, document=document)
    tab = signed_in(browser, live_server, designer.email)

    tab.goto(f"{live_server.url}/admin/procedures/procedure/{procedure.pk}/translations/")
    tab.get_by_test_id("add-language").select_option("vi")
    tab.get_by_role("button", name="追加").click()
    tab.get_by_role("link", name="ベトナム語に翻訳する").click()
    expect(tab.get_by_test_id("completeness-vi")).to_contain_text("10件中 0件")
    form = tab.get_by_test_id("translation-form")
    form.locator("tr[data-path='title'] input").fill("Thay đổi đăng ký chó")
    form.locator("tr[data-path='steps.0.prompt'] input").fill("Tên chủ nuôi là gì?")
    form.locator("tr[data-path='steps.1.prompt'] input").fill("Đã thay đổi gì?")
    tab.get_by_test_id("save-translations").click()

    expect(tab.get_by_test_id("completeness-vi")).to_contain_text("10件中 3件")
    expect(tab.get_by_test_id("completeness-en")).to_contain_text("10件中 10件")
    doc_screenshot(tab, "builder-translations", full_page=True)
    with scopes_disabled():
        draft = Procedure.objects.get(pk=procedure.pk).draft
    assert draft["languages"] == ["ja", "en", "vi"]
    assert draft["steps"][1]["prompt"]["vi"] == "Đã thay đổi gì?"

    tab.get_by_role("link", name="公開する").first.click()
    warning = tab.get_by_test_id("publish-missing-translations")
    expect(warning).to_contain_text("ベトナム語：10件中 3件が翻訳済みです。")
    expect(tab.get_by_test_id("publish-button")).to_be_enabled()
    tab.context.close()  # chromium's keep-alive connections closed before the server stops
