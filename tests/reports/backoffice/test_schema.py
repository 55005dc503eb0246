"""The OpenAPI document describes every back-office endpoint: it validates, each
operation needs the bearer token and has response examples, and writes have request
examples."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from reports.backoffice.urls import urlpatterns

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _back_office_operations(schema) -> dict[str, dict]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "back office" in operation.get("tags", [])
    }


def test_the_schema_validates(schema):
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document


def test_every_back_office_path_is_described(schema):
    documented = {key.split(" ", 1)[1] for key in _back_office_operations(schema)}
    expected = {
        "/api/v1/"
        + str(pattern.pattern)
        .replace("<str:", "{")
        .replace("<slug:", "{")
        .replace("<uuid:", "{")
        .replace(">", "}")
        for pattern in urlpatterns
    }
    assert documented == expected


def test_every_operation_needs_the_token_and_has_examples(schema):
    bearer = schema["components"]["securitySchemes"]["backOfficeToken"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    for name, operation in _back_office_operations(schema).items():
        assert operation["security"] == [{"backOfficeToken": []}], name
        for status in ("401", "429"):
            assert "examples" in operation["responses"][status]["content"]["application/json"]
        ok = operation["responses"]["200"]["content"]
        if "application/json" in ok:
            assert ok["application/json"]["examples"], name
        else:
            assert set(ok) == {"image/jpeg", "image/png"}, name
        if name.startswith("POST"):
            assert operation["requestBody"]["content"]["application/json"]["examples"], name


def test_the_schema_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/submissions/{reference}/status/" in response.content
