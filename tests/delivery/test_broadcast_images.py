"""Images of broadcasts: uploaded in the console by broadcast staff, cleaned (no EXIF/GPS),
stored under an unguessable name and served publicly for LINE; nothing else is served."""

import io
import json
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse
from django_scopes import scopes_disabled
from PIL import Image

from delivery.broadcasts.images import IMAGE_DIR
from delivery.broadcasts.messages import render_items, validate_items
from delivery.broadcasts.models import Broadcast
from delivery.images import MAX_BYTES
from govtech.models import AuditLogEntry
from procedures.services import procedure_create, procedure_publish
from tests.procedures.docs import pet_registration

GPS_IFD = 0x8825
MAKE = 0x010F


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "https://city.example.jp"


def photo(fmt: str = "JPEG", size=(1200, 800), *, gps: bool = False) -> bytes:
    image = Image.new("RGBA" if fmt == "PNG" else "RGB", size, (200, 60, 40))
    exif = Image.Exif()
    if gps:
        exif[MAKE] = "SpyCam 3000"
        exif[GPS_IFD] = {1: "N", 2: (35.0, 41.0, 22.0), 3: "E", 4: (139.0, 41.0, 30.0)}
    output = io.BytesIO()
    image.save(output, format=fmt, exif=exif)
    return output.getvalue()


def upload(client, data: bytes, name: str = "photo.jpg", **fields):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("admin:delivery_broadcast_image_upload"), {"file": file, **fields})


def stored(path_of_url: str) -> bytes:
    path = urlsplit(path_of_url).path.lstrip("/")
    with default_storage.open(path, "rb") as file:
        return file.read()


def stored_names() -> list[str]:
    if not default_storage.exists(IMAGE_DIR):
        return []
    folders, _files = default_storage.listdir(IMAGE_DIR)
    return [
        f"{folder}/{name}"
        for folder in folders
        for name in default_storage.listdir(f"{IMAGE_DIR}/{folder}")[1]
    ]


# --- uploading --------------------------------------------------------------------------


def test_a_broadcaster_uploads_a_photo_and_gets_its_public_addresses(client, broadcaster, city):
    client.force_login(broadcaster)
    response = upload(client, photo())

    assert response.status_code == 200
    data = response.json()
    folder = f"https://city.example.jp/{IMAGE_DIR}/{city.pk}/"
    assert data["url"].startswith(folder) and data["url"].endswith(".jpg")
    assert data["preview_url"] == data["url"][: -len(".jpg")] + "-preview.jpg"
    assert (data["width"], data["height"]) == (1200, 800)
    preview = Image.open(io.BytesIO(stored(data["preview_url"])))
    assert (preview.format, preview.size) == ("JPEG", (240, 160))
    validate_items([{"type": "image", **{k: data[k] for k in ("url", "preview_url")}}])


def test_the_upload_is_audited(client, broadcaster, city):
    client.force_login(broadcaster)
    upload(client, photo())

    with scopes_disabled():
        entry = AuditLogEntry.objects.get(action="delivery.broadcast.image_uploaded")
    assert entry.municipality == city
    assert entry.actor == broadcaster
    assert entry.data["file"].startswith(f"{IMAGE_DIR}/{city.pk}/")


