"""Every starter procedure the demo publishes can be completed in the web form, which is
what a browser without JavaScript gets (Django's client runs no script): one plausible
answer per page, read from the step the page asks, then 送信."""

import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from procedures.catalog.starters import starter_documents
from procedures.models import Submission
from tests.procedures.webform.helpers import WebResident, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_city():
    call_command("seed_demo", stdout=io.StringIO())


def typed_answer(step: dict, html: str) -> str:
    """A value the step accepts: within its bounds, in its format."""
    rules = step.get("validation", {})
    kind = step["type"]
    if kind == "date":  # the latest day allowed (a birth date), else the earliest
        bound = re.search(r' max="([0-9-]+)"', html) or re.search(r' min="([0-9-]+)"', html)
        return bound.group(1) if bound else (timezone.localdate() + timedelta(days=3)).isoformat()
    if kind == "number":
        low = rules.get("min", 1)
        return str(low if isinstance(low, int) else 1)
    return {
        "email": "taro@example.jp",
        "phone": "03-1234-5678",
        "postal_code": "150-0002",
        "time": "10:00",
    }.get(kind, "テスト入力です")


def answer(resident: WebResident, step: dict) -> None:
    kind = step["type"]
    if kind == "yes_no":  # いいえ: a yes often ends a report early (「すぐにお電話を」)
        resident.post({"answer": resident.options()[-1]})
    elif kind in ("choice", "consent", "reservation", "multi_choice"):
        resident.post({"answer": resident.options()[0]})
    elif kind == "image":
        photo = SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")
        resident.post({"answer": photo})
    elif kind == "location":
        resident.post({"address": "渋谷区宇田川町1-1"})
    else:
        resident.answer(typed_answer(step, resident.html))


@pytest.mark.parametrize("key", sorted(doc["key"] for doc in starter_documents()))
def test_a_starter_procedure_is_completed_in_the_web_form(demo_city, key):
    document = next(doc for doc in starter_documents() if doc["key"] == key)
    steps = {step["id"]: step for step in document["steps"]}
    resident = WebResident(key=key)
    resident.start()
    for _ in range(60):
        if resident.step_id not in steps or steps[resident.step_id]["type"] in ("confirm", "end"):
            break
        before = resident.step_id
        answer(resident, steps[resident.step_id])
        error = re.search(r'class="wf-error-message">(.*?)</p>', resident.html, re.S)
        assert error is None, f"{before}: {error.group(1) if error else ''}"
    if resident.step_id == "confirm" or "confirm" in resident.path:
        value = re.search(r'name="submit" value="([^"]+)"', resident.html).group(1)
        resident.post({"submit": value})
    assert resident.path == f"/p/demo-city/{key}/done/", resident.path
    with scopes_disabled():
        submission = Submission.objects.get(procedure__key=key, channel="web")
    assert submission.reference in resident.html
