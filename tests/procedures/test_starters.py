"""The starter library after seed_demo: valid, imported with provenance, and completable
end to end through the runtime, in Japanese and in English."""

import dataclasses
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from django.core.management import call_command

from govtech.models import Municipality
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.catalog.placeholders import unfilled_placeholders
from procedures.catalog.starters import STARTER_VENDOR_SLUG, starter_documents
from procedures.format import validate_document
from procedures.models import Procedure
from procedures.runtime import resident_input, start_postback
from tests.factories import resident as resident_of

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
PHOTO = engine.ImageInput("uploads/photo.jpg")
PLACE = engine.LocationInput(35.6595, 139.7005, "1-1 Dogenzaka, Shibuya")

# What a resident sends, step after step (choices by number, so one script fits both
# languages; SKIP and SUBMIT are typed in the conversation's language), and the answers
# and fee the submission must hold.
SCRIPTS = {
    "bulky-waste": (
        ["1, 5", "2", PHOTO, "2026-12-05", "1-1 Udagawacho", "09012345678", "SUBMIT"],
        {"items": ["sofa", "other"], "count": 2, "collection_date": "2026-12-05"},
        1000,
    ),
    "child-allowance-inquiry": (
        [
            "1",
            "Yamada Hanako",
            "2",
            "2020-05-01",
            "Is a report needed?",
            "1",
            "0312345678",
            "SUBMIT",
        ],
        {"topic": "status_report", "children": 2, "contact_method": "phone"},
        None,
    ),
    "citizen-survey-2026": (
        ["3", "2", "SKIP"],  # "3" is both the third option and its value
        {"satisfaction": "3", "age_group": "30s_50s"},
        None,
    ),
    "disaster-damage-certificate": (
        [
            "Yamada Taro",
            "1",
            "1-1 Udagawacho",
            "2",
            "2026-11-20",
            "1, 4",
            PHOTO,
            "2",
            "09012345678",
            "SUBMIT",
        ],
        {"disaster": "storm", "damage_parts": ["roof", "flood_above"], "copies": 2},
        None,
    ),
    "dog-registration-change": (
        ["1", "Yamada Taro", "Pochi", "R5-123", "2-2 Dogenzaka", "09012345678", "SKIP", "SUBMIT"],
        {"change": "address", "new_address": "2-2 Dogenzaka", "tag_number": "R5-123"},
        None,
    ),
    "juminhyo-by-mail": (
        [
            "yes",
            "Yamada Taro",
            "1985-04-01",
            "1",
            "2",
            "3",
            "1",
            "150-0002",
            "2-1 Shibuya",
            "0312345678",
            "SKIP",
            "SUBMIT",
        ],
        {"include_my_number": "include", "purpose": "employer", "copies": 3},
        900,
    ),
    "public-comment": (
        ["1", "SKIP", "More parks, please.", "1", "Yamada Taro", "2-1 Shibuya", "yes", "SUBMIT"],
        {"plan": "master-plan", "opinion": "More parks, please.", "publication": True},
        None,
    ),
    "registration-details": (
        ["2", "1, 2", "SUBMIT"],
        {"area": "south", "interests": ["childcare", "disaster"]},
        None,
    ),
    "report-generic": (
        [PHOTO, PLACE, "Rubbish left by the river", "SUBMIT"],
        {"details": "Rubbish left by the river"},
        None,
    ),
    "road-damage": (
        ["1", PLACE, PHOTO, "no", "yes", "09012345678", "SUBMIT"],
        {"damage": "pothole", "danger": False, "contact": True, "phone": "09012345678"},
        None,
    ),
}
WORDS = {"ja": {"SKIP": "スキップ", "SUBMIT": "送信"}, "en": {"SKIP": "skip", "SUBMIT": "submit"}}


@pytest.fixture
def demo_city():
    call_command("seed_demo", stdout=io.StringIO())
    return Municipality.objects.get(slug="demo-city")


def texts_of(prompts) -> list[str]:
    found = []

    def walk(value):
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for prompt in prompts:
        walk(dataclasses.asdict(prompt))
    return found


def books_a_slot(document) -> bool:
    """Reservation starters need demo slots; their conversations are scripted with them."""
    return any(step["type"] == "reservation" for step in document["steps"])


