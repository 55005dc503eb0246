"""seed_demo builds the demo installation and can run again without changing anything."""

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scopes_disabled
from PIL import Image

from delivery.faq.matching import decide
from delivery.faq.models import FaqEntry
from delivery.faq.services import faq_index
from delivery.spots.models import Spot
from delivery.spots.selectors import nearest_spots
from govtech.access import StaffContext
from govtech.models import Municipality, Role, StaffMembership, User
from govtech.tenancy import tenant_scope
from procedures.casework.demo import CASES
from procedures.casework.models import CaseEvent, CorrectionRequest, SubmissionRevision
from procedures.casework.selectors import QUEUES, InboxFilters, inbox_counts
from procedures.models import (
    Procedure,
    ProcedureVersion,
    ResidentUpload,
    Submission,
    SubmissionStatus,
)
from procedures.residents.models import Notice
from reports.surveys.demo import OPINIONS as SURVEY_OPINIONS
from reports.surveys.demo import RESPONDENTS as SURVEY_RESPONDENTS

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_complete(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert set(Municipality.objects.values_list("slug", flat=True)) == {"demo-city", "other-town"}
    with scopes_disabled():
        roles = set(
            StaffMembership.objects.filter(municipality__slug="demo-city").values_list(
                "role", flat=True
            )
        )
        live = Procedure.objects.filter(municipality__slug="demo-city", live_version__isnull=False)
        assert live.count() >= 4
        assert ProcedureVersion.objects.count() == live.count()  # the second run published nothing
    assert roles == {"admin", "designer", "reviewer", "broadcaster"}
    assert User.objects.get(email="operator@govtech.example").is_superuser
    assert "designer@demo-city.example" in capsys.readouterr().out


def test_printed_demo_login_works(client):
    call_command("seed_demo")
    response = client.post(
        "/accounts/login/", {"login": "designer@demo-city.example", "password": "demo-pass-2026!"}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_seed_demo_says_nothing_at_verbosity_zero(capsys):
    call_command("seed_demo", verbosity=0)

    assert capsys.readouterr().out == ""
    assert User.objects.filter(email="designer@demo-city.example").exists()


def test_seed_demo_fills_the_reviewers_inbox_with_a_working_day_once():
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)

    city = Municipality.objects.get(slug="demo-city")
    reviewer = User.objects.get(email="reviewer@demo-city.example")
    now = timezone.now()
    with tenant_scope(city):
        # The demo's survey answers (reports.surveys.demo) are submissions too.
        surveys = Submission.objects.filter(procedure__draft__kind="survey").count()
        assert surveys == SURVEY_RESPONDENTS + len(SURVEY_OPINIONS)
        submissions = Submission.objects.exclude(procedure__draft__kind="survey")
        submissions = submissions.select_related("resident")
        assert submissions.count() == len(CASES)  # the second run added nothing
        assert set(submissions.values_list("status", flat=True)) == set(SubmissionStatus.values)
        staff = StaffContext(municipality=city, roles=frozenset({Role.REVIEWER}))
        counts = inbox_counts(staff=staff, user=reviewer, filters=InboxFilters(), now=now)
        assert counts["all"] == len(CASES) + surveys
        assert all(counts[queue] > 0 for queue in QUEUES), counts
        days = {timezone.localdate(s.submitted_at) for s in submissions}
        assert len(days) >= 7 and all(s.submitted_at < now for s in submissions)
        assert {s.resident.language for s in submissions} == {"ja", "en"}
        assert all(s.resident.display_name for s in submissions)
        assert all(s.search_text for s in submissions)
        assert CorrectionRequest.objects.filter(status="open", deadline__lt=now).exists()
        assert SubmissionRevision.objects.filter(number=2, correction__isnull=False).exists()
        kinds = set(CaseEvent.objects.values_list("kind", flat=True))
        assert {"note", "message_out", "message_in", "corrected", "withdrawn"} <= kinds
        assert not Notice.objects.filter(status="sent").exists()  # nobody to reach


def test_the_demo_road_reports_have_a_photo_and_a_place_in_the_city():
    call_command("seed_demo", verbosity=0)

    city = Municipality.objects.get(slug="demo-city")
    with tenant_scope(city):
        reports = list(Submission.objects.filter(procedure__key="road-damage"))
        uploads = {str(u.pk): u for u in ResidentUpload.objects.all()}
    assert len(reports) >= 10
    for report in reports:
        place, photo = report.answers["place"], report.answers["photo"]
        assert abs(place["latitude"] - 35.49) < 0.05 and abs(place["longitude"] - 139.41) < 0.05
        assert place["address"]
        upload = uploads[photo["ref"]]
        assert upload.submission_id == report.pk
        with upload.file.open("rb") as stored, Image.open(stored) as image:
            assert (image.format, image.size) == ("JPEG", (640, 480))


def test_seed_demo_gives_spots_to_search_and_a_faq_to_ask_once():
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    city = Municipality.objects.get(slug="demo-city")
    with tenant_scope(city):
        assert Spot.objects.filter(kind="facility").count() == 5
        assert Spot.objects.filter(kind="evacuation_site").count() == 4
        nearest = nearest_spots(latitude=35.4887, longitude=139.4075, kinds=["facility"], limit=1)
        assert nearest[0].spot.name == "デモ市役所"
        assert FaqEntry.objects.filter(kind="garbage").count() == 40
        best, _ = decide(faq_index(city.pk).search("ぺっとぼとる"))
        assert (
            best is not None and FaqEntry.objects.get(pk=best.entry_id).question == "ペットボトル"
        )
