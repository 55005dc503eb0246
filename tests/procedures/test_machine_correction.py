"""engine.correct: a reviewer's correction request asked again in the conversation (pure)."""

from datetime import timedelta

import pytest

from procedures.engine import (
    Cancelled,
    ConfirmationPrompt,
    ConversationState,
    EditFieldPrompt,
    ImageInput,
    ImageRequestPrompt,
    Result,
    SubmitRequested,
    TextInput,
    advance,
    correct,
    offer_resume,
)
from tests.procedures.conftest import Conversation, document
from tests.procedures.test_machine import ja


def pet_document(*, confirm=True):
    steps = [
        {"id": "owner", "type": "text", "label": {"ja": "氏名"}, "prompt": {"ja": "氏名は？"}},
        {
            "id": "change",
            "type": "choice",
            "label": {"ja": "変更内容"},
            "prompt": {"ja": "変更内容は？"},
            "options": [
                {"value": "address", "label": {"ja": "住所"}},
                {"value": "death", "label": {"ja": "死亡"}},
            ],
        },
        {
            "id": "died_on",
            "type": "text",
            "label": {"ja": "死亡した日"},
            "prompt": {"ja": "死亡した日は？"},
            "when": {"==": [{"var": "change"}, "death"]},
        },
        {
            "id": "copies",
            "type": "number",
            "label": {"ja": "通数"},
            "prompt": {"ja": "通数は？"},
            "validation": {"min": 1, "max": 5},
        },
        {
            "id": "photo",
            "type": "image",
            "required": False,
            "label": {"ja": "写真"},
            "prompt": {"ja": "写真を送ってください"},
        },
        {
            "id": "note",
            "type": "text",
            "required": False,
            "label": {"ja": "備考"},
            "prompt": {"ja": "備考は？"},
        },
    ]
    if confirm:
        steps.append({"id": "confirm", "type": "confirm"})
    return document(*steps, fee={"*": [{"var": "copies"}, 300]})  # fmt: skip


SUBMITTED = {"owner": "山田太郎", "change": "address", "copies": 2, "photo": None}
SUBMITTED.pop("photo")  # the photo was skipped: optional, never answered


class Correction(Conversation):
    """A conversation started by engine.correct instead of engine.start."""

    def __init__(self, definition, answers, fields, now):
        self.definition = definition
        self.now = now
        self.result: Result = correct(definition, answers, fields=fields, lang="ja", now=now)
        self.results = [self.result]


@pytest.fixture
def correcting(now):
    def make(fields, answers=None, definition=None):
        return Correction(definition or pet_document(), answers or SUBMITTED, fields, now)

    return make


def summary_rows(result):
    summary = result.prompts[-1]
    assert isinstance(summary, ConfirmationPrompt), result.prompts
    return {row.step_id: row.value for row in summary.rows}


def test_correction_asks_only_the_named_field_then_the_summary(correcting):
    conversation = correcting(["copies"])
    assert conversation.state.step_id == "copies"
    assert conversation.texts()[-1] == "通数は？"
    assert "copies" not in conversation.state.answers
    result = conversation.say("3")
    unanswered = ja("(not answered)")
    assert summary_rows(result) == {
        "owner": "山田太郎",
        "change": "住所",
        "copies": "3",
        "photo": unanswered,
        "note": unanswered,
    }
    assert result.prompts[-1].fee == 900


def test_submitting_a_correction_gives_the_full_corrected_answers(correcting):
    conversation = correcting(["copies"])
    conversation.say("3")
    result = conversation.tap(ja("Submit"))
    assert result.outcome == SubmitRequested(
        {"owner": "山田太郎", "change": "address", "copies": 3}, 900
    )


def test_several_fields_are_asked_in_document_order(correcting):
    conversation = correcting(["copies", "owner"])
    assert conversation.state.step_id == "owner"
    conversation.say("山田花子")
    assert conversation.state.step_id == "copies"
    assert summary_rows(conversation.say("1"))["owner"] == "山田花子"


def test_a_correction_validates_as_the_first_time(correcting):
    conversation = correcting(["copies"])
    result = conversation.say("9")
    assert conversation.state.step_id == "copies"
    assert not isinstance(result.prompts[-1], ConfirmationPrompt)
    assert "copies" not in conversation.state.answers
    assert summary_rows(conversation.say("4"))["copies"] == "4"


def test_an_answer_that_turns_a_condition_on_asks_that_step_too(correcting):
    conversation = correcting(["change"])
    conversation.say("死亡")
    assert conversation.state.step_id == "died_on"
    rows = summary_rows(conversation.say("11月1日"))
    assert rows["change"] == "死亡" and rows["died_on"] == "11月1日"
    assert conversation.tap(ja("Submit")).outcome.answers["died_on"] == "11月1日"


