"""The suite-wide guard: an outbound HTTP call inside a database transaction fails the test."""

import contextlib
import urllib.request
from pathlib import Path

import pytest
import urllib3
from django.db import transaction

from tests.conftest import NetworkInTransaction

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT = "http://127.0.0.1:9/"  # discard: nothing listens, the connection is refused


def _call_with_urllib3() -> None:
    urllib3.PoolManager(retries=False).request("GET", CLOSED_PORT, timeout=1)


def _call_with_urllib() -> None:
    urllib.request.urlopen(CLOSED_PORT, timeout=1)


@pytest.mark.parametrize("call", [_call_with_urllib3, _call_with_urllib])
def test_a_call_inside_atomic_is_refused_and_recorded(db, network_guard, call):
    with transaction.atomic(), pytest.raises(NetworkInTransaction, match=r"127\.0\.0\.1:9"):
        call()
    assert len(network_guard.violations) == 1
    network_guard.violations.clear()  # planted on purpose: this test must not fail for it


def test_a_swallowed_violation_still_fails_the_test(db, network_guard):
    with transaction.atomic(), contextlib.suppress(Exception):  # code that hides the error
        _call_with_urllib3()
    assert network_guard.violations  # the autouse fixture fails the test at teardown
    network_guard.violations.clear()


@pytest.mark.parametrize("call", [_call_with_urllib3, _call_with_urllib])
def test_a_call_outside_any_transaction_goes_through(db, call):
    """pytest-django's own atomic block around the test does not count."""
    with pytest.raises((urllib3.exceptions.HTTPError, OSError)):
        call()


@pytest.mark.django_db(transaction=True)
def test_a_call_in_a_transactional_test_goes_through_until_atomic_is_opened(network_guard):
    with pytest.raises((urllib3.exceptions.HTTPError, OSError)):
        _call_with_urllib3()
    with transaction.atomic(), transaction.atomic(), pytest.raises(NetworkInTransaction):
        _call_with_urllib3()
    network_guard.violations.clear()


PLANTED = """
import pytest
import urllib3
from django.db import transaction


@pytest.mark.django_db
def test_planted_violation_that_the_code_swallows():
    with transaction.atomic():
        try:
            urllib3.PoolManager(retries=False).request("GET", "http://127.0.0.1:9/", timeout=1)
        except Exception:
            pass
"""


def test_the_guard_fails_a_test_run_with_a_planted_violation(pytester, monkeypatch):
    """A separate pytest run (on SQLite) with the project's conftest: the test body passes,
    the guard turns it into an error."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    pytester.makepyfile(test_planted=PLANTED)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--ds", "govtech.test_settings"
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*network call inside a transaction*", "*127.0.0.1:9/ inside a database transaction*"]
    )
