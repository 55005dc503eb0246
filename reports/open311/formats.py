"""Open311 responses in the spec's two formats: JSON, and XML with the element names of
the GeoReport v2 examples (``<services><service>``, ``<service_requests><request>``,
``<errors><error>``…)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from django.http import HttpResponse, JsonResponse

FORMATS = ("json", "xml")
# The element of one item of a list, by the list's element name.
XML_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


class Open311Error(Exception):
    """Answered in the spec's error format: ``[{"code": status, "description": …}]``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = str(description)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _element(name: str, value: Any) -> ElementTree.Element:
    element = ElementTree.Element(name)
    if isinstance(value, dict):
        for key, item in value.items():
            element.append(_element(key, item))
    elif isinstance(value, list):
        for item in value:
            element.append(_element(XML_ITEMS.get(name, "item"), item))
    else:
        element.text = _text(value)
    return element


def xml_document(root: str, payload: Any) -> bytes:
    """``payload`` (a list or a dict) as XML under ``root``."""
    return ElementTree.tostring(_element(root, payload), encoding="utf-8", xml_declaration=True)


def respond(fmt: str, root: str, payload: Any, *, status: int = 200) -> HttpResponse:
    """``payload`` as JSON, or as XML under the element ``root``."""
    if fmt == "xml":
        return HttpResponse(
            xml_document(root, payload), status=status, content_type="text/xml; charset=utf-8"
        )
    return JsonResponse(
        payload, status=status, safe=False, json_dumps_params={"ensure_ascii": False}
    )


def error_response(fmt: str, error: Open311Error) -> HttpResponse:
    payload = [{"code": error.status, "description": error.description}]
    return respond(fmt if fmt in FORMATS else "json", "errors", payload, status=error.status)
