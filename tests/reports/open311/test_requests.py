"""Open311 service requests: posted ones land in the inbox as the category's procedure's
submission; the list and one request, filtered and paged; tenancy; the spec's errors."""

from datetime import timedelta

import pytest
import time_machine
import xmltodict
from django.utils import timezone

from govtech.access import staff_context_for
from govtech.tenancy import tenant_scope
from procedures.incidents.models import Report
from procedures.models import Submission, SubmissionStatus
from procedures.selectors import submissions_for_reviewer
from reports.models import Open311Client
from reports.open311.clients import open311_client_revoke
from reports.public.selectors import rounded_point
from tests.reports.open311.conftest import Open311
from tests.reports.public.world import NOW, build_world, report_by_api, set_status

pytestmark = pytest.mark.django_db

POST = {
    "service_code": "road",
    "lat": "35.6812",
    "long": "139.7671",
    "address_string": "千代田区丸の内1-9-1",
    "description": "歩道の段差が危ない",
    "email": "Taro@Example.JP",
    "first_name": "太郎",
    "last_name": "山田",
    "phone": "09012345678",
    "media_url": "https://photos.example.jp/p/123.jpg",
    "attribute[kind]": "pothole",
    "attribute[count]": "3",
}


def errors(response) -> list[dict]:
    return response.json()


@pytest.fixture
def posted(open311, api_key):
    response = open311.post(api_key=api_key, **POST)
    assert response.status_code == 200, response.content
    return response.json()[0]


def test_a_posted_request_is_a_submission_of_the_categorys_procedure(world, posted, reviewer):
    with tenant_scope(world.city):
        report = Report.objects.select_related("submission__resident").get(
            pk=posted["service_request_id"]
        )
        submission = report.submission
        inbox = submissions_for_reviewer(staff=reviewer_context(reviewer, world.city))
        assert inbox.filter(pk=submission.pk).exists()
    assert submission.procedure_id == world.roads.procedure_id
    assert submission.channel == "open311" and submission.conversation.channel == "open311"
    assert submission.conversation.status == "submitted"
    assert submission.version_id == world.roads.procedure.live_version_id
    assert submission.status == SubmissionStatus.SUBMITTED
    client = Open311Client.objects.with_scope(municipality=world.city).get()
    assert submission.resident.handle == f"open311:{client.pk}:taro@example.jp"
    assert submission.resident.display_name == "山田 太郎"
    assert submission.answers == {
        "kind": "pothole",
        "count": 3,
        "detail": "歩道の段差が危ない\n写真（リンク）：https://photos.example.jp/p/123.jpg",
        "place": {
            "latitude": 35.6812,
            "longitude": 139.7671,
            "address": "千代田区丸の内1-9-1",
            "title": "",
        },
        "phone": "09012345678",
    }
    assert (report.latitude, report.longitude, report.category) == (35.6812, 139.7671, world.roads)
    assert submission.reference in posted["service_notice"]


def reviewer_context(user, city):
    return staff_context_for(user, municipality_id=city.pk)


def test_the_same_reporter_posting_twice_is_one_resident(world, open311, api_key):
    for _ in range(2):
        assert open311.post(api_key=api_key, **POST).status_code == 200
    with tenant_scope(world.city):
        residents = set(Submission.objects.values_list("resident_id", flat=True))
    assert len(residents) == 1


def test_an_address_alone_is_enough(world, open311, api_key):
    data = {k: v for k, v in POST.items() if k not in ("lat", "long")}
    response = open311.post(api_key=api_key, **data)
    assert response.status_code == 200
    with tenant_scope(world.city):
        report = Report.objects.get(pk=response.json()[0]["service_request_id"])
    assert (report.latitude, report.address) == (None, "千代田区丸の内1-9-1")


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"lat": "", "long": "", "address_string": ""}, 400, "lat と long"),
        ({"long": ""}, 400, "lat と long"),
        ({"lat": "north"}, 400, "lat"),
        ({"lat": "95"}, 400, "lat"),
        ({"service_code": "nope"}, 400, "service_code nope"),
        ({"service_code": "harassment"}, 400, "service_code harassment"),
        ({"service_code": ""}, 400, "service_code"),
        ({"attribute[kind]": ""}, 400, "kind"),
        ({"attribute[kind]": "volcano"}, 400, "kind"),
        ({"attribute[count]": "many"}, 400, "count"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"description": "あ" * 4001}, 400, "4000"),
        ({"api_key": "o311_wrong"}, 403, "api_key"),
        ({"api_key": ""}, 403, "api_key"),
    ],
)
def test_bad_posts_get_the_specs_errors(world, open311, api_key, change, status, words):
    data = {"api_key": api_key, **POST, **change}
    response = open311.post(**{k: v for k, v in data.items()})
    assert response.status_code == status
    [error] = errors(response)
    assert error["code"] == status and words in error["description"]
    with tenant_scope(world.city):
        assert not Submission.objects.exists()


