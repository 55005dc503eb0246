"""The FAQ in LINE, end to end through the simulator with the real line-bot-sdk client:
「ぺっとぼとる」 gets the sorting answer, a near miss gets 「もしかして」 and its tap the
answer, an unknown word gets the menu and lands in the staff list, and an answer can
start its procedure."""

from pathlib import Path

import pytest
from django_scopes import scopes_disabled

from delivery.faq.models import FaqDay, FaqEntry, UnansweredQuestion
from delivery.faq.services import faq_import
from govtech.tenancy import tenant_scope
from procedures.services import procedure_create, procedure_publish
from tests.procedures.docs import pet_registration

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
DATA = Path(__file__).parent / "data"


@pytest.fixture
def sorting_list(city, admin_user):
    with tenant_scope(city):
        faq_import(
            actor=admin_user,
            municipality=city,
            kind="garbage",
            content=(DATA / "gomi_cp932.csv").read_bytes(),
        )


def test_residents_get_sorting_answers_suggestions_and_the_menu(line_world, city, sorting_list):
    hanako = line_world()
    hanako.follow()
    hanako.received()

    hanako.say("ぺっとぼとる")
    hanako.received()
    answer = hanako.texts()
    assert "「ペットボトル」：資源物（ペットボトル）" in answer
    assert "キャップとラベルを外し" in answer

    hanako.say("空き瓶")  # close to 空きびん and 空き缶: offered, not guessed
    hanako.received()
    assert "もしかして" in hanako.texts()
    hanako.tap("空きびん")
    hanako.received()
    assert "資源物（びん）" in hanako.texts()

    hanako.say("ふるいタンス")
    hanako.received()
    with scopes_disabled():
        unanswered = UnansweredQuestion.objects.get()
        day = FaqDay.objects.get()
    assert unanswered.text == "ふるいタンス" and unanswered.count == 1
    assert (day.answered, day.suggested, day.unanswered) == (2, 1, 1)


def test_an_answer_offers_to_start_its_procedure(line_world, city, designer, admin_user):
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    content = (
        "質問,回答,同義語,手続き\n犬を飼い始めた,登録が必要です。,犬の登録;飼い犬,dog-change\n"
    )
    with tenant_scope(city):
        counts, _read = faq_import(
            actor=admin_user, municipality=city, kind="general", content=content.encode()
        )
        assert counts["added"] == 1 and FaqEntry.objects.get().synonyms == ["犬の登録", "飼い犬"]
    taro = line_world("U" + "3" * 32)
    taro.follow()
    taro.received()
    taro.say("飼い犬")
    taro.received()
    assert "登録が必要です。" in taro.texts()
    taro.tap("犬の登録事項変更届")
    taro.received()
    assert "飼い主の氏名を入力してください" in taro.texts()
