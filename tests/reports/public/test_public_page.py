"""The public report page: a map and a list that works without JavaScript, of reports
the public may see, with rounded places and approved photos only; an embeddable variant."""

import re

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client
from django.urls import reverse

from govtech.tenancy import tenant_scope
from procedures.incidents.models import Report, ReportSettings
from procedures.models import SubmissionStatus
from reports.public import views
from reports.public.selectors import rounded_point
from tests.reports.public.world import (
    TARO,
    approved_photo,
    build_world,
    report_by_api,
    report_by_line,
    set_status,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(city, designer):
    return build_world(city, designer)


def page(slug="demo-city", **params):
    return Client().get(reverse("public-reports", args=[slug]), params)


def photo_status(url: str) -> int:
    """The status of a photo URL, the file closed again."""
    return closed(Client().get(url)).status_code


def closed(response):
    """``response`` with its file closed, as the test client closes a streamed response:
    without request_finished closing the test's database connection."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    return response


def listed_ids(response) -> list[int]:
    return [int(found) for found in re.findall(r'id="report-(\d+)"', response.content.decode())]


def test_it_is_404_unless_the_city_publishes_its_reports(world, other_town):
    assert page().status_code == 200
    assert page("other-town").status_code == 404
    assert page("no-such-town").status_code == 404
    with tenant_scope(world.city):
        ReportSettings.objects.update(public_enabled=False)
    assert page().status_code == 404


def test_it_lists_reports_with_category_status_date_and_rounded_place(world):
    report = report_by_line(world.city, TARO)
    set_status(report, SubmissionStatus.IN_REVIEW)
    with tenant_scope(world.city):
        Report.objects.filter(pk=report.pk).update(public_note="12月10日に補修します")
    response = page()
    html = response.content.decode()
    assert listed_ids(response) == [report.pk]
    assert "道路" in html and "対応中" in html and "12月10日に補修します" in html
    assert "2026年12月5日" in html
    lat, lon = rounded_point(TARO.latitude, TARO.longitude, 100)
    assert f"{lat:.5f}, {lon:.5f}" in html


def test_it_leaves_out_private_merged_test_and_withdrawn_reports(world):
    shown = report_by_api(world.roads, 35.0, 139.0)
    private = report_by_api(world.private, 35.0, 139.0)
    merged = report_by_api(world.roads, 35.0, 139.0)
    withdrawn = report_by_api(world.roads, 35.0, 139.0)
    testing = report_by_api(world.roads, 35.0, 139.0)
    with tenant_scope(world.city):
        Report.objects.filter(pk=merged.pk).update(merged_into=shown)
        testing.submission.__class__.objects.filter(pk=testing.submission_id).update(is_test=True)
    set_status(withdrawn, SubmissionStatus.WITHDRAWN)
    assert listed_ids(page()) == [shown.pk]
    assert private.pk not in listed_ids(page(status="received"))


def test_it_filters_by_category_and_status_without_javascript(world):
    received = report_by_api(world.roads, 35.0, 139.0)
    completed = report_by_api(world.roads, 35.0, 139.0)
    set_status(completed, SubmissionStatus.COMPLETED)
    assert listed_ids(page(status="completed")) == [completed.pk]
    assert listed_ids(page(status="received")) == [received.pk]
    assert listed_ids(page(category="road", status="")) == [completed.pk, received.pk]
    assert listed_ids(page(category="harassment")) == []
    html = page().content.decode()
    assert '<form class="public-filters" method="get"' in html
    assert '<option value="harassment"' not in html  # a private category is not offered


def test_it_pages_the_list_and_keeps_the_filter(world, monkeypatch):
    reports = [report_by_api(world.roads, 35.0, 139.0) for _ in range(3)]
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    first, second = page(category="road"), page(category="road", page=2)
    assert listed_ids(first) == [reports[2].pk, reports[1].pk]
    assert listed_ids(second) == [reports[0].pk]
    assert "?category=road&amp;page=2" in first.content.decode()


def test_it_shows_approved_photos_only_through_its_own_view(world):
    report = report_by_line(world.city, TARO)
    approved = approved_photo(report)
    hidden = approved_photo(report, public=False)
    with tenant_scope(world.city):
        resident_photo = report.photos.get(upload__isnull=False)
        upload_url = resident_photo.upload.file.url
    html = page().content.decode()
    photo_url = reverse("public-report-photo", args=["demo-city", approved.pk])
    assert photo_url in html
    assert reverse("public-report-photo", args=["demo-city", hidden.pk]) not in html
    assert upload_url not in html and "/media/" not in html
    response = Client().get(photo_url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    closed(response)
    for photo in (hidden, resident_photo):
        assert photo_status(reverse("public-report-photo", args=["demo-city", photo.pk])) == 404


def test_a_resident_photo_is_shown_once_approved(world):
    report = report_by_line(world.city, TARO)
    with tenant_scope(world.city):
        photo = report.photos.get()
        url = reverse("public-report-photo", args=["demo-city", photo.pk])
        assert photo_status(url) == 404
        report.photos.update(is_public=True)
    assert photo_status(url) == 200


def test_a_photo_of_another_city_or_a_private_report_is_404(world, other_town):
    private = report_by_api(world.private, 35.0, 139.0)
    photo = approved_photo(private)
    assert photo_status(reverse("public-report-photo", args=["demo-city", photo.pk])) == 404
    shown = approved_photo(report_by_api(world.roads, 35.0, 139.0))
    assert photo_status(reverse("public-report-photo", args=["demo-city", shown.pk])) == 200
    assert photo_status(reverse("public-report-photo", args=["other-town", shown.pk])) == 404


def test_only_the_embed_page_may_be_framed(world):
    report_by_api(world.roads, 35.0, 139.0)
    full = page()
    assert full["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in full["Content-Security-Policy"]
    embed = Client().get(reverse("public-reports-embed", args=["demo-city"]))
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed
    policy = embed["Content-Security-Policy"]
    assert "frame-ancestors *" in policy and "script-src 'self';" in policy
    html = embed.content.decode()
    assert "public-header" not in html and "public-filters" in html


def test_the_embed_page_allows_only_the_configured_sites(world, settings):
    settings.REPORTS_EMBED_FRAME_ANCESTORS = "https://www.city.example.lg.jp"
    embed = Client().get(reverse("public-reports-embed", args=["demo-city"]))
    assert "frame-ancestors https://www.city.example.lg.jp" in embed["Content-Security-Policy"]


def test_the_map_draws_rounded_points_from_vendored_scripts(world, settings):
    settings.MAP_TILE_URL = "https://tiles.example.jp/{z}/{x}/{y}.png"
    report_by_line(world.city, TARO)
    html = page().content.decode()
    assert "/static/vendor/leaflet/leaflet.js" in html
    assert "/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in html
    assert "https://tiles.example.jp/{z}/{x}/{y}.png" in html
    assert "unpkg" not in html and "cdn" not in html.lower()
    lat, lon = rounded_point(TARO.latitude, TARO.longitude, 100)
    assert f'"lat": {lat}' in html and f'"lon": {lon}' in html


def test_without_a_tile_server_the_list_stands_alone(world, settings):
    settings.MAP_TILE_URL = ""
    report_by_api(world.roads, 35.0, 139.0)
    html = page().content.decode()
    assert "leaflet.js" not in html and "public-report" in html


def test_the_page_reads_in_few_queries(world, django_assert_max_num_queries):
    for _ in range(5):
        approved_photo(report_by_api(world.roads, 35.0, 139.0))
    with django_assert_max_num_queries(8):
        assert page().status_code == 200