def test_exif_and_the_gps_position_are_removed(client, broadcaster):
    original = photo(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test has GPS
    client.force_login(broadcaster)
    data = upload(client, original).json()

    for address in (data["url"], data["preview_url"]):
        content = stored(address)
        assert not Image.open(io.BytesIO(content)).getexif()
        assert b"SpyCam" not in content and b"Exif" not in content


def test_a_png_stays_a_png_and_its_preview_is_a_jpeg(client, broadcaster):
    client.force_login(broadcaster)
    data = upload(client, photo("PNG", (300, 300)), "map.png").json()

    assert data["url"].endswith(".png")
    assert Image.open(io.BytesIO(stored(data["url"]))).format == "PNG"
    assert Image.open(io.BytesIO(stored(data["preview_url"]))).size == (240, 240)


def test_an_image_over_10_mb_is_refused_and_nothing_is_stored(client, broadcaster):
    client.force_login(broadcaster)
    response = upload(client, b"\xff\xd8" + b"0" * MAX_BYTES)

    assert response.status_code == 400
    assert "10MB" in response.json()["error"].replace(" ", "")
    assert stored_names() == []


def test_a_body_far_over_10_mb_is_refused_before_it_is_read(client, broadcaster, monkeypatch):
    from django.http import HttpRequest

    client.force_login(broadcaster)
    monkeypatch.setattr(HttpRequest, "_load_post_and_files", lambda request: 1 / 0)
    response = upload(client, b"\xff\xd8" + b"0" * (MAX_BYTES + 200 * 1024))

    assert response.status_code == 413
    assert "10MB" in response.json()["error"].replace(" ", "")
    assert stored_names() == []


@pytest.mark.parametrize(
    ("data", "name"),
    [(b"%PDF-1.4 not an image", "notice.jpg"), (photo("GIF"), "anim.gif")],
)
def test_a_file_that_is_not_a_jpeg_or_png_is_refused_in_japanese(client, broadcaster, data, name):
    client.force_login(broadcaster)
    response = upload(client, data, name)

    assert response.status_code == 400
    assert any(word in response.json()["error"] for word in ("JPEG", "受け付けられる"))
    assert stored_names() == []


def test_an_upload_without_a_file_says_so(client, broadcaster):
    client.force_login(broadcaster)
    response = client.post(reverse("admin:delivery_broadcast_image_upload"))
    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize("role", ["designer", "reviewer"])
def test_staff_without_a_broadcast_role_cannot_upload(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert upload(client, photo()).status_code == 404
    assert stored_names() == []


def test_a_municipality_admin_may_upload(client, admin_user):
    client.force_login(admin_user)
    assert upload(client, photo()).status_code == 200


def test_nobody_uploads_without_logging_in(client):
    response = upload(client, photo())
    assert response.status_code == 302
    assert stored_names() == []


def test_the_upload_takes_posts_only(client, broadcaster):
    client.force_login(broadcaster)
    assert client.get(reverse("admin:delivery_broadcast_image_upload")).status_code == 405


def test_an_admin_of_another_municipality_gets_404_for_this_citys_channel(
    client, outsider, channel
):
    client.force_login(outsider)
    assert upload(client, photo(), channel=str(channel.pk)).status_code == 404
    assert upload(client, photo(), channel="../1").status_code == 404
    assert stored_names() == []


def test_an_outsiders_upload_lands_in_their_own_municipality(client, outsider, other_town, city):
    client.force_login(outsider)
    data = upload(client, photo()).json()

    assert f"/{IMAGE_DIR}/{other_town.pk}/" in data["url"]
    assert all(name.startswith(f"{other_town.pk}/") for name in stored_names())


def test_an_upload_for_the_chosen_channel_is_the_channels_municipality(
    client, broadcaster, channel, city
):
    client.force_login(broadcaster)
    data = upload(client, photo(), channel=str(channel.pk)).json()
    assert f"/{IMAGE_DIR}/{city.pk}/" in data["url"]


# --- serving ------------------------------------------------------------------------------


def test_the_public_address_serves_the_bytes_to_anyone(client, broadcaster):
    client.force_login(broadcaster)
    data = upload(client, photo()).json()
    client.logout()

    for address, content_type in ((data["url"], "image/jpeg"), (data["preview_url"], "image/jpeg")):
        response = client.get(urlsplit(address).path)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == stored(address)
        response.close()
        assert response["Content-Type"] == content_type
        assert "max-age=31536000" in response["Cache-Control"]
        assert "public" in response["Cache-Control"]
        assert response["X-Content-Type-Options"] == "nosniff"


def test_a_png_is_served_as_a_png(client, broadcaster):
    client.force_login(broadcaster)
    data = upload(client, photo("PNG", (100, 100)), "a.png").json()
    client.logout()
    response = client.get(urlsplit(data["url"]).path)
    response.close()
    assert response["Content-Type"] == "image/png"


def test_the_public_address_answers_gets_only(client, broadcaster):
    client.force_login(broadcaster)
    data = upload(client, photo()).json()
    client.logout()
    assert client.post(urlsplit(data["url"]).path).status_code in (403, 405)
    assert client.delete(urlsplit(data["url"]).path).status_code == 405


def test_a_missing_image_is_a_404(client, city):
    assert client.get(f"/{IMAGE_DIR}/{city.pk}/{'0' * 32}.jpg").status_code == 404


def test_residents_uploads_and_other_files_are_never_served(client, city):
    default_storage.save(f"uploads/{city.pk}/2025/01/{'a' * 32}.jpg", io.BytesIO(photo()))
    default_storage.save(f"{IMAGE_DIR}/{city.pk}/notes.txt", io.BytesIO(b"secret"))
    for path in (
        f"/{IMAGE_DIR}/{city.pk}/../../uploads/{city.pk}/2025/01/{'a' * 32}.jpg",
        f"/{IMAGE_DIR}/{city.pk}/%2e%2e/uploads/{'a' * 32}.jpg",
        f"/{IMAGE_DIR}/{city.pk}/notes.txt",
        f"/{IMAGE_DIR}/uploads/{'a' * 32}.jpg",
        f"/media/uploads/{city.pk}/2025/01/{'a' * 32}.jpg",
    ):
        assert client.get(path).status_code == 404, path


# --- messages that use the images; saving ---------------------------------------------


def test_an_image_message_without_a_preview_address_stays_valid():
    items = [{"type": "image", "url": "https://example.jp/a.jpg"}]
    validate_items(items)
    assert render_items(items, {})[0]["previewImageUrl"] == "https://example.jp/a.jpg"


def test_the_preview_address_is_what_line_shows_in_the_chat():
    items = [{"type": "image", "url": "https://x.jp/a.png", "preview_url": "https://x.jp/p.jpg"}]
    assert render_items(items, {})[0] == {
        "type": "image",
        "originalContentUrl": "https://x.jp/a.png",
        "previewImageUrl": "https://x.jp/p.jpg",
    }


def test_own_images_over_http_are_accepted_only_on_this_machine(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    own = f"http://127.0.0.1:8000/{IMAGE_DIR}/1/{'a' * 32}.jpg"
    validate_items([{"type": "image", "url": own, "preview_url": own}])
    for url in (f"http://127.0.0.1:8000/other/{'a' * 32}.jpg", "http://example.jp/a.jpg"):
        with pytest.raises(ValidationError):
            validate_items([{"type": "image", "url": url}])
    settings.SITE_URL = "http://city.example.jp"  # a misconfigured production: LINE needs https
    with pytest.raises(ValidationError):
        validate_items([{"type": "image", "url": f"http://city.example.jp/{IMAGE_DIR}/1/a.jpg"}])


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"type": "button", "text": "x", "label": "あ" * 21, "procedure": "p"}, "20"),
        ({"type": "button", "text": "x" * 161, "label": "申し込む", "procedure": "p"}, "160"),
        ({"type": "text", "text": "x" * 5001}, "5000"),
        ({"type": "flex", "template": "poster", "title": "t", "body": "b"}, "poster"),
        ({"type": "button", "text": "x", "label": "", "procedure": "p"}, "ボタンの文字"),
    ],
)
def test_limits_of_line_are_checked_with_reasons_for_staff(item, reason):
    with pytest.raises(ValidationError) as refused:
        validate_items([{"type": "text", "text": "はじめに"}, item])
    assert "2件目" in refused.value.messages[0]
    assert reason in refused.value.messages[0]