def test_every_file_has_a_script_and_an_english_translation():
    documents = starter_documents()
    assert len(documents) >= 8
    assert {d["key"] for d in documents if not books_a_slot(d)} == set(SCRIPTS)
    for document in documents:
        assert document["languages"] == ["ja", "en"]
        assert validate_document(document, include_warnings=True) == []


def test_seed_demo_publishes_the_starters_and_imports_them_with_provenance(demo_city, client):
    schema = client.get("/schemas/procedure.v1.json").json()
    with tenant_scope(demo_city):
        procedures = list(
            Procedure.objects.filter(source_template_version__isnull=False).select_related(
                "live_version", "source_template_version__template__publisher_vendor"
            )
        )
    assert {p.key for p in procedures} == {d["key"] for d in starter_documents()}
    for procedure in procedures:
        document = procedure.live_version.document
        jsonschema.validate(document, schema)
        assert validate_document(document) == []
        assert unfilled_placeholders(document) == []
        template = procedure.source_template_version.template
        assert template.publisher_vendor.slug == STARTER_VENDOR_SLUG
        assert template.publisher_name == "govtech starter"


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("key", sorted(SCRIPTS))
def test_a_resident_completes_the_starter(demo_city, key, lang):
    inputs, expected, fee = SCRIPTS[key]
    resident = resident_of(demo_city, f"line:test:{key}:{lang}")

    def send(inp):
        if isinstance(inp, str):
            inp = engine.TextInput(WORDS[lang].get(inp, inp))
        reply = resident_input(
            municipality=demo_city, resident=resident, inp=inp, lang=lang, now=NOW
        )
        if lang == "en":
            japanese = [text for text in texts_of(reply.prompts) if JAPANESE.search(text)]
            assert japanese == [], f"{key}: untranslated text"
        return reply

    send(engine.PostbackInput(start_postback(key)))
    for inp in inputs:
        reply = send(inp)
    submission = reply.submission
    assert submission is not None, texts_of(reply.prompts)
    assert {name: submission.answers.get(name) for name in expected} == expected
    assert submission.fee == fee
    assert submission.language == lang
    assert submission.reference in " ".join(texts_of(reply.prompts))


def _tap_first(reply, *, containing: str = "") -> engine.PostbackInput:
    """Tap the first offered choice (whose label contains ``containing``)."""
    for prompt in reply.prompts:
        for choice in getattr(prompt, "choices", ()):
            if containing in choice.label and not choice.data.startswith("gt|x|"):
                return engine.PostbackInput(choice.data)
    raise AssertionError(f"no choice with {containing!r}: {texts_of(reply.prompts)}")


RESERVATION_SCRIPTS = {
    # key: inputs before the slot, inputs after it, expected answers
    "kodomo-hiroba": (
        [],
        ["山田太郎", "09012345678"],
        {"name": "山田太郎", "phone": "09012345678"},
    ),
    "madoguchi-yoyaku": (["1"], ["山田太郎"], {"purpose": "moving", "name": "山田太郎"}),
}
REMAINING = {"ja": "残り", "en": "left"}


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("key", sorted(RESERVATION_SCRIPTS))
def test_a_resident_books_through_a_reservation_starter(demo_city, key, lang):
    before, after, expected = RESERVATION_SCRIPTS[key]
    resident = resident_of(demo_city, f"line:test:{key}:{lang}")

    def send(inp):
        if isinstance(inp, str):
            inp = engine.TextInput(WORDS[lang].get(inp, inp))
        return resident_input(
            municipality=demo_city, resident=resident, inp=inp, lang=lang, now=NOW
        )

    reply = send(engine.PostbackInput(start_postback(key)))
    for inp in before:
        reply = send(inp)
    reply = send(_tap_first(reply))  # the first day with free places
    reply = send(_tap_first(reply, containing=REMAINING[lang]))  # its first free time
    party = [c for p in reply.prompts for c in getattr(p, "choices", ()) if "|p:" in c.data]
    if party:  # resources that count people ask how many come
        reply = send(engine.PostbackInput(party[0].data))
    for inp in after:
        reply = send(inp)
    reply = send("SUBMIT")
    submission = reply.submission
    assert submission is not None, texts_of(reply.prompts)
    assert {name: submission.answers.get(name) for name in expected} == expected
    assert submission.reference in " ".join(texts_of(reply.prompts))
