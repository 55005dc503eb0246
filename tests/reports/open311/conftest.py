"""An Open311 world: demo-city publishing its reports (tests.reports.public.world) and a
client application with its API key."""

import pytest
from django.test import Client

from reports.open311.clients import open311_client_create
from tests.reports.public.world import build_world


@pytest.fixture
def world(city, designer):
    return build_world(city, designer)


@pytest.fixture
def api_key(world, admin_user):
    _client, key = open311_client_create(
        actor=admin_user, municipality=world.city, name="まちレポアプリ"
    )
    return key


class Open311:
    """Calls /open311/v2/ as a client would (jurisdiction_id = demo-city by default)."""

    def __init__(self, jurisdiction="demo-city"):
        self.client = Client()
        self.jurisdiction = jurisdiction

    def _params(self, params):
        if self.jurisdiction is not None:
            params.setdefault("jurisdiction_id", self.jurisdiction)
        return params

    def get(self, path, fmt="json", **params):
        return self.client.get(f"/open311/v2/{path}.{fmt}", self._params(params))

    def post(self, fmt="json", **data):
        return self.client.post(f"/open311/v2/requests.{fmt}", self._params(data))


@pytest.fixture
def open311():
    return Open311()
