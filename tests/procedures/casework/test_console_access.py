"""The 404 walk: every casework URL of the console, for everyone who must not see it.

A reviewer of another department and every role of another municipality get 404 for
every submission URL (the same as a missing submission) and see none of its rows in the
inbox; anonymous visitors are sent to log in; designers and broadcasters of the same
municipality get 403 on the reviewer's pages (and reviewers and broadcasters on the
workflow page).
"""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from govtech.models import AuditLogEntry, Role
from govtech.services import staff_set_roles
from govtech.tenancy import tenant_scope
from procedures.casework.models import CaseEvent
from procedures.models import Notice, Submission
from tests.factories import DepartmentFactory, staff_member
from tests.procedures.casework.console_helpers import (
    ROAD_ANSWERS,
    ROAD_STEPS,
    make_submission,
    photo_answer,
    published,
)

pytestmark = pytest.mark.django_db
ROLES = (Role.ADMIN, Role.DESIGNER, Role.REVIEWER, Role.BROADCASTER)
ACTIONS = ("status", "return", "assign", "note", "message")


@pytest.fixture
def world(city, designer):
    """A road-damage report of the roads department, with a photo and a place."""
    roads = DepartmentFactory(municipality=city, code="roads", name="道路課")
    procedure = published(
        city, designer, "road-damage", "道路の損傷", department=roads, steps=ROAD_STEPS
    )
    with tenant_scope(city):
        answers = dict(ROAD_ANSWERS, photo=photo_answer(city, "A"))
        submission = make_submission(procedure, resident="A", name="座間花子", answers=answers)
    return procedure, submission


PAGES = ("case", "photo", "photo_thumb")  # answered to GET; the others to POST


def submission_urls(submission) -> dict[str, tuple[str, dict]]:
    """Every URL about one submission, with what a POST to it would carry."""
    pk = submission.pk
    photo = [pk, submission.answers["photo"]["ref"]]
    urls = {
        "case": (reverse("admin:procedures_submission_change", args=[pk]), {}),
        "photo": (reverse("admin:procedures_submission_photo", args=photo), {}),
        "photo_thumb": (reverse("admin:procedures_submission_photo_thumb", args=photo), {}),
    }
    bodies = {
        "status": {"expected": "submitted", "to": "accepted", "notify": "on"},
        "return": {"expected": "submitted", "steps": ["what"], "reason": "x"},
        "assign": {"me": "1"},
        "note": {"text": "メモ"},
        "message": {"text": "こんにちは"},
    }
    for name in ACTIONS:
        url = reverse(f"admin:procedures_submission_{name}", args=[pk])
        urls[name] = (url, bodies[name])
    return urls


def workflow_url(procedure) -> str:
    return reverse("admin:procedures_submission_workflow", args=[procedure.pk])


INBOX = "/admin/procedures/submission/"


def _nothing_happened(submission) -> None:
    with tenant_scope(submission.municipality):
        assert CaseEvent.objects.filter(submission=submission).count() == 1  # submitted
        assert Notice.objects.count() == 0
        assert Submission.objects.get(pk=submission.pk).status == "submitted"


def _walk(client, submission, expected: int) -> None:
    for name, (url, body) in submission_urls(submission).items():
        method = client.get if name in PAGES else client.post
        assert method(url, body).status_code == expected, (name, url)
    # Bulk actions name the submission but never reach it.
    client.post(INBOX, {"action": "assign_me", "ids": [submission.pk]})
    _nothing_happened(submission)


def _inbox_hides(client, submission) -> None:
    response = client.get(INBOX, {"queue": "all", "tests": "1"})
    if response.status_code == 200:
        assert submission.reference not in response.content.decode()


def test_a_reviewer_of_another_department_gets_404_everywhere(client, city, world):
    procedure, submission = world
    parks = DepartmentFactory(municipality=city, code="parks", name="公園課")
    reviewer = staff_member(city, Role.REVIEWER)
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[parks]
    )
    client.force_login(reviewer)
    _walk(client, submission, 404)
    _inbox_hides(client, submission)
    assert client.get(workflow_url(procedure)).status_code == 403  # reviewers: not theirs
    with tenant_scope(city):
        viewed = ("procedures.submission.viewed", "procedures.submission.photo_viewed")
        assert not AuditLogEntry.objects.filter(action__in=viewed).exists()


@pytest.mark.parametrize("role", ROLES)
def test_every_role_of_another_municipality_gets_404_everywhere(client, other_town, world, role):
    procedure, submission = world
    client.force_login(_with_mfa(staff_member(other_town, role)))
    _walk(client, submission, 404)
    _inbox_hides(client, submission)
    assert client.get(workflow_url(procedure)).status_code == 404
    assert client.post(workflow_url(procedure), {"correction_days": 3}).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    procedure, submission = world
    urls = [url for url, _body in submission_urls(submission).values()]
    for url in [INBOX, workflow_url(procedure), *urls]:
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url
        response = client.post(url, {})
        assert response.status_code == 302 and "login" in response["Location"], url
    _nothing_happened(submission)


@pytest.mark.parametrize("role", [Role.DESIGNER, Role.BROADCASTER])
def test_designers_and_broadcasters_get_403_on_the_reviewers_pages(client, city, world, role):
    _procedure, submission = world
    client.force_login(staff_member(city, role))
    assert client.get(INBOX).status_code == 403
    assert client.post(INBOX, {"action": "assign_me", "ids": [submission.pk]}).status_code == 403
    _walk(client, submission, 403)


@pytest.mark.parametrize(("role", "expected"), [(Role.BROADCASTER, 403), (Role.REVIEWER, 403)])
def test_only_admins_and_designers_open_the_workflow_page(client, city, world, role, expected):
    procedure, _submission = world
    client.force_login(staff_member(city, role))
    assert client.get(workflow_url(procedure)).status_code == expected
    assert client.post(workflow_url(procedure), {"correction_days": 3}).status_code == expected


def test_a_missing_submission_is_the_same_404(client, reviewer, world):
    client.force_login(reviewer)
    missing = reverse("admin:procedures_submission_change", args=[99999])
    assert client.get(missing).status_code == 404
    assert client.get("/admin/procedures/submission/x/change/").status_code == 404


def _with_mfa(user):
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    return user


def test_the_walked_urls_work_for_the_departments_own_reviewer(client, city, world):
    """The control: every walked URL answers its reviewer, so a 404 above means refused."""
    _procedure, submission = world
    roads = submission.procedure.department
    reviewer = staff_member(city, Role.REVIEWER)
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[roads]
    )
    client.force_login(reviewer)
    for name, (url, body) in submission_urls(submission).items():
        if name in PAGES:
            response = client.get(url)
            assert response.status_code == 200, name
            if response.streaming:
                assert b"".join(response.streaming_content)
        else:
            assert client.post(url, body).status_code == 302, name
    assert submission.reference in client.get(INBOX, {"queue": "all"}).content.decode()
