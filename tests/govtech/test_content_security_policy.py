"""Every console and resident page carries a Content-Security-Policy that allows no
inline and no foreign script (the browser tests fail on any refusal the policy causes)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def policy_of(response) -> dict[str, list[str]]:
    directives = [part.split() for part in response["Content-Security-Policy"].split(";")]
    return {words[0]: words[1:] for words in directives if words}


@pytest.mark.parametrize(
    "url",
    ["/admin/", "/admin/procedures/procedure/", "/admin/delivery/faqentry/", "/accounts/login/"],
)
def test_console_pages_allow_only_this_sites_scripts(client, admin_user, url):
    client.force_login(admin_user)
    policy = policy_of(client.get(url, follow=True))
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy.get("default-src", [])


def test_resident_pages_allow_only_this_sites_scripts(client, city):
    for url in ["/simulator/", reverse("public-reports", args=[city.slug])]:
        response = client.get(url)
        assert policy_of(response)["script-src"] == ["'self'"], url
