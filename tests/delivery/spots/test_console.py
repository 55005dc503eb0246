"""Spots in the console: a CSV checked, previewed and applied; bad lines listed; the
export downloaded; who may import; another municipality's preview is not found."""

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from delivery.spots.models import Spot, SpotImport
from govtech.tenancy import tenant_scope
from tests.factories import staff_member

DATA = Path(__file__).parent / "data"


def upload(client, name, kind="facility"):
    content = (DATA / name).read_bytes()
    return client.post(
        reverse("admin:delivery_spot_import"),
        {"kind": kind, "file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


def test_an_admin_previews_then_applies_a_file(client, admin_user, city):
    client.force_login(admin_user)
    response = upload(client, "facilities_current_utf8.csv")
    assert response.status_code == 302
    preview = client.get(response["Location"])
    body = preview.content.decode()
    assert "デモ市立中央図書館" in body and "F003" in body
    with tenant_scope(city):
        assert not Spot.objects.exists()  # nothing changes before the apply
    applied = client.post(response["Location"])
    assert applied.status_code == 302
    with tenant_scope(city):
        assert Spot.objects.count() == 3
        assert SpotImport.objects.get().applied_at is not None
    listing = client.get(reverse("admin:delivery_spot_changelist")).content.decode()
    assert "デモ市民体育館" in listing
    again = client.post(response["Location"])  # a double tap applies nothing twice
    assert again.status_code == 200
    with tenant_scope(city):
        assert Spot.objects.count() == 3


def test_bad_lines_are_listed_and_nothing_is_staged(client, admin_user, city):
    client.force_login(admin_user)
    response = upload(client, "bad_lines.csv")
    assert response.status_code == 200
    body = response.content.decode()
    assert "名称が空欄です。" in body and "範囲外です" in body and "URL ではありません" in body
    with tenant_scope(city):
        assert not SpotImport.objects.exists()


def test_the_export_downloads_the_standard_schema(client, admin_user, city):
    client.force_login(admin_user)
    client.post(upload(client, "evacuation_older_cp932.csv", kind="evacuation_site")["Location"])
    response = client.get(reverse("admin:delivery_spot_export", args=["evacuation_site"]))
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    assert content.startswith("全国地方公共団体コード,ID,地方公共団体名,名称")
    assert "災害種別_津波" in content.splitlines()[0] and "中央小学校" in content


def test_a_reviewer_may_look_but_not_import(client, city):
    reviewer = staff_member(city, "reviewer", email="r@demo-city.example")
    client.force_login(reviewer)
    assert client.get(reverse("admin:delivery_spot_changelist")).status_code == 200
    assert client.get(reverse("admin:delivery_spot_import")).status_code == 404
    assert upload(client, "facilities_current_utf8.csv").status_code == 404


def test_another_municipalitys_preview_is_not_found(client, admin_user, city, other_town):
    client.force_login(admin_user)
    staged_url = upload(client, "facilities_current_utf8.csv")["Location"]
    stranger = staff_member(other_town, "broadcaster", email="b@other-town.example")
    client.force_login(stranger)
    assert client.get(staged_url).status_code == 404
    assert client.post(staged_url).status_code == 404
    with tenant_scope(city):
        assert not Spot.objects.exists()
