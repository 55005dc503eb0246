import json
from datetime import timedelta

import pytest
from django.utils import translation
from django.utils.translation import gettext

from procedures.engine import (
    Cancelled,
    CompletionPrompt,
    ConfirmationPrompt,
    ConversationState,
    DatePickerPrompt,
    EditFieldPrompt,
    Ended,
    FollowInput,
    ImageInput,
    ImageRequestPrompt,
    LocationInput,
    PostbackInput,
    SubmitRequested,
    TextInput,
    TextPrompt,
    advance,
    completion_prompts,
    offer_resume,
    start,
)
from tests.procedures.conftest import document


def ja(message: str) -> str:
    """An engine text as a Japanese conversation shows it (whatever the catalogue holds)."""
    with translation.override("ja"):
        return gettext(message)


def bulky_until_confirm(conversation, items=("1",), count="2", date="3月20日"):
    for item in items:
        conversation.tap(item) if item.startswith("gt|") else conversation.say(item)
    conversation.say(count)
    if "gt|t|items|other" in items or "5" in items:
        conversation.say(ImageInput("uploads/other.jpg"))
    return conversation.say(date, "渋谷区宇田川町1-1", "090-1234-5678")


def simple_document():
    return document(
        {"id": "name", "type": "text", "label": {"ja": "氏名"}, "prompt": {"ja": "氏名は？"}},
        {"id": "copies", "type": "number", "prompt": {"ja": "通数は？"}, "validation": {"min": 1}},
        {
            "id": "note", "type": "text", "required": False, "prompt": {"ja": "備考は？"},
            "help": {"ja": "なければスキップしてください"},
        },
        {"id": "confirm", "type": "confirm"},
        fee={"*": [{"var": "copies"}, 300]},
    )  # fmt: skip


# --- the main path -------------------------------------------------------------------


def test_start_introduces_the_procedure_and_asks_the_first_question(converse, corpus):
    conversation = converse(corpus("bulky-waste"))
    assert conversation.state.status == "active"
    assert conversation.state.step_id == "items"
    assert conversation.texts()[0].startswith("粗大ごみ収集の申込\n粗大ごみの戸別収集")
    assert conversation.last().multi


def test_bulky_waste_application_ends_in_a_submission_with_the_fee(converse, corpus):
    conversation = converse(corpus("bulky-waste"))
    conversation.tap("gt|t|items|sofa")
    conversation.tap("gt|t|items|bed")
    conversation.tap("gt|d|items")
    result = conversation.say("２点", "3月20日", "渋谷区宇田川町1-1", "090-1234-5678")
    summary = result.prompts[-1]
    assert isinstance(summary, ConfirmationPrompt)
    assert summary.fee == 1000
    assert [(row.label, row.value) for row in summary.rows] == [
        ("品目", "ソファ、ベッド"),
        ("点数", "2"),
        ("収集希望日", "2026年3月20日（金）"),
        ("収集場所の住所", "渋谷区宇田川町1-1"),
        ("電話番号", "090-1234-5678"),
    ]
    result = conversation.tap(summary.submit.data)
    assert result.outcome == SubmitRequested(
        answers={
            "items": ["sofa", "bed"],
            "count": 2,
            "collection_date": "2026-03-20",
            "address": "渋谷区宇田川町1-1",
            "phone": "09012345678",
        },
        fee=1000,
    )
    assert result.state.status == "submitted"


def test_a_step_whose_condition_is_false_is_skipped(converse, corpus):
    conversation = converse(corpus("bulky-waste"))
    conversation.say("ソファ")
    conversation.say("1")
    assert conversation.state.step_id == "collection_date"


def test_a_step_whose_condition_is_true_is_asked(converse, corpus):
    conversation = converse(corpus("bulky-waste"))
    conversation.say("1、5", "2")
    assert conversation.state.step_id == "photo"
    assert isinstance(conversation.last(), ImageRequestPrompt)


def test_an_end_step_finishes_the_conversation_with_its_message(converse, corpus):
    conversation = converse(corpus("bulky-waste"))
    result = conversation.say("ソファ", "11")
    assert result.outcome == Ended("too_many")
    assert result.state.status == "ended"
    assert "電話" in conversation.texts()[-1]


def test_a_computed_minimum_uses_the_earlier_answer(converse, corpus):
    conversation = converse(corpus("bulky-waste"))
    result = conversation.say("1、2、3", "2")
    assert result.prompts[0] == TextPrompt(
        ja("Please enter a number of at least %(min)s.") % {"min": "3"}
    )
    assert conversation.state.step_id == "count"


