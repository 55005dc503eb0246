"""The resident's side of casework in the chat, through ``resident_input``: 修正する,
「申請状況」, one application, 取り下げる and replies to a reviewer."""

import uuid
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext

from procedures import engine
from procedures.casework.models import CaseEvent
from procedures.casework.postbacks import case_postback
from procedures.casework.services import (
    case_message,
    case_request_correction,
    case_transition,
)
from procedures.management.commands.chat import parse_line, prompt_lines
from procedures.models import Conversation, ResidentUpload, Submission
from procedures.runtime import resident_input
from procedures.services import procedure_create, procedure_publish
from tests.factories import resident as resident_record
from tests.procedures.casework.conftest import NOW, submit_pet
from tests.procedures.docs import pet_registration

pytestmark = pytest.mark.django_db

DIED_ON = {
    "id": "died_on",
    "type": "text",
    "label": {"ja": "死亡した日", "en": "Date of death"},
    "prompt": {"ja": "死亡した日を入力してください", "en": "When did it die?"},
    "when": {"==": [{"var": "change"}, "death"]},
}


def ja(message: str) -> str:
    with translation.override("ja"):
        return gettext(message)


@pytest.fixture
def pet_procedure(city, designer):
    """The pet registration with a step asked only when the dog died."""
    document = pet_registration()
    document["steps"].insert(2, DIED_ON)
    procedure = procedure_create(actor=designer, municipality=city, document=document)
    procedure_publish(actor=designer, procedure=procedure)
    return procedure


class Person:
    """A resident in the chat: types, taps buttons (quick replies, summary, cards)."""

    def __init__(self, municipality, name="U1", lang="ja"):
        self.municipality, self.lang = municipality, lang
        self.person = resident_record(municipality, f"line:test:{name}", language=lang)
        self.last = None

    def send(self, inp, now=NOW):
        self.last = resident_input(
            municipality=self.municipality,
            resident=self.person,
            inp=inp,
            lang=self.lang,
            now=now,
            channel="line",
        )
        return self.last

    def say(self, text, now=NOW):
        return self.send(engine.TextInput(text), now)

    def press(self, action, submission):
        return self.send(engine.PostbackInput(case_postback(action, submission.pk)))

    def buttons(self):
        found = []
        for prompt in self.last.prompts:
            found += list(getattr(prompt, "choices", ()))
            if isinstance(prompt, engine.ConfirmationPrompt):
                found += [prompt.submit, prompt.edit]
            for card in getattr(prompt, "cards", ()):
                found += list(card.buttons)
        return found

    def tap(self, label):
        for choice in self.buttons():
            if choice.label == label:
                return self.send(engine.PostbackInput(choice.data))
        raise AssertionError(f"no button {label!r} in {self.last.prompts}")

    def texts(self):
        parts = []
        for prompt in self.last.prompts:
            parts.append(getattr(prompt, "text", getattr(prompt, "title", "")))
            for card in getattr(prompt, "cards", ()):
                parts += [card.title, *card.lines]
        return "\n".join(parts)

    def cards(self):
        (cards,) = [p for p in self.last.prompts if isinstance(p, engine.CardsPrompt)]
        return cards.cards


@pytest.fixture
def taro(city, pet_procedure):
    person = Person(city)
    person.submission = submit_pet(city)  # the same resident (line:test:U1)
    return person


def returned(submission, reviewer, fields, reason="記入に誤りがあります"):
    return case_request_correction(
        actor=reviewer, submission=submission, fields=fields, reason=reason
    )


# --- 修正する --------------------------------------------------------------------------------


def test_a_correction_asks_only_the_field_and_resubmits_revision_two(taro, reviewer, scope):
    returned(taro.submission, reviewer, ["owner"], reason="漢字が違います")
    taro.press("fix", taro.submission)
    assert "漢字が違います" in taro.texts() and "飼い主の氏名" in taro.texts()
    assert taro.texts().rstrip().endswith("飼い主の氏名を入力してください")
    summary = taro.say("山田花子").prompts[-1]
    assert isinstance(summary, engine.ConfirmationPrompt)
    reply = taro.tap(ja("Submit"))
    assert reply.submission.pk == taro.submission.pk
    assert "修正を受け付けました" in taro.texts() and taro.submission.reference in taro.texts()
    submission = Submission.objects.get(pk=taro.submission.pk)
    assert submission.status == "in_review"
    assert submission.answers == {**taro.submission.answers, "owner": "山田花子"}
    revision = submission.revisions.get(number=2)
    assert revision.answers["owner"] == "山田花子"
    corrected = CaseEvent.objects.get(submission=submission, kind="corrected")
    assert corrected.data["changed"] == ["owner"]
    assert Submission.objects.count() == 1
    reply.conversation.correcting.refresh_from_db()
    assert reply.conversation.correcting.status == "answered"
    assert reply.conversation.channel == "line"


