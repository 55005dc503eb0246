"""Residents' conversations stored and routed: keywords, menus, pinning, submissions."""

import io
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django_scopes import scopes_disabled

from govtech.services import ServiceError
from procedures import engine
from procedures.models import Conversation, ResidentUpload, Submission
from procedures.runtime import resident_input, start_postback
from procedures.services import procedure_create, procedure_publish, procedure_save_draft
from tests.factories import resident as resident_record
from tests.procedures.docs import pet_registration

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.fixture
def published(city, designer):
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    return procedure


class Resident:
    def __init__(self, municipality, name="U1", lang="ja", is_test=False):
        self.municipality, self.lang = municipality, lang
        self.person = resident_record(
            municipality, f"line:test:{name}", language=lang, is_test=is_test
        )
        self.last = None

    def send(self, inp):
        self.last = resident_input(
            municipality=self.municipality, resident=self.person, inp=inp, lang=self.lang, now=NOW
        )
        return self.last

    def say(self, text):
        return self.send(engine.TextInput(text))

    def tap(self, label):
        for prompt in self.last.prompts:
            buttons = list(getattr(prompt, "choices", ()))
            if isinstance(prompt, engine.ConfirmationPrompt):
                buttons += [prompt.submit, prompt.edit]
            for choice in buttons:
                if choice.label == label:
                    return self.send(engine.PostbackInput(choice.data))
        raise AssertionError(f"no button {label!r} in {self.last.prompts}")

    def texts(self):
        return " ".join(getattr(p, "text", getattr(p, "title", "")) for p in self.last.prompts)


def complete(resident):
    resident.say("犬の届出")
    resident.say("山田太郎")
    resident.tap("住所")
    resident.tap("スキップ")
    return resident.tap("送信")


def test_keyword_starts_the_procedure_and_submission_gets_a_reference(city, published):
    resident = Resident(city)
    reply = complete(resident)
    assert reply.submission is not None
    assert reply.submission.reference == "DC-2026-000001"
    assert reply.submission.answers["owner"] == "山田太郎"
    assert reply.submission.fee == 3000
    assert reply.submission.reference in resident.texts()


def test_reference_numbers_count_per_municipality(city, other_town, published, designer):
    first = complete(Resident(city, "A")).submission.reference
    second = complete(Resident(city, "B")).submission.reference
    assert first.endswith("000001") and second.endswith("000002")
    other = procedure_create(actor=None, municipality=other_town, document=pet_registration())
    procedure_publish(actor=None, procedure=other)
    assert complete(Resident(other_town, "C")).submission.reference.endswith("000001")


def test_conversation_stays_on_its_version_when_a_new_one_is_published(city, published, designer):
    resident = Resident(city)
    resident.say("犬の届出")
    resident.say("山田太郎")
    changed = pet_registration(fee=9999)
    procedure_save_draft(
        actor=designer,
        procedure=published,
        document=changed,
        expected_revision=published.draft_revision,
    )
    procedure_publish(actor=designer, procedure=published)
    resident.tap("住所")
    resident.tap("スキップ")
    reply = resident.tap("送信")
    assert reply.submission.version.number == 1
    assert reply.submission.fee == 3000
    # The next resident starts on version 2.
    assert complete(Resident(city, "later")).submission.fee == 9999


def test_resident_outside_a_procedure_gets_a_menu_of_live_procedures(city, published):
    resident = Resident(city)
    reply = resident.say("こんにちは")
    choices = reply.prompts[0].choices
    assert [c.label for c in choices] == ["犬の登録事項変更届"]
    assert choices[0].data == start_postback("dog-change")
    reply = resident.tap("犬の登録事項変更届")
    assert "飼い主の氏名" in resident.texts()


def test_typing_the_keyword_again_offers_to_resume(city, published):
    resident = Resident(city)
    resident.say("犬の届出")
    resident.say("山田太郎")
    resident.say("犬の届出")
    assert "再開" in " ".join(
        c.label for p in resident.last.prompts for c in getattr(p, "choices", ())
    )
    resident.tap(
        next(c.label for p in resident.last.prompts for c in p.choices if "再開" in c.label)
    )
    assert "変更内容" in resident.texts()


def test_one_open_conversation_per_resident(city, published):
    resident = Resident(city)
    resident.say("犬の届出")
    resident.say("犬の届出")
    resident.say("やめる")
    resident.say("犬の届出")
    with scopes_disabled():
        statuses = list(Conversation.objects.values_list("status", flat=True))
    assert statuses.count("active") == 1


def test_english_speaking_resident_is_answered_in_english(city, published):
    resident = Resident(city, lang="en")
    resident.say("犬の届出")
    assert "Owner's name?" in resident.texts()


def test_uploaded_photo_is_attached_to_the_submission(city, published):
    resident = Resident(city)
    with scopes_disabled():
        upload = ResidentUpload.objects.create(
            id=uuid.uuid4(),
            municipality=city,
            resident=resident.person,
            file=ContentFile(b"\xff\xd8fake", name="p.jpg"),
            content_type="image/jpeg",
            size=6,
            created_at=NOW,
        )
    resident.say("犬の届出")
    resident.say("山田太郎")
    resident.tap("住所")
    resident.send(engine.ImageInput(ref=str(upload.pk)))
    submission = resident.tap("送信").submission
    with scopes_disabled():
        assert list(Submission.objects.get(pk=submission.pk).uploads.all()) == [upload]


def test_a_draft_is_never_started_for_a_resident_who_is_not_a_tester(city, published, designer):
    from procedures.runtime import draft_test_start

    with pytest.raises(ServiceError):
        draft_test_start(actor=designer, procedure=published, resident=Resident(city).person)


def test_chat_command_runs_a_conversation_in_the_terminal(city, published, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("山田花子\n1\nスキップ\n1\n"))
    call_command("chat", "dog-change", "--municipality", city.slug, "--resident", "taro")
    out = capsys.readouterr().out
    assert "飼い主の氏名" in out
    assert "受付番号" in out and "-2026-000001" in out


def test_designer_tries_the_draft_and_the_submission_is_marked_as_a_test(city, published, designer):
    from procedures.runtime import draft_test_start

    draft = pet_registration(fee=1234)
    procedure_save_draft(
        actor=designer,
        procedure=published,
        document=draft,
        expected_revision=published.draft_revision,
    )
    resident = Resident(city, "designer-test", is_test=True)
    resident.last = draft_test_start(
        actor=designer, procedure=published, resident=resident.person, now=NOW
    )
    assert "飼い主の氏名" in resident.texts()
    resident.say("テスト太郎")
    resident.tap("住所")
    resident.tap("スキップ")
    submission = resident.tap("送信").submission
    assert submission.is_test and submission.version is None
    assert submission.reference.startswith(f"TEST-{city.submission_prefix}-")
    assert submission.fee == 1234  # the draft's fee, not the published one
    assert submission.definition["fee"] == 1234
    # Real residents still get the published version, and the first residents' number.
    real = complete(Resident(city, "real")).submission
    assert real.fee == 3000
    assert real.reference.endswith("-000001") and not real.reference.startswith("TEST-")