def test_juminhyo_fee_is_copies_times_300_yen(converse, corpus):
    conversation = converse(corpus("juminhyo-by-mail"))
    assert "マイナンバー" in conversation.texts()[1]  # the notice follows the introduction
    conversation.say("はい", "山田 太郎", "昭和60年4月1日", "世帯全員", "記載しない", "３通")
    conversation.say("〒150-0002", "東京都渋谷区渋谷2-1-1", "03-1234-5678", "スキップ")
    summary = conversation.last()
    assert isinstance(summary, ConfirmationPrompt)
    assert summary.fee == 900
    assert ("メールアドレス", ja("(not answered)")) in [(r.label, r.value) for r in summary.rows]
    result = conversation.say("送信")
    assert result.outcome.fee == 900
    assert result.outcome.answers["copies"] == 3
    assert "email" not in result.outcome.answers


def test_road_damage_report_with_photo_and_location(converse, corpus):
    conversation = converse(corpus("road-damage"))
    conversation.say("1")
    assert conversation.state.step_id == "place"
    conversation.say(LocationInput(35.6595, 139.7005, "渋谷区道玄坂"))
    conversation.say(ImageInput("uploads/pothole.jpg"), "いいえ", "はい", "09012345678")
    result = conversation.say("送信")
    assert result.outcome.answers["place"]["latitude"] == 35.6595
    assert result.outcome.answers["photo"] == {
        "ref": "uploads/pothole.jpg",
        "content_type": "image/jpeg",
    }
    assert result.outcome.fee is None


def test_road_damage_report_ends_when_dangerous(converse, corpus):
    conversation = converse(corpus("road-damage"))
    result = conversation.say("路面の穴・陥没", "渋谷区道玄坂1-1", "スキップ", "はい")
    assert result.outcome == Ended("urgent")
    assert "03-1234-5678" in conversation.texts()[-1]


def test_a_procedure_without_confirm_submits_after_the_last_step(converse, corpus):
    conversation = converse(corpus("citizen-survey"))
    result = conversation.say("とても不満", "1、2", "30〜59歳", "待ち時間が長い")
    assert result.outcome == SubmitRequested(
        answers={
            "satisfaction": "1",
            "reasons": ["wait", "staff"],
            "age_group": "30s_50s",
            "comment": "待ち時間が長い",
        },
        fee=None,
    )
    assert conversation.texts() == ["ご協力ありがとうございました。"]


def test_completion_substitutes_the_reference(converse, corpus):
    definition = corpus("juminhyo-by-mail")
    conversation = converse(definition)
    prompts = completion_prompts(definition, conversation.state, "A-2026-0001")
    (prompt,) = prompts
    assert isinstance(prompt, CompletionPrompt)
    assert prompt.text.startswith("受付番号 A-2026-0001 で受け付けました。")


def test_completion_has_a_default_text(make_document, converse):
    definition = make_document({"id": "a", "type": "text", "prompt": {"ja": "?"}})
    (prompt,) = completion_prompts(definition, converse(definition).state, "R-1")
    assert "R-1" in prompt.text


# --- invalid input ------------------------------------------------------------------


def test_invalid_input_re_asks_with_the_reason(converse):
    conversation = converse(simple_document())
    result = conversation.say("山田", "たくさん")
    assert result.prompts[0] == TextPrompt(ja("Please enter a whole number, for example 3."))
    assert result.prompts[1].text == "通数は？"
    assert result.state.step_id == "copies"


def test_a_step_error_message_replaces_the_reason(make_document, converse):
    definition = make_document(
        {"id": "n", "type": "number", "prompt": {"ja": "?"}, "error": {"ja": "数字で入力してね"}}
    )
    assert converse(definition).say("abc").prompts[0] == TextPrompt("数字で入力してね")


@pytest.mark.parametrize(
    "inp",
    [
        ImageInput("uploads/x.jpg"),
        LocationInput(35.0, 139.0),
        FollowInput(),
        PostbackInput("garbage"),
        PostbackInput("gt|"),
        PostbackInput("gt|a"),
        PostbackInput("gt|zz|copies|1"),
        PostbackInput("richmenu=home"),
        PostbackInput("gt|c|submit|1"),
        PostbackInput("gt|e|name"),
        TextInput(""),
    ],
)
def test_unexpected_input_re_asks_the_question(inp, converse):
    conversation = converse(simple_document())
    conversation.say("山田")
    result = conversation.say(inp)
    assert result.state.step_id == "copies"
    assert result.state.answers == {"name": "山田"}
    assert result.prompts[-1].text == "通数は？"
    assert len(result.prompts) == 2