def test_a_correction_refuses_an_invalid_answer(taro, reviewer, scope):
    returned(taro.submission, reviewer, ["change"])
    taro.press("fix", taro.submission)
    taro.say("猫")
    assert not isinstance(taro.last.prompts[-1], engine.ConfirmationPrompt)
    assert "変更内容を選んでください" in taro.texts()
    assert isinstance(taro.tap("住所").prompts[-1], engine.ConfirmationPrompt)


def test_an_answer_that_turns_a_condition_on_asks_that_step(taro, reviewer, scope):
    returned(taro.submission, reviewer, ["change"])
    taro.press("fix", taro.submission)
    taro.tap("死亡")
    assert "死亡した日を入力してください" in taro.texts()
    taro.say("11月1日")
    taro.tap(ja("Submit"))
    answers = Submission.objects.get(pk=taro.submission.pk).answers
    assert (answers["change"], answers["died_on"]) == ("death", "11月1日")


def test_a_second_tap_of_correct_after_resubmitting_is_refused_politely(taro, reviewer, scope):
    returned(taro.submission, reviewer, ["owner"])
    taro.press("fix", taro.submission)
    taro.say("山田花子")
    taro.tap(ja("Submit"))
    taro.press("fix", taro.submission)
    assert ja("There is nothing to correct in this application any more.") in taro.texts()
    assert taro.submission.revisions.count() == 2
    assert not Conversation.objects.filter(status__in=("active", "editing")).exists()


def test_cancelling_a_correction_leaves_the_request_open(taro, reviewer, scope):
    request = returned(taro.submission, reviewer, ["owner"])
    taro.press("fix", taro.submission)
    taro.say("やめる")
    request.refresh_from_db()
    assert request.status == "open"
    taro.press("fix", taro.submission)
    assert taro.last.conversation.correcting_id == request.pk
    assert taro.last.conversation.status == "editing"


def test_a_correction_taken_back_meanwhile_is_not_resubmitted(taro, reviewer, scope):
    returned(taro.submission, reviewer, ["owner"])
    taro.press("fix", taro.submission)
    taro.say("山田花子")
    case_transition(actor=reviewer, submission=taro.submission, to="in_review")
    reply = taro.tap(ja("Submit"))
    assert reply.submission is None
    assert ja("This correction is no longer needed; nothing was changed.") in taro.texts()
    assert Submission.objects.get(pk=taro.submission.pk).answers["owner"] == "山田太郎"
    assert reply.conversation.status == "cancelled"


def test_correct_drops_an_unfinished_procedure(taro, reviewer, scope):
    returned(taro.submission, reviewer, ["owner"])
    taro.say("犬の届出")
    unfinished = taro.last.conversation
    taro.press("fix", taro.submission)
    unfinished.refresh_from_db()
    assert unfinished.status == "cancelled"
    assert taro.last.conversation.correcting is not None


def test_the_procedure_keyword_during_a_correction_starts_a_new_application(taro, reviewer, scope):
    returned(taro.submission, reviewer, ["owner"])
    taro.press("fix", taro.submission)
    correction = taro.last.conversation
    taro.say("犬の届出")
    correction.refresh_from_db()
    assert correction.status == "cancelled"
    assert taro.last.conversation.correcting is None


# --- somebody else's application -----------------------------------------------------------


@pytest.mark.parametrize("action", ["open", "fix", "withdraw", "withdraw-yes", "reply"])
def test_another_resident_cannot_touch_someone_elses_application(
    taro, reviewer, city, scope, action
):
    returned(taro.submission, reviewer, ["owner"])
    hanako = Person(city, "U2")
    hanako.press(action, taro.submission)
    assert hanako.texts() == ja("We could not find that application.")
    hanako.press(action, Submission(pk=999999))
    assert hanako.texts() == ja("We could not find that application.")
    assert Submission.objects.get(pk=taro.submission.pk).status == "returned"
    assert not Conversation.objects.filter(resident=hanako.person).exists()
    hanako.person.refresh_from_db()
    assert hanako.person.replying_to_id is None


