"""An Open311 client library from PyPI against a live server: ``georeport`` (GeoReport
v2, Python 3) reads services, definitions and requests in JSON and XML. It has no call
to post, and the other library on PyPI (``open311`` 1.1) is Python 2 only, so the post is
made with ``requests`` as the spec describes it (form-encoded ``POST requests.json``)."""

import pytest
import requests
import time_machine
from georeport import GeoReport

from tests.reports.public.world import NOW

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_client_library_posts_and_reads_requests(live_server, world, api_key):
    root = f"{live_server.url}/open311/v2"
    client = GeoReport(root, jurisdiction="demo-city")
    [service] = client.get_service_list()
    assert (service["service_code"], service["metadata"]) == ("road", True)
    definition = client.get_service_definition("road")
    kind = next(a for a in definition["attributes"] if a["code"] == "kind")
    value = kind["values"][0]["key"]

    posted = requests.post(
        f"{root}/requests.json",
        data={
            "jurisdiction_id": "demo-city",
            "api_key": api_key,
            "service_code": service["service_code"],
            "lat": "35.6812",
            "long": "139.7671",
            "description": "側溝のふたが割れています",
            "device_id": "device-42",
            f"attribute[{kind['code']}]": value,
        },
        timeout=10,
    )
    assert posted.status_code == 200, posted.text
    request_id = posted.json()[0]["service_request_id"]

    with time_machine.travel(NOW, tick=True):
        read = client.get_service_request(request_id)
        listed = client.get_service_requests(service_code="road", status="open")
    assert read["service_request_id"] == request_id and read["status"] == "open"
    assert [r["service_request_id"] for r in listed] == [request_id]

    xml = GeoReport(root, jurisdiction="demo-city", output_format="xml")
    assert xml.get_service_list()["service_code"] == "road"
    assert xml.get_service_request(request_id)["service_request_id"] == request_id