def test_an_answer_that_turns_a_condition_off_drops_that_answer(correcting):
    answers = {**SUBMITTED, "change": "death", "died_on": "11月1日"}
    conversation = correcting(["change"], answers=answers)
    rows = summary_rows(conversation.say("住所"))
    assert "died_on" not in rows
    assert "died_on" not in conversation.tap(ja("Submit")).outcome.answers


def test_a_dependent_answer_is_kept_while_its_condition_is_still_to_be_answered(correcting):
    answers = {**SUBMITTED, "change": "death", "died_on": "11月1日"}
    conversation = correcting(["owner", "change"], answers=answers)
    conversation.say("山田花子")  # change is not re-answered yet: died_on must survive
    assert conversation.state.answers["died_on"] == "11月1日"
    rows = summary_rows(conversation.say("死亡"))
    assert rows["died_on"] == "11月1日"  # still applicable: kept, not asked again


def test_a_photo_field_is_asked_again_and_takes_the_new_photo(correcting):
    answers = {**SUBMITTED, "photo": {"ref": "old", "content_type": "image/jpeg"}}
    conversation = correcting(["photo"], answers=answers)
    assert isinstance(conversation.last(), ImageRequestPrompt)
    assert "photo" not in conversation.state.answers
    refused = conversation.say("写真です")
    assert conversation.state.step_id == "photo" and not isinstance(
        refused.prompts[-1], ConfirmationPrompt
    )
    conversation.say(ImageInput("new", "image/png"))
    outcome = conversation.tap(ja("Submit")).outcome
    assert outcome.answers["photo"] == {"ref": "new", "content_type": "image/png"}


def test_skipped_optional_steps_are_not_asked_again(correcting):
    conversation = correcting(["owner"])
    result = conversation.say("山田花子")
    assert isinstance(result.prompts[-1], ConfirmationPrompt)  # photo and note not asked


def test_edit_at_the_summary_offers_only_the_fields_being_corrected(correcting):
    conversation = correcting(["change"])
    conversation.say("死亡", "11月1日")
    picker = conversation.tap(ja("Edit")).prompts[-1]
    assert isinstance(picker, EditFieldPrompt)
    assert [choice.label for choice in picker.choices] == [
        "変更内容",
        "死亡した日",
        ja("Back to the summary"),
    ]
    assert conversation.say("2").prompts[-1].text == "死亡した日は？"  # numbers follow the list


def test_back_goes_through_the_correction_questions_only(correcting):
    conversation = correcting(["owner", "copies"])
    first = conversation.say("もどる")
    assert first.prompts[0].text == ja("This is the first question.")
    conversation.say("山田花子")
    conversation.say("もどる")
    assert conversation.state.step_id == "owner"
    conversation.say("山田次郎")
    assert conversation.state.step_id == "copies"  # still to be answered
    rows = summary_rows(conversation.say("2"))
    assert rows["owner"] == "山田次郎"


def test_restart_starts_the_correction_again_not_the_procedure(correcting):
    conversation = correcting(["copies"])
    conversation.say("3")
    result = conversation.say("はじめから")
    assert result.prompts[0].text == ja("Starting the correction again.")
    assert conversation.state.step_id == "copies"
    assert conversation.state.answers == {"owner": "山田太郎", "change": "address"}


def test_cancel_ends_the_correction(correcting):
    conversation = correcting(["copies"])
    assert conversation.say("やめる").outcome == Cancelled()


def test_without_a_confirm_step_the_correction_submits_once_answered(correcting):
    conversation = correcting(["copies"], definition=pet_document(confirm=False))
    result = conversation.say("5")
    assert result.outcome == SubmitRequested({**SUBMITTED, "copies": 5}, 1500)


def test_a_correction_state_survives_a_json_round_trip(correcting, now):
    conversation = correcting(["copies"])
    stored = ConversationState.from_dict(conversation.state.to_dict())
    assert stored.correcting == ["copies"] and stored.submitted == SUBMITTED
    result = advance(pet_document(), stored, TextInput("2"), now=now)
    assert summary_rows(result)["copies"] == "2"


def test_an_old_state_without_correction_keys_still_loads(correcting):
    data = correcting(["copies"]).state.to_dict()
    for key in ("correcting", "submitted"):
        data.pop(key)
    assert ConversationState.from_dict(data).correcting == []


def test_offering_to_resume_a_correction_keeps_it_a_correction(correcting, now):
    conversation = correcting(["copies"])
    offered = offer_resume(pet_document(), conversation.state, now=now)
    assert offered.state.awaiting == "resume" and offered.state.correcting == ["copies"]
    expired = offer_resume(pet_document(), conversation.state, now=now + timedelta(days=2))
    assert expired.state.step_id == "copies" and expired.state.correcting == ["copies"]
    assert "copies" not in expired.state.answers