# --- 申請状況 -------------------------------------------------------------------------------


def test_my_applications_lists_newest_first_with_status_and_last_message(
    taro, reviewer, city, scope
):
    older = taro.submission
    newer = submit_pet(city, owner="山田花子")
    returned(older, reviewer, ["owner"], reason="漢字が違います")
    taro.say("申請状況")
    cards = taro.cards()
    assert [card.lines[0] for card in cards] == [
        f"受付番号: {newer.reference}",
        f"受付番号: {older.reference}",
    ]
    assert cards[0].title == "犬の登録事項変更届"
    assert "状況: 受付済み" in cards[0].lines
    assert "状況: 返戻" in cards[1].lines
    assert "漢字が違います" in cards[1].lines[-1]
    assert [b.label for b in cards[1].buttons] == ["内容を見る", "修正する", "取り下げる"]
    assert [b.label for b in cards[0].buttons] == ["内容を見る", "取り下げる"]


def test_my_applications_speaks_the_residents_language(city, pet_procedure, reviewer, scope):
    submission = submit_pet(city, "E1", lang="en")
    returned(submission, reviewer, ["owner"])
    john = Person(city, "E1", lang="en")
    john.say("My applications")
    (card,) = john.cards()
    assert card.title == "Dog registration change"
    assert "Status: Returned for correction" in card.lines
    assert [b.label for b in card.buttons] == ["See details", "Correct", "Withdraw"]


def test_my_applications_without_any(city, pet_procedure, scope):
    person = Person(city, "U9")
    person.say("申請状況")
    assert person.texts() == ja("You have not sent any applications yet.")


def test_a_decided_application_offers_no_withdrawal(taro, reviewer, scope):
    case_transition(actor=reviewer, submission=taro.submission, to="accepted")
    taro.say("申請状況")
    assert [b.label for b in taro.cards()[0].buttons] == ["内容を見る"]
    assert "承認" in taro.cards()[0].lines[-1]  # the approval message, last sent


# --- one application ----------------------------------------------------------------------


def test_open_shows_the_answers_by_label_and_the_correction(taro, reviewer, scope):
    returned(taro.submission, reviewer, ["owner"], reason="漢字が違います")
    taro.press("open", taro.submission)
    (card,) = taro.cards()
    assert "飼い主の氏名: 山田太郎" in card.lines
    assert "変更内容: 住所" in card.lines
    assert any("漢字が違います" in line for line in card.lines)
    assert [b.label for b in card.buttons] == ["修正する", "取り下げる"]
    assert taro.tap("修正する").conversation.correcting is not None


# --- 取り下げる -------------------------------------------------------------------------------


def test_withdrawing_asks_first_then_withdraws(taro, scope):
    taro.press("withdraw", taro.submission)
    assert taro.submission.reference in taro.texts()
    taro.tap(ja("No"))
    assert Submission.objects.get(pk=taro.submission.pk).status == "submitted"
    taro.press("withdraw", taro.submission)
    taro.tap(ja("Yes"))
    assert Submission.objects.get(pk=taro.submission.pk).status == "withdrawn"
    assert "取り下げ" in taro.texts()
    taro.press("withdraw-yes", taro.submission)  # an old はい tapped again
    assert "取り下げできません" in taro.texts()
    assert CaseEvent.objects.filter(kind="withdrawn").count() == 1


def test_a_decided_application_cannot_be_withdrawn(taro, reviewer, scope):
    case_transition(actor=reviewer, submission=taro.submission, to="accepted")
    taro.press("withdraw-yes", taro.submission)
    assert "取り下げ" in taro.texts() or "取下げ" in taro.texts()
    assert Submission.objects.get(pk=taro.submission.pk).status == "accepted"


# --- 返信する --------------------------------------------------------------------------------