def test_a_revoked_key_or_one_of_another_city_is_refused(world, other_town, designer, api_key):
    build_world(other_town, designer)
    response = Open311("other-town").post(api_key=api_key, **POST)
    assert response.status_code == 403
    client = Open311Client.objects.with_scope(municipality=world.city).get()
    open311_client_revoke(actor=None, client=client, now=timezone.now())
    assert Open311().post(api_key=api_key, **POST).status_code == 403


def test_a_key_notes_when_it_was_last_used(world, open311, api_key):
    assert open311.post(api_key=api_key, **POST).status_code == 200
    client = Open311Client.objects.with_scope(municipality=world.city).get()
    assert client.last_used_at is not None
    assert len(client.key_hash) == 64 and api_key not in client.key_hash
    assert api_key.startswith(client.key_prefix)


def test_an_unknown_or_missing_jurisdiction_is_an_error_in_the_specs_format(world):
    response = Open311("atlantis").get("requests")
    assert response.status_code == 404
    assert errors(response) == [
        {"code": 404, "description": "jurisdiction_id atlantis は見つかりません。"}
    ]
    assert Open311(None).get("services").status_code == 400
    xml = Open311("atlantis").get("services", fmt="xml")
    assert xml.status_code == 404 and xml["Content-Type"].startswith("text/xml")
    assert xmltodict.parse(xml.content)["errors"]["error"]["code"] == "404"


def test_a_city_that_does_not_publish_is_not_found(world, other_town):
    assert Open311("other-town").get("services").status_code == 404


def test_each_jurisdiction_sees_its_own_requests_only(world, other_town, designer):
    ours = report_by_api(world.roads, 35.0, 139.0)
    theirs_world = build_world(other_town, designer)
    theirs = report_by_api(theirs_world.roads, 36.0, 140.0)
    with time_machine.travel(NOW):
        ids = [r["service_request_id"] for r in Open311().get("requests").json()]
        other = [r["service_request_id"] for r in Open311("other-town").get("requests").json()]
        assert ids == [str(ours.pk)] and other == [str(theirs.pk)]
        assert Open311().get(f"requests/{theirs.pk}").status_code == 404
        assert Open311().get("requests", service_request_id=str(theirs.pk)).json() == []


def test_requests_are_filtered_by_ids_code_dates_and_status(world):
    first = report_by_api(world.roads, 35.0, 139.0)
    second = report_by_api(world.roads, 35.0, 139.0)
    set_status(second, SubmissionStatus.COMPLETED)
    with tenant_scope(world.city):
        Report.objects.filter(pk=first.pk).update(created_at=NOW - timedelta(days=100))
    open311 = Open311()

    def ids(**params):
        response = open311.get("requests", **params)
        assert response.status_code == 200, response.content
        return [int(r["service_request_id"]) for r in response.json()]

    with time_machine.travel(NOW):
        assert ids() == [second.pk]  # the last 90 days by default
        assert ids(start_date="2026-08-01T00:00:00+09:00") == [second.pk, first.pk]
        assert ids(end_date="2026-11-01T00:00:00Z", start_date="2026-01-01T00:00:00Z") == [first.pk]
        assert ids(service_request_id=f"{first.pk},{second.pk}") == [second.pk, first.pk]
        assert ids(status="closed") == [second.pk]
        assert ids(status="open") == []
        assert ids(status="open,closed") == [second.pk]
        assert ids(service_code="harassment") == []
        assert ids(service_code="road") == [second.pk]


