"""Every Open311 response validates against the GeoReport v2 JSON Schemas the Open311
project publishes (open311/schema-validation, kept in ./schemas with their source), and
its XML carries the same data."""

import json
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
import xmltodict
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from procedures.models import SubmissionStatus
from tests.reports.open311.conftest import Open311
from tests.reports.public.world import (
    NOW,
    TARO,
    approved_photo,
    report_by_api,
    report_by_line,
    set_status,
)

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "schemas"
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    # The checker has no RFC 3339 parser installed; this one is strict enough: ISO 8601
    # with a date, a time and an offset.
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri")
def _uri(value) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return parts is None or bool(parts.scheme in ("http", "https") and parts.netloc)


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def _registry() -> Registry:
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT4))
        for path in SCHEMAS.glob("*.json")
    ]
    return Registry().with_resources(resources)


def validate(payload, name: str) -> None:
    Draft4Validator(_schema(name), registry=_registry(), format_checker=FORMATS).validate(payload)


def validate_post_answer(payload) -> None:
    swagger = _schema("swagger.json")
    schema = {
        "type": "array",
        "minItems": 1,
        "items": swagger["definitions"]["RequestResponse"],
    }
    Draft4Validator(schema, format_checker=FORMATS).validate(payload)


# No schema in the folder for these two: written from the specification's text.
ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}


def as_xml_text(value):
    """What the JSON ``value`` reads as once written as XML and parsed by xmltodict."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return None
    if isinstance(value, dict):
        return {key: as_xml_text(item) for key, item in value.items()}
    return str(value)


def assert_same_in_xml(json_items: list[dict], xml_items) -> None:
    xml_items = xml_items if isinstance(xml_items, list) else [xml_items]
    assert len(xml_items) == len(json_items)
    for json_item, xml_item in zip(json_items, xml_items, strict=True):
        for key, value in json_item.items():
            if isinstance(value, list):
                continue  # nested lists: compared where they are tested
            assert xml_item[key] == as_xml_text(value), key


@pytest.fixture
def reports(world):
    """Open and closed reports, with and without photos, notes and places."""
    line = report_by_line(world.city, TARO)
    approved_photo(line)
    closed = report_by_api(world.roads, 35.0, 139.0)
    set_status(closed, SubmissionStatus.COMPLETED)
    no_place = report_by_api(world.roads, None, None, address="本町1丁目")
    return [line, closed, no_place]


def test_services_and_their_definitions_validate(world):
    open311 = Open311()
    services = open311.get("services").json()
    validate(services, "services.json")
    definition = open311.get("services/road").json()
    validate(definition, "service-definition.json")
    xml = xmltodict.parse(open311.get("services", fmt="xml").content)
    assert_same_in_xml(services, xml["services"]["service"])
    xml_definition = xmltodict.parse(open311.get("services/road", fmt="xml").content)
    attributes = xml_definition["service_definition"]["attributes"]["attribute"]
    assert_same_in_xml(definition["attributes"], attributes)
    assert attributes[0]["values"]["value"][0] == {"key": "pothole", "name": "路面の穴"}


def test_requests_validate_in_every_shape(world, reports):
    open311 = Open311()
    with time_machine.travel(NOW):
        listed = open311.get("requests").json()
        assert len(listed) == 3
        validate(listed, "requests.json")
        for report in reports:
            one = open311.get(f"requests/{report.pk}").json()
            validate(one, "requests.json")
        assert any(item["media_url"] for item in listed)
        assert any(item["lat"] is None for item in listed)
        xml = xmltodict.parse(open311.get("requests", fmt="xml").content)
    assert_same_in_xml(listed, xml["service_requests"]["request"])


def test_an_empty_list_validates(world):
    with time_machine.travel(NOW):
        empty = Open311().get("requests").json()
    assert empty == []
    validate(empty, "requests.json")


def test_a_post_answer_validates(world, api_key):
    response = Open311().post(
        api_key=api_key,
        service_code="road",
        lat="35.0",
        long="139.0",
        **{"attribute[kind]": "light"},
    )
    validate_post_answer(response.json())
    fields = {"service_code": "road", "address_string": "本町", "attribute[kind]": "light"}
    xml = Open311().post(fmt="xml", api_key=api_key, **fields)
    request = xmltodict.parse(xml.content)["service_requests"]["request"]
    assert set(request) == {"service_request_id", "service_notice"}
    validate_post_answer([request])


def test_errors_and_discovery_follow_the_spec(world):
    for response in (
        Open311("atlantis").get("services"),
        Open311(None).get("requests"),
        Open311().get("requests", status="pending"),
        Open311().get("services/nope"),
        Open311().post(service_code="road"),
    ):
        assert response.status_code in (400, 403, 404)
        Draft4Validator(ERRORS).validate(response.json())
    Draft4Validator(DISCOVERY).validate(Open311().get("discovery").json())
    xml = xmltodict.parse(Open311().get("discovery", fmt="xml").content)
    assert xml["discovery"]["endpoints"]["endpoint"]["formats"]["format"] == [
        "application/json",
        "text/xml",
    ]