def test_a_reply_lands_on_the_timeline(taro, reviewer, scope):
    case_message(actor=reviewer, submission=taro.submission, text="鑑札番号を教えてください")
    taro.press("reply", taro.submission)
    taro.say("12345です")
    assert taro.texts() == "担当者に送りました"
    event = CaseEvent.objects.get(submission=taro.submission, kind="message_in")
    assert event.data["text"] == "12345です"
    taro.say("ありがとう")  # the window is closed: not a second reply
    assert CaseEvent.objects.filter(kind="message_in").count() == 1


def test_a_keyword_closes_the_reply_window_without_sending(taro, scope):
    taro.press("reply", taro.submission)
    taro.say("申請状況")
    assert taro.cards()
    assert not CaseEvent.objects.filter(kind="message_in").exists()


def test_cancel_closes_the_reply_window(taro, scope):
    taro.press("reply", taro.submission)
    taro.say("やめる")
    assert taro.texts() == ja("Your reply was not sent.")
    assert not CaseEvent.objects.filter(kind="message_in").exists()


def test_the_reply_window_closes_after_thirty_minutes(taro, scope):
    taro.press("reply", taro.submission)
    taro.say("遅い返事", now=NOW + timedelta(minutes=31))
    assert not CaseEvent.objects.filter(kind="message_in").exists()


def test_the_terminal_shows_cards_as_text_with_numbered_buttons():
    cards = engine.CardsPrompt(
        "あなたの申請",
        (
            engine.Card(
                "犬の届出", ("状況: 返戻",), (engine.Choice("内容を見る", "gt|case|open|1"),)
            ),
            engine.Card(
                "住民票", ("状況: 受付済み",), (engine.Choice("内容を見る", "gt|case|open|2"),)
            ),
        ),
    )
    lines, choices = prompt_lines(cards)
    assert lines[0] == "あなたの申請" and "== 住民票 ==" in lines and "  [2] 内容を見る" in lines
    assert parse_line("2", choices, None) == engine.PostbackInput("gt|case|open|2")


def test_correct_tapped_again_during_the_correction_offers_to_continue(taro, reviewer, scope):
    returned(taro.submission, reviewer, ["owner", "change"])
    taro.press("fix", taro.submission)
    taro.say("山田花子")
    correction = taro.last.conversation
    taro.press("fix", taro.submission)
    assert taro.last.conversation.pk == correction.pk
    taro.tap(ja("Continue"))
    assert "変更内容を選んでください" in taro.texts()
    assert taro.last.conversation.state["answers"]["owner"] == "山田花子"


def test_my_applications_costs_the_same_queries_for_one_or_many(taro, reviewer, city, scope):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            taro.say("申請状況")
        return len(captured)

    returned(taro.submission, reviewer, ["owner"])
    one = queries()
    assert len(taro.cards()) == 1
    for owner in ("山田花子", "山田次郎", "山田三郎"):
        returned(submit_pet(city, owner=owner), reviewer, ["owner"])
    assert queries() == one
    assert len(taro.cards()) == 4


def test_a_photo_reply_lands_on_the_timeline_with_the_upload(taro, city, scope):
    upload = ResidentUpload.objects.create(
        id=uuid.uuid4(),
        municipality=city,
        resident=taro.person,
        file=ContentFile(b"\xff\xd8fake", name="p.jpg"),
        content_type="image/jpeg",
        size=6,
        created_at=NOW,
    )
    taro.press("reply", taro.submission)
    taro.send(engine.ImageInput(ref=str(upload.pk)))
    event = CaseEvent.objects.get(submission=taro.submission, kind="message_in")
    assert event.data["upload"] == str(upload.pk)
    upload.refresh_from_db()
    assert upload.submission_id == taro.submission.pk


def test_someone_elses_upload_is_not_attached_to_a_reply(taro, city, scope):
    other = resident_record(city, "line:test:U2")
    upload = ResidentUpload.objects.create(
        id=uuid.uuid4(),
        municipality=city,
        resident=other,
        file=ContentFile(b"\xff\xd8fake", name="p.jpg"),
        content_type="image/jpeg",
        size=6,
        created_at=NOW,
    )
    taro.press("reply", taro.submission)
    taro.send(engine.ImageInput(ref=str(upload.pk)))
    event = CaseEvent.objects.get(submission=taro.submission, kind="message_in")
    assert "upload" not in event.data
    upload.refresh_from_db()
    assert upload.submission_id is None