def test_a_stale_button_from_an_earlier_question_is_refused(converse, corpus):
    conversation = converse(corpus("road-damage"))
    conversation.say("ガードレール")
    result = conversation.say(PostbackInput("gt|a|damage|pothole"))
    assert result.prompts[0] == TextPrompt(ja("That button belongs to an earlier message."))
    assert result.state.answers == {"damage": "guardrail"}


def test_a_stale_submit_button_is_refused_after_answers_changed(converse):
    conversation = converse(simple_document())
    conversation.say("山田", "2", "スキップ")
    old_submit = conversation.last().submit.data
    conversation.say("修正", "2", "3")
    result = conversation.say(PostbackInput(old_submit))
    assert result.outcome is None
    assert result.prompts[0] == TextPrompt(ja("Your answers have changed; please check again."))
    assert conversation.last().fee == 900


# --- commands -------------------------------------------------------------------------


def test_every_question_offers_the_anytime_commands(converse):
    conversation = converse(simple_document())
    conversation.say("山田")
    data = [choice.data for choice in conversation.last().choices]
    assert data == ["gt|x|back", "gt|x|restart", "gt|x|help", "gt|x|cancel"]


def test_an_optional_question_offers_skip(converse):
    conversation = converse(simple_document())
    conversation.say("山田", "1")
    assert conversation.last().choices[0].data == "gt|s|note"


def test_skip_leaves_an_optional_step_unanswered(converse):
    conversation = converse(simple_document())
    result = conversation.tap("gt|x|help")  # harmless first
    result = conversation.say("山田", "1")
    result = conversation.tap("gt|s|note")
    assert result.state.status == "confirming"
    assert "note" not in result.state.answers


def test_a_required_question_cannot_be_skipped(converse):
    conversation = converse(simple_document())
    result = conversation.say("スキップ")
    assert result.prompts[0] == TextPrompt(ja("This question cannot be skipped."))


@pytest.mark.parametrize("word", ["やめる", "キャンセル", "cancel", "ＣＡＮＣＥＬ", "やめる。"])
def test_cancel_words_end_the_conversation(word, converse):
    conversation = converse(simple_document())
    result = conversation.say("山田", word)
    assert result.outcome == Cancelled()
    assert result.state.status == "cancelled"


def test_cancel_button_ends_the_conversation(converse):
    result = converse(simple_document()).tap("gt|x|cancel")
    assert result.outcome == Cancelled()


@pytest.mark.parametrize("word", ["もどる", "戻る", "back"])
def test_back_re_asks_the_previous_question_and_keeps_its_answer(word, converse):
    conversation = converse(simple_document())
    result = conversation.say("山田", word)
    assert result.state.step_id == "name"
    assert result.state.answers == {"name": "山田"}
    result = conversation.say("佐藤")
    assert result.state.step_id == "copies"
    assert result.state.answers == {"name": "佐藤"}


def test_back_at_the_first_question_explains(converse):
    result = converse(simple_document()).say("もどる")
    assert result.prompts[0] == TextPrompt(ja("This is the first question."))
    assert result.state.step_id == "name"


def test_back_from_the_summary_re_asks_the_last_question(converse):
    conversation = converse(simple_document())
    result = conversation.say("山田", "2", "特になし", "もどる")
    assert result.state.status == "active"
    assert result.state.step_id == "note"


def test_back_skips_steps_that_were_not_asked(converse, corpus):
    conversation = converse(corpus("bulky-waste"))
    conversation.say("ソファ", "1")
    result = conversation.say("もどる")
    assert result.state.step_id == "count"


@pytest.mark.parametrize("word", ["はじめから", "最初から", "restart"])
def test_restart_forgets_the_answers_and_asks_the_first_question(word, converse):
    conversation = converse(simple_document())
    result = conversation.say("山田", "2", word)
    assert result.state.answers == {}
    assert result.state.history == []
    assert result.state.step_id == "name"
    assert result.prompts[0] == TextPrompt(ja("Starting again from the beginning."))


def test_help_shows_the_step_help_and_re_asks(converse):
    conversation = converse(simple_document())
    result = conversation.say("山田", "1", "ヘルプ")
    assert result.prompts[0].text.startswith("なければスキップしてください\n")
    assert "やめる" in result.prompts[0].text
    assert result.prompts[1].text == "備考は？"


def test_a_command_button_label_can_be_typed(converse):
    conversation = converse(simple_document())
    conversation.say("山田", "2", "なし")
    result = conversation.say(conversation.last().submit.label)
    assert isinstance(result.outcome, SubmitRequested)


