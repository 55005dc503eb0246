"""A back office that sends the same status change several times at once (a retry while
the first is still running) with one Idempotency-Key: the change is made once and every
request gets its response (PostgreSQL, one connection each). Without the key the same
race makes one change and refuses the others: what the key's row prevents."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from govtech.tenancy import scopes_disabled, tenant_scope
from procedures.casework.models import CaseEvent
from procedures.casework.services import CaseRefused
from procedures.services import procedure_create, procedure_publish
from reports.backoffice.models import ApiToken
from reports.backoffice.services import api_idempotent, api_submission_transition
from tests.procedures.casework.conftest import submit_pet
from tests.procedures.docs import pet_registration
from tests.reports.backoffice.conftest import issue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
CALLERS = 6


def _at_once(city, work: Callable[[], object]) -> tuple[list[object], list[Exception]]:
    start, results, errors = threading.Barrier(CALLERS), [], []

    def run() -> None:
        try:
            start.wait()
            with tenant_scope(city):
                results.append(work())
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.fixture
def case(city, designer):
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    submission = submit_pet(city)
    key = issue(city, scope="write")
    with scopes_disabled():
        token = ApiToken.objects.select_related("municipality").get(key_prefix=key[:12])
    return submission, token


def _change(token, submission) -> Callable[[], tuple[int, dict]]:
    def perform() -> tuple[int, dict]:
        event = api_submission_transition(token=token, submission=submission, to="in_review")
        return 200, {"event": event.pk}

    return perform


def _status_events(city) -> int:
    with tenant_scope(city):
        return CaseEvent.objects.filter(kind="status").count()


def test_concurrent_requests_with_one_key_change_once(city, case):
    submission, token = case
    perform = _change(token, submission)
    results, errors = _at_once(
        city, lambda: api_idempotent(token=token, key="k", fingerprint="f", perform=perform)
    )
    assert errors == []
    assert len(results) == CALLERS and len(set(map(str, results))) == 1
    assert _status_events(city) == 1


def test_without_the_key_the_same_race_refuses_all_but_one(city, case):
    submission, token = case
    results, errors = _at_once(city, _change(token, submission))
    assert len(results) == 1
    assert len(errors) == CALLERS - 1 and all(isinstance(e, CaseRefused) for e in errors)
    assert _status_events(city) == 1
