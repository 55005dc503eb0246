"""Public pages without login answer 429 (with Retry-After) once one address asked too
often this minute; other addresses, and the next minute, are served. Behind the trusted
proxy the address is read from X-Forwarded-For, so residents behind one load balancer
do not share one count."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.reports.public.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def report_map(city, designer, settings):
    settings.PUBLIC_REQUESTS_PER_MINUTE = 3
    build_world(city, designer)
    return reverse("public-reports", args=[city.slug])


def statuses(url: str, count: int, **headers) -> list[int]:
    client = Client()
    return [client.get(url, **headers).status_code for _ in range(count)]


def test_one_address_is_limited_and_told_when_to_come_back(report_map):
    start = timezone.now().replace(second=5)
    with time_machine.travel(start, tick=False):
        assert statuses(report_map, 4, REMOTE_ADDR="198.51.100.7") == [200, 200, 200, 429]
        refused = Client().get(report_map, REMOTE_ADDR="198.51.100.7")
        assert refused["Retry-After"] == "60"
        assert "しばらく" in refused.content.decode()
        assert statuses(report_map, 1, REMOTE_ADDR="198.51.100.8") == [200]  # someone else
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert statuses(report_map, 1, REMOTE_ADDR="198.51.100.7") == [200]  # a new minute


def test_behind_the_trusted_proxy_each_resident_has_their_own_count(report_map, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        taro = statuses(report_map, 4, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
        hanako = statuses(report_map, 1, HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)
        # What a client writes left of the proxy's entry is its own say: not trusted.
        forged = statuses(report_map, 1, HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.7", **proxy)
    assert taro == [200, 200, 200, 429] and hanako == [200] and forged == [429]