# --- editing from the summary ------------------------------------------------------------


def test_edit_lists_the_answered_fields(converse):
    conversation = converse(simple_document())
    conversation.say("山田", "2", "なし")
    result = conversation.tap("gt|c|edit")
    (prompt,) = result.prompts
    assert isinstance(prompt, EditFieldPrompt)
    assert [c.data for c in prompt.choices] == [
        "gt|e|name",
        "gt|e|copies",
        "gt|e|note",
        "gt|x|back",
    ]
    assert result.state.status == "editing"


def test_edit_re_asks_the_field_then_returns_to_the_summary(converse):
    conversation = converse(simple_document())
    conversation.say("山田", "2", "なし", "修正")
    result = conversation.tap("gt|e|copies")
    assert result.state.step_id == "copies"
    result = conversation.say("5")
    assert isinstance(result.prompts[-1], ConfirmationPrompt)
    assert result.prompts[-1].fee == 1500
    assert result.state.answers == {"name": "山田", "copies": 5, "note": "なし"}


def test_edit_field_can_be_picked_by_number(converse):
    conversation = converse(simple_document())
    conversation.say("山田", "2", "なし", "修正")
    assert conversation.say("１").state.step_id == "name"


def test_back_while_editing_returns_to_the_summary(converse):
    conversation = converse(simple_document())
    conversation.say("山田", "2", "なし", "修正", "2")
    result = conversation.say("もどる")
    assert result.state.status == "confirming"
    assert result.state.answers["copies"] == 2


def test_edit_that_makes_a_step_inapplicable_drops_its_answer(converse, corpus):
    conversation = converse(corpus("bulky-waste"))
    conversation.say("1、5", "2", ImageInput("uploads/a.jpg"), "3月20日", "住所", "0312345678")
    assert "photo" in conversation.state.answers
    conversation.say("修正")
    conversation.tap("gt|e|items")
    assert conversation.state.pending == ["sofa", "other"]  # the selection starts as it was
    conversation.tap("gt|t|items|other")
    result = conversation.tap("gt|d|items")
    assert result.state.status == "confirming"
    assert "photo" not in result.state.answers
    assert [row.step_id for row in result.prompts[-1].rows] == [
        "items", "count", "collection_date", "address", "phone",
    ]  # fmt: skip


def test_edit_that_makes_a_step_applicable_asks_it_before_the_summary(converse, corpus):
    conversation = converse(corpus("bulky-waste"))
    conversation.say("1", "1", "3月20日", "住所", "0312345678", "修正")
    conversation.tap("gt|e|items")
    result = conversation.say("1、5")
    assert result.state.step_id == "photo"
    assert result.state.status == "editing"
    result = conversation.say(ImageInput("uploads/b.jpg"))
    assert result.state.status == "confirming"
    assert result.state.answers["photo"]["ref"] == "uploads/b.jpg"


def test_edit_that_triggers_an_end_step_ends_the_conversation(converse, corpus):
    conversation = converse(corpus("bulky-waste"))
    conversation.say("1", "1", "3月20日", "住所", "0312345678", "修正", "2")
    result = conversation.say("12")
    assert result.outcome == Ended("too_many")


# --- expiry and resume ------------------------------------------------------------------


def test_a_conversation_expires_after_the_idle_timeout(converse):
    conversation = converse(simple_document())
    conversation.say("山田")
    conversation.now += timedelta(hours=25)
    result = conversation.say("2")
    assert result.state.status == "expired"
    assert result.prompts[0].text == ja(
        "This procedure was closed because there was no reply for a while. "
        "Please start again from the beginning."
    )
    assert result.state.answers == {"name": "山田"}


def test_the_idle_timeout_is_configurable(converse):
    conversation = converse(simple_document())
    conversation.now += timedelta(minutes=31)
    result = conversation.say("山田", idle_timeout=timedelta(minutes=30))
    assert result.state.status == "expired"


def test_a_conversation_within_the_timeout_continues(converse):
    conversation = converse(simple_document())
    conversation.now += timedelta(hours=23)
    assert conversation.say("山田").state.step_id == "copies"


def test_after_expiry_start_over_begins_a_new_conversation(converse):
    conversation = converse(simple_document())
    conversation.say("山田")
    conversation.now += timedelta(days=2)
    conversation.say("2")
    result = conversation.tap("gt|x|restart")
    assert result.state.status == "active"
    assert result.state.answers == {}


