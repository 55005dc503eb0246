"""Fixtures shared by every test: tenants, staff of each role, an outsider, a quiet network."""

import http.client
import socket

import pytest
import urllib3
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.db import connections
from django_scopes import scopes_disabled

from govtech.models import Role
from govtech.tenancy import tenant_scope
from tests.factories import MunicipalityFactory, staff_member

pytest_plugins = ["pytester"]

LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")  # noqa: S104


@pytest.fixture(autouse=True, scope="session")
def _block_network():
    """Tests may talk to servers on this machine, never to the internet."""
    original = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and not str(host).startswith(LOOPBACK):
            raise RuntimeError(f"network access to {host} is blocked in tests")
        return original(self, address)

    socket.socket.connect = guarded
    yield
    socket.socket.connect = original


class NetworkInTransaction(AssertionError):
    """An outbound HTTP call was made while a database transaction was open."""


class NetworkGuard:
    """Records HTTP calls made inside ``atomic()`` (STYLE.md rule 12), in any thread.

    The atomic blocks pytest-django opens around a non-transactional test are Django's
    TestCase blocks (``_from_testcase``); only the blocks the code under test opened count.
    """

    def __init__(self) -> None:
        self.violations: list[str] = []

    @staticmethod
    def open_transactions() -> list[str]:
        aliases = []
        for alias in connections:
            connection = connections[alias]
            blocks = connection.atomic_blocks if connection.in_atomic_block else []
            if any(not getattr(block, "_from_testcase", False) for block in blocks):
                aliases.append(alias)
        return aliases

    def check(self, what: str) -> None:
        aliases = self.open_transactions()
        if aliases:
            message = f"{what} inside a database transaction ({', '.join(aliases)})"
            self.violations.append(message)
            raise NetworkInTransaction(message)


NETWORK_GUARD = NetworkGuard()


@pytest.fixture(autouse=True, scope="session")
def _guard_http_clients():
    """Every HTTP client the code uses goes through one of these two: urllib3 (line-bot-sdk,
    requests) and http.client (urllib.request, the simulator's webhooks)."""
    urlopen = urllib3.connectionpool.HTTPConnectionPool.urlopen
    request = http.client.HTTPConnection.request

    def guarded_urlopen(self, method, url, *args, **kwargs):
        NETWORK_GUARD.check(f"{method} {self.host}:{self.port}{url}")
        return urlopen(self, method, url, *args, **kwargs)

    def guarded_request(self, method, url, *args, **kwargs):
        NETWORK_GUARD.check(f"{method} {self.host}:{self.port}{url}")
        return request(self, method, url, *args, **kwargs)

    urllib3.connectionpool.HTTPConnectionPool.urlopen = guarded_urlopen
    http.client.HTTPConnection.request = guarded_request
    yield
    urllib3.connectionpool.HTTPConnectionPool.urlopen = urlopen
    http.client.HTTPConnection.request = request


@pytest.fixture(autouse=True)
def network_guard(_guard_http_clients):
    """Fails the test when it (or a server thread it drives) called the network inside a
    transaction, even if the code under test swallowed the NetworkInTransaction error."""
    NETWORK_GUARD.violations = []
    yield NETWORK_GUARD
    if NETWORK_GUARD.violations:
        pytest.fail("network call inside a transaction:\n" + "\n".join(NETWORK_GUARD.violations))


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def city(db):
    return MunicipalityFactory(slug="demo-city", name="デモ市")


@pytest.fixture
def other_town(db):
    return MunicipalityFactory(slug="other-town", name="アザー町")


@pytest.fixture
def city_scope(city):
    with tenant_scope(city):
        yield city


def _with_totp(user):
    # The presence of a TOTP authenticator is what the MFA requirement checks.
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    return user


@pytest.fixture
def admin_user(city):
    return _with_totp(staff_member(city, Role.ADMIN, email="admin@demo-city.example"))


@pytest.fixture
def designer(city):
    return staff_member(city, Role.DESIGNER, email="designer@demo-city.example")


@pytest.fixture
def reviewer(city):
    return staff_member(city, Role.REVIEWER, email="reviewer@demo-city.example")


@pytest.fixture
def broadcaster(city):
    return staff_member(city, Role.BROADCASTER, email="broadcaster@demo-city.example")


@pytest.fixture
def outsider(other_town):
    """An admin of another municipality: must never see anything of demo-city."""
    return _with_totp(staff_member(other_town, Role.ADMIN, email="admin@other-town.example"))


@pytest.fixture
def operator(db):
    from govtech.models import User

    user = User.objects.create_superuser(email="operator@govtech.example", password="x" * 16)
    return _with_totp(user)


@pytest.fixture
def unscoped():
    with scopes_disabled():
        yield


@pytest.fixture
def eager_celery():
    """Run tasks in the process that enqueues them (after commit), as a worker would."""
    from govtech.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True, scope="session")
def _no_session_left_on_the_test_database(request, django_db_setup, django_db_blocker):
    """At the end, end any PostgreSQL session a test left on the test database (a killed
    worker's backend that PostgreSQL has not noticed yet, a thread's connection), naming
    it, so that pytest-django can drop the database instead of failing the run."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, application_name, backend_start, state, left(query, 80)"
            " FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        left = cursor.fetchall()
        for pid, *_what in left:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    if left:
        print(f"\nended {len(left)} database session(s) left by tests: {left}")


class RecordingNoticeChannel:
    """A notice channel that reaches every resident and records what it was given."""

    name = "recording"

    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def reaches(self, resident) -> bool:
        return True

    def send(self, notice) -> None:
        self.sent.append((notice.resident, notice.prompts))


@pytest.fixture
def notices(monkeypatch):
    """The outbox's only channel for the test: records notices instead of calling LINE."""
    from procedures.residents import registry

    channel = RecordingNoticeChannel()
    monkeypatch.setattr(registry, "_channels", {channel.name: channel})
    return channel