def test_requests_are_paged(world):
    made = [report_by_api(world.roads, 35.0, 139.0) for _ in range(3)]
    open311 = Open311()
    with time_machine.travel(NOW):
        first = open311.get("requests", page_size="2").json()
        second = open311.get("requests", page_size="2", page="2").json()
    assert [r["service_request_id"] for r in first + second] == [str(r.pk) for r in reversed(made)]


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"status": "pending"},
        {"page": "0"},
        {"page_size": "100000"},
        {"service_request_id": "abc"},
    ],
)
def test_bad_queries_get_a_400_in_the_specs_format(world, params):
    response = Open311().get("requests", **params)
    assert response.status_code == 400
    [error] = response.json()
    assert error["code"] == 400 and error["description"]


def test_one_request_reads_as_a_list_of_one(world):
    report = report_by_api(world.roads, 35.681236, 139.767125)
    response = Open311().get(f"requests/{report.pk}")
    [request] = response.json()
    lat, lon = rounded_point(35.681236, 139.767125, 100)
    assert request["service_request_id"] == str(report.pk)
    assert (request["status"], request["service_code"], request["service_name"]) == (
        "open",
        "road",
        "道路",
    )
    assert (request["lat"], request["long"]) == (lat, lon)
    assert Open311().get("requests/999999").status_code == 404


def test_services_list_public_active_categories_with_their_attributes(world):
    with tenant_scope(world.city):
        world.private.is_active = True
        world.private.save()
    services = Open311().get("services").json()
    assert [s["service_code"] for s in services] == ["road"]
    assert services[0]["metadata"] is True and services[0]["type"] == "realtime"
    definition = Open311().get("services/road").json()
    assert definition["service_code"] == "road"
    attributes = {a["code"]: a for a in definition["attributes"]}
    assert set(attributes) == {"kind", "count"}  # detail is the description
    assert attributes["kind"]["datatype"] == "singlevaluelist"
    assert attributes["kind"]["required"] is True
    assert attributes["kind"]["values"] == [
        {"key": "pothole", "name": "路面の穴"},
        {"key": "light", "name": "街路灯"},
    ]
    assert attributes["count"] == {
        "variable": True,
        "code": "count",
        "datatype": "number",
        "required": False,
        "datatype_description": None,
        "order": 2,
        "description": "個数",
    }
    assert Open311().get("services/harassment").status_code == 404


def test_an_inactive_category_is_no_service(world, open311, api_key):
    with tenant_scope(world.city):
        world.roads.is_active = False
        world.roads.save()
    assert Open311().get("services").json() == []
    assert open311.post(api_key=api_key, **POST).status_code == 400


def test_xml_carries_the_same_requests(world):
    report = report_by_api(world.roads, 35.0, 139.0)
    response = Open311().get(f"requests/{report.pk}", fmt="xml")
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    request = xmltodict.parse(response.content)["service_requests"]["request"]
    assert request["service_request_id"] == str(report.pk)
    assert request["service_code"] == "road" and request["status"] == "open"


def test_a_post_in_xml_answers_in_xml(world, open311, api_key):
    response = open311.post(fmt="xml", api_key=api_key, **POST)
    assert response.status_code == 200
    answer = xmltodict.parse(response.content)["service_requests"]["request"]
    assert answer["service_request_id"].isdigit()


def test_callers_are_throttled_per_key(world, open311, api_key, settings):
    settings.OPEN311_REQUESTS_PER_MINUTE = 2
    codes = [open311.post(api_key=api_key, **POST).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = open311.post(api_key=api_key, **POST)
    assert refused["Retry-After"] == "60" and refused.json()[0]["code"] == 429
    # another caller (no key, another address) is counted apart
    other = Open311().client.get(
        "/open311/v2/services.json", {"jurisdiction_id": "demo-city"}, REMOTE_ADDR="10.0.0.9"
    )
    assert other.status_code == 200


def test_other_methods_are_refused(world):
    response = Open311().client.delete("/open311/v2/services.json?jurisdiction_id=demo-city")
    assert response.status_code == 405
    assert response.json()[0]["code"] == 405


def test_discovery_names_the_endpoint(world):
    discovery = Open311().get("discovery").json()
    [endpoint] = discovery["endpoints"]
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
