"""CardsPrompt → LINE: a bubble for one card, a carousel for more, within LINE's limits
as the simulator checks them."""

from delivery.rendering import render_prompts
from delivery.simulator.validation import Errors, validate_messages
from procedures import engine


def card(number: int, buttons: int = 3) -> engine.Card:
    return engine.Card(
        f"犬の登録事項変更届 {number}",
        ("受付番号: DC-2026-000001", "状況: 返戻", "最新のお知らせ: " + "長い" * 400, ""),
        tuple(
            engine.Choice("とても長いボタンのラベルで二十文字を超えます", f"gt|case|open|{i}")
            for i in range(buttons)
        ),
    )


def errors_of(messages: list[dict]) -> list[dict]:
    errors = Errors()
    validate_messages(errors, messages)
    return errors.details


def test_ten_cards_are_one_valid_carousel_with_the_choices_as_quick_replies():
    back = engine.Choice("申請状況", "gt|case|list|")
    messages = render_prompts(
        [engine.CardsPrompt("あなたの申請", tuple(map(card, range(10))), (back,))]
    )
    assert errors_of(messages) == []
    (message,) = messages
    assert message["contents"]["type"] == "carousel" and len(message["contents"]["contents"]) == 10
    assert message["altText"] == "あなたの申請"
    assert message["quickReply"]["items"][0]["action"]["data"] == "gt|case|list|"


def test_one_card_is_a_bubble_and_a_card_without_buttons_has_no_footer():
    (message,) = render_prompts([engine.CardsPrompt("申請", (card(1, buttons=0),))])
    assert errors_of([message]) == []
    assert message["contents"]["type"] == "bubble" and "footer" not in message["contents"]


def test_cards_survive_the_outbox_round_trip():
    prompt = engine.CardsPrompt("あなたの申請", (card(1),), (engine.Choice("戻る", "gt|x|back"),))
    assert engine.prompt_from_dict(prompt.to_dict()) == prompt


def test_no_cards_is_a_plain_text():
    (message,) = render_prompts([engine.CardsPrompt("申請はありません", ())])
    assert message == {"type": "text", "text": "申請はありません"}