def test_input_to_a_finished_conversation_says_it_has_finished(converse):
    conversation = converse(simple_document())
    conversation.say("やめる")
    result = conversation.say("山田")
    assert result.state.status == "cancelled"
    assert result.prompts[0].text == ja(
        "This procedure has finished. To do it again, choose Start over."
    )


def test_offer_resume_asks_to_continue_or_start_over(converse, now):
    conversation = converse(simple_document())
    conversation.say("山田")
    result = offer_resume(conversation.definition, conversation.state, now=now)
    assert result.state.awaiting == "resume"
    assert result.state.resume_offered
    assert [c.data for c in result.prompts[0].choices] == [
        "gt|r|resume",
        "gt|r|restart",
        "gt|x|cancel",
    ]


def test_resume_continues_with_the_same_question(converse, now):
    conversation = converse(simple_document())
    conversation.say("山田")
    conversation.result = offer_resume(conversation.definition, conversation.state, now=now)
    result = conversation.say("再開する")
    assert result.state.step_id == "copies"
    assert result.state.awaiting == "answer"
    assert not result.state.resume_offered
    assert result.prompts[-1].text == "通数は？"


def test_resume_returns_to_the_summary(converse, now):
    conversation = converse(simple_document())
    conversation.say("山田", "2", "なし")
    conversation.result = offer_resume(conversation.definition, conversation.state, now=now)
    result = conversation.tap("gt|r|resume")
    assert isinstance(result.prompts[-1], ConfirmationPrompt)


def test_start_over_from_the_resume_question_forgets_the_answers(converse, now):
    conversation = converse(simple_document())
    conversation.say("山田")
    conversation.result = offer_resume(conversation.definition, conversation.state, now=now)
    result = conversation.say("はじめから")
    assert result.state.answers == {}
    assert result.state.step_id == "name"


def test_anything_else_at_the_resume_question_asks_again(converse, now):
    conversation = converse(simple_document())
    conversation.result = offer_resume(conversation.definition, conversation.state, now=now)
    result = conversation.say("山田")
    assert result.state.awaiting == "resume"
    assert result.prompts[0] == TextPrompt(ja("Please choose whether to continue or start over."))


def test_offer_resume_of_an_expired_conversation_starts_anew(converse, now):
    conversation = converse(simple_document())
    conversation.say("山田")
    later = now + timedelta(days=3)
    result = offer_resume(conversation.definition, conversation.state, now=later)
    assert result.state.answers == {}
    assert result.state.started_at == later.isoformat()


# --- language and state ---------------------------------------------------------------


def test_a_conversation_speaks_the_requested_language(converse, corpus):
    conversation = converse(corpus("road-damage"), lang="en")
    assert conversation.state.lang == "en"
    assert conversation.last().text == "What kind of damage?"
    assert [c.label for c in conversation.last().choices][:2] == ["Pothole", "Guardrail"]


@pytest.mark.parametrize(("requested", "languages", "expected"), [
    ("en", ["ja"], "ja"), ("fr", ["ja", "en"], "ja"), ("fr", ["en"], "en"),
    ("en", ["ja", "en"], "en"),
])  # fmt: skip
def test_language_falls_back_to_japanese_then_the_first_language(
    requested, languages, expected, now
):
    definition = document(
        {"id": "a", "type": "text", "prompt": {lang: lang for lang in languages}},
        languages=languages,
        title={lang: "t" for lang in languages},
    )
    result = start(definition, lang=requested, now=now)
    assert result.state.lang == expected
    assert result.prompts[-1].text == expected


def test_state_round_trips_through_json(converse, corpus):
    conversation = converse(corpus("bulky-waste"))
    conversation.tap("gt|t|items|sofa")
    state = conversation.state
    restored = ConversationState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state


def test_state_from_dict_refuses_an_unknown_status(converse):
    data = converse(simple_document()).state.to_dict() | {"status": "flying"}
    with pytest.raises(ValueError, match="invalid conversation state"):
        ConversationState.from_dict(data)


def test_advance_does_not_change_the_given_state(converse, now):
    conversation = converse(simple_document())
    before = conversation.state.to_dict()
    advance(conversation.definition, conversation.state, TextInput("山田"), now=now)
    assert conversation.state.to_dict() == before


def test_date_question_uses_the_date_picker(converse, corpus):
    conversation = converse(corpus("bulky-waste"))
    conversation.say("ソファ", "1")
    picker = conversation.last()
    assert isinstance(picker, DatePickerPrompt)
    assert (picker.min, picker.max) == ("2026-03-17", "2026-05-09")
    result = conversation.say(PostbackInput(picker.data, {"date": "2026-03-18"}))
    assert result.state.answers["collection_date"] == "2026-03-18"
