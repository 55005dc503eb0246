"""A broadcaster composes a broadcast with message cards, never typing JSON: a text with the
resident's name, an uploaded photo (its GPS position removed), a button that starts a live
procedure; reorders them with the keyboard, sees the LINE preview follow, and saves."""

import io
import re
import urllib.request

import pytest
from django_scopes import scopes_disabled
from PIL import Image
from playwright.sync_api import expect

from delivery.broadcasts.images import IMAGE_DIR
from delivery.broadcasts.models import Broadcast
from procedures.services import procedure_create, procedure_publish
from tests.browser.test_segment_builder import log_in
from tests.delivery.line_world import line_world  # noqa: F401 (fixture)
from tests.delivery.test_broadcast_images import GPS_IFD, photo
from tests.factories import staff_member
from tests.procedures.docs import pet_registration

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TEXT = "{display_name}さん、犬の登録の変更はLINEでできます"


def test_compose_with_cards_upload_a_photo_reorder_and_save(
    page,
    live_server,
    city,
    line_world,  # noqa: F811 (the fixture imported above)
    screenshot,
    tmp_path,
):
    procedure = procedure_create(actor=None, municipality=city, document=pet_registration())
    procedure_publish(actor=None, procedure=procedure)
    good = tmp_path / "dog.jpg"
    good.write_bytes(photo(size=(1600, 1200), gps=True))
    wrong = tmp_path / "notice.jpg"
    wrong.write_bytes(b"%PDF-1.4 this is not a photo")
    log_in(page, live_server.url, staff_member(city, "broadcaster"))
    page.goto(f"{live_server.url}/admin/delivery/broadcast/add/")
    page.select_option("select[name=channel]", str(line_world.channel.pk))
    page.fill("input[name=title]", "犬の登録")
    expect(page.locator("#id_messages")).to_be_hidden()  # the JSON waits behind "advanced"
    cards = page.get_by_test_id("composer-card")
    preview = page.get_by_test_id("broadcast-preview").get_by_test_id("preview-message")

    # 1. Text, with the resident's name inserted by a button.
    page.get_by_test_id("add-text").click()
    expect(page.get_by_test_id("add-text")).to_have_text("＋ テキスト")
    text = cards.nth(0).locator("textarea")
    expect(text).to_be_focused()
    cards.nth(0).get_by_test_id("insert-display-name").click()
    expect(text).to_be_focused()
    page.keyboard.type(TEXT.removeprefix("{display_name}"))
    expect(text).to_have_value(TEXT)
    expect(cards.nth(0)).to_contain_text(f"{len(TEXT)} / 5000 文字")
    expect(preview.first.locator(".bubble")).to_have_text(
        TEXT.replace("{display_name}", "山田 花子")
    )

    # 2. A photo: a file that is not one is refused in the card, then the real one.
    page.get_by_test_id("add-image").click()
    cards.nth(1).get_by_test_id("image-file").set_input_files(str(wrong))
    expect(cards.nth(1).get_by_test_id("upload-status")).to_contain_text("受け付けられる")
    expect(cards.nth(1).get_by_test_id("image-thumbnail")).to_have_count(0)
    cards.nth(1).get_by_test_id("image-file").set_input_files(str(good))
    expect(cards.nth(1).get_by_test_id("upload-status")).to_contain_text("アップロードしました")
    thumbnail = cards.nth(1).get_by_test_id("image-thumbnail")
    folder = re.escape(f"{live_server.url}/{IMAGE_DIR}/{city.pk}/")
    expect(thumbnail).to_have_attribute("src", re.compile(folder + r"[0-9a-f]{32}-preview\.jpg"))
    expect(preview).to_have_count(2)
    expect(preview.nth(1).locator("img")).to_have_attribute("src", thumbnail.get_attribute("src"))

    # 3. A button that starts the live procedure, chosen by its title.
    page.get_by_test_id("add-button").click()
    button_card = cards.nth(2)
    button_card.get_by_label("ボタンの上の文章").fill("お手続きはこちらから")
    button_card.get_by_label("ボタンの文字").fill("届け出る")
    expect(button_card.get_by_label("ボタンで始まる手続き")).to_have_value("dog-change")
    expect(button_card.get_by_label("ボタンで始まる手続き").locator("option:checked")).to_have_text(
        "犬の登録事項変更届"
    )
    expect(preview).to_have_count(3)
    expect(preview.nth(2)).to_contain_text("届け出る")

    # A card added by mistake is removed.
    page.get_by_test_id("add-flex").click()
    expect(cards).to_have_count(4)
    cards.nth(3).get_by_test_id("card-remove").click()
    expect(cards).to_have_count(3)

    # Reorder with the keyboard: the button goes first, the focus follows it.
    cards.nth(2).get_by_test_id("card-up").focus()
    page.keyboard.press("Enter")
    expect(cards.nth(1)).to_have_attribute("data-kind", "button")
    expect(cards.nth(1).get_by_test_id("card-up")).to_be_focused()
    page.keyboard.press("Enter")
    expect(cards.nth(0)).to_have_attribute("data-kind", "button")
    expect(cards.nth(0).get_by_test_id("card-down")).to_be_focused()  # "up" is disabled now
    expect(cards.nth(0).locator("h3")).to_have_text("メッセージ1：手続きボタン")
    expect(preview.nth(0)).to_contain_text("届け出る")
    expect(preview.nth(1).locator(".bubble")).to_contain_text("山田 花子さん")
    expect(preview.nth(2).locator("img")).to_be_visible()
    page.get_by_test_id("broadcast-composer").scroll_into_view_if_needed()
    screenshot(page, "broadcast-message-cards")

    page.locator("input[name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/delivery/broadcast/")
    with scopes_disabled():
        saved = Broadcast.objects.get().messages
    assert [item["type"] for item in saved] == ["button", "text", "image"]
    assert saved[0] == {
        "type": "button",
        "text": "お手続きはこちらから",
        "label": "届け出る",
        "procedure": "dog-change",
    }
    assert saved[1] == {"type": "text", "text": TEXT}
    assert saved[2]["url"].startswith(f"{live_server.url}/{IMAGE_DIR}/{city.pk}/")
    assert saved[2]["preview_url"] == saved[2]["url"].replace(".jpg", "-preview.jpg")

    # LINE fetches the photo without logging in; its GPS position is gone.
    with urllib.request.urlopen(saved[2]["url"]) as response:  # noqa: S310 (the live server)
        assert response.headers["Content-Type"] == "image/jpeg"
        served = response.read()
    assert not Image.open(io.BytesIO(served)).getexif().get_ifd(GPS_IFD)
    assert Image.open(io.BytesIO(served)).size == (1600, 1200)