def _add(client, channel, items):
    return client.post(
        reverse("admin:delivery_broadcast_add"),
        {"channel": channel.pk, "title": "お知らせ", "messages": json.dumps(items)},
    )


def test_a_broadcast_with_an_uploaded_image_and_a_live_procedure_is_saved(
    client, broadcaster, channel, city
):
    procedure = procedure_create(actor=None, municipality=city, document=pet_registration())
    procedure_publish(actor=None, procedure=procedure)
    client.force_login(broadcaster)
    image = upload(client, photo(), channel=str(channel.pk)).json()
    items = [
        {"type": "image", "url": image["url"], "preview_url": image["preview_url"]},
        {"type": "button", "text": "届出は", "label": "届け出る", "procedure": "dog-change"},
    ]

    assert _add(client, channel, items).status_code == 302
    with scopes_disabled():
        assert Broadcast.objects.get().messages == items


def test_a_button_for_a_procedure_that_is_not_published_is_not_saved(
    client, broadcaster, channel, city
):
    procedure_create(actor=None, municipality=city, document=pet_registration())  # draft only
    client.force_login(broadcaster)
    items = [{"type": "button", "text": "届出は", "label": "届け出る", "procedure": "dog-change"}]

    response = _add(client, channel, items)
    assert response.status_code == 200
    assert "dog-change" in response.content.decode()
    with scopes_disabled():
        assert not Broadcast.objects.exists()


def test_the_add_page_offers_the_composer_with_this_citys_live_procedures_only(
    client, broadcaster, channel, city, other_town
):
    for town in (city, other_town):
        document = pet_registration(title={"ja": f"{town.name}の犬の届出"})
        procedure_publish(
            actor=None,
            procedure=procedure_create(actor=None, municipality=town, document=document),
        )
    client.force_login(broadcaster)
    response = client.get(reverse("admin:delivery_broadcast_add"))

    config = response.context["composer"]
    assert config["procedures"] == [{"value": "dog-change", "label": "デモ市の犬の届出"}]
    assert config["upload_url"] == reverse("admin:delivery_broadcast_image_upload")
    assert [kind["label"] for kind in config["kinds"]] == [
        "テキスト",
        "画像",
        "手続きボタン",
        "お知らせカード",
    ]
    assert "broadcasts/composer.js" in response.content.decode()
