"""The public page and Open311 never expose who reported (name, words, phone, handle,
reference number, exact place, typed address), any place of a private category's report,
or a photo staff did not approve: every public response is searched for each of them."""

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from govtech.tenancy import tenant_scope
from procedures.models import ResidentUpload
from reports.open311.clients import open311_client_create
from reports.public.selectors import rounded_point
from tests.reports.open311.conftest import Open311
from tests.reports.public.test_public_page import photo_status
from tests.reports.public.world import (
    HANAKO,
    NOW,
    TARO,
    approved_photo,
    build_world,
    report_by_api,
    report_by_line,
)

pytestmark = pytest.mark.django_db


def _coordinates(latitude: float, longitude: float) -> list[str]:
    """How an exact place could appear in a page or a JSON/XML document."""
    return [
        f"{latitude}",
        f"{longitude}",
        f"{latitude:.5f}",
        f"{longitude:.5f}",
        f"{latitude:.4f}",
        f"{longitude:.4f}",
    ]


@pytest.fixture
def world(city, designer):
    return build_world(city, designer)


@pytest.fixture
def published(world):
    """A public report with a resident's photo (not approved) and an approved after
    photo, and a private report with an approved photo, both sent through LINE."""
    public = report_by_line(world.city, TARO)
    after = approved_photo(public)
    private = report_by_line(world.city, HANAKO, keyword="相談通報")
    private_photo = approved_photo(private)
    with tenant_scope(world.city):
        resident_photo = public.photos.get(upload__isnull=False)
        uploads = list(ResidentUpload.objects.all())
    return {
        "public": public,
        "private": private,
        "after": after,
        "private_photo": private_photo,
        "resident_photo": resident_photo,
        "uploads": uploads,
    }


def public_documents(world) -> dict[str, str]:
    """Every public response about demo-city's reports, as text."""
    client, open311 = Client(), Open311()
    slug = world.city.slug
    documents = {
        "page": client.get(reverse("public-reports", args=[slug])),
        "page received": client.get(reverse("public-reports", args=[slug]), {"status": "received"}),
        "embed": client.get(reverse("public-reports-embed", args=[slug])),
    }
    with time_machine.travel(NOW):
        for fmt in ("json", "xml"):
            documents[f"requests.{fmt}"] = open311.get("requests", fmt=fmt)
            documents[f"services.{fmt}"] = open311.get("services", fmt=fmt)
            documents[f"road.{fmt}"] = open311.get("services/road", fmt=fmt)
    for name, response in documents.items():
        assert response.status_code == 200, name
    return {name: response.content.decode() for name, response in documents.items()}


def test_no_reporter_identity_anywhere(world, published):
    public = published["public"]
    with tenant_scope(world.city):
        reference = public.submission.reference
    secrets = [
        TARO.name,
        TARO.detail,
        TARO.phone,
        TARO.handle,
        TARO.address,
        "丸の内",
        reference,
        *_coordinates(TARO.latitude, TARO.longitude),
    ]
    for name, text in public_documents(world).items():
        for secret in secrets:
            assert secret not in text, (name, secret)
    with time_machine.travel(NOW):
        one = Open311().get(f"requests/{public.pk}").content.decode()
    assert all(secret not in one for secret in secrets)


def test_the_public_place_is_the_grid_cell_not_the_point(world, published):
    lat, lon = rounded_point(TARO.latitude, TARO.longitude, 100)
    assert (lat, lon) != (TARO.latitude, TARO.longitude)
    assert abs(lat - TARO.latitude) * 111_320 <= 50.01  # within half a cell
    with time_machine.travel(NOW):
        [request] = Open311().get("requests").json()
    assert (request["lat"], request["long"]) == (lat, lon)


def test_nearby_reports_share_one_public_point(world):
    first = report_by_api(world.roads, 35.681236, 139.767125)
    second = report_by_api(world.roads, 35.681336, 139.767225)  # about 14 m away
    with time_machine.travel(NOW):
        places = {(r["lat"], r["long"]) for r in Open311().get("requests").json()}
    assert len(places) == 1
    assert first.pk != second.pk


def test_a_coarser_precision_moves_the_point_further(world):
    world.settings.public_precision_m = 1000
    with tenant_scope(world.city):
        world.settings.save()
    report_by_api(world.roads, 35.681236, 139.767125)
    with time_machine.travel(NOW):
        [request] = Open311().get("requests").json()
    assert (request["lat"], request["long"]) == rounded_point(35.681236, 139.767125, 1000)
    assert (request["lat"], request["long"]) != rounded_point(35.681236, 139.767125, 100)


def test_nothing_of_a_private_category_is_published(world, published):
    private = published["private"]
    lat, lon = rounded_point(HANAKO.latitude, HANAKO.longitude, 100)
    secrets = [
        HANAKO.name,
        HANAKO.detail,
        HANAKO.phone,
        HANAKO.address,
        "ハラスメント",
        "harassment",
        *_coordinates(HANAKO.latitude, HANAKO.longitude),
        *_coordinates(lat, lon),
        reverse("public-report-photo", args=["demo-city", published["private_photo"].pk]),
    ]
    for name, text in public_documents(world).items():
        for secret in secrets:
            assert secret not in text, (name, secret)
    open311 = Open311()
    with time_machine.travel(NOW):
        assert open311.get(f"requests/{private.pk}").status_code == 404
        assert open311.get("requests", service_request_id=str(private.pk)).json() == []
        assert open311.get("requests", service_code="harassment").json() == []
    url = reverse("public-report-photo", args=["demo-city", published["private_photo"].pk])
    assert photo_status(url) == 404


def test_only_approved_photos_are_published(world, published):
    after_url = reverse("public-report-photo", args=["demo-city", published["after"].pk])
    unapproved_url = reverse(
        "public-report-photo", args=["demo-city", published["resident_photo"].pk]
    )
    documents = public_documents(world)
    assert after_url in documents["page"] and after_url in documents["requests.json"]
    for name, text in documents.items():
        assert unapproved_url not in text, name
        for upload in published["uploads"]:
            assert str(upload.pk) not in text, name
            assert upload.file.name not in text, name
        assert "/media/" not in text, name
    assert photo_status(unapproved_url) == 404


def test_an_open311_post_leaves_no_trace_of_its_reporter(world, admin_user):
    _client, key = open311_client_create(actor=admin_user, municipality=world.city, name="app")
    response = Open311().post(
        api_key=key,
        service_code="road",
        lat="35.6895",
        long="139.6917",
        address_string="新宿区西新宿2-8-1",
        email="hanako@example.jp",
        first_name="花子",
        last_name="佐藤",
        phone="08011112222",
        description="佐藤宅の前の街灯が消えている",
        media_url="https://photos.example.jp/secret.jpg",
        **{"attribute[kind]": "light"},
    )
    assert response.status_code == 200
    secrets = ["hanako@example.jp", "花子", "佐藤", "08011112222", "西新宿", "secret.jpg"]
    secrets += _coordinates(35.6895, 139.6917)
    for name, text in public_documents(world).items():
        for secret in secrets:
            assert secret not in text, (name, secret)


def test_another_citys_reports_never_show(world, other_town, designer):
    theirs = build_world(other_town, designer)
    report_by_api(theirs.roads, 36.123456, 140.123456)
    lat, _lon = rounded_point(36.123456, 140.123456, 100)
    for name, text in public_documents(world).items():
        assert f"{lat}" not in text and "36.12" not in text, name
