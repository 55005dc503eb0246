"""Residents' languages in LINE (decision 0025): the LINE profile gives a new friend's
language, 「Language / 言語」 changes it, a procedure speaks it where translated and the
product's own words are always in it."""

import pytest
from django_scopes import scopes_disabled

from delivery.models import Friend
from procedures.services import procedure_create, procedure_publish
from tests.procedures.docs import pet_registration

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

VIETNAMESE_USER = "U" + "a" * 32


def _publish(designer, city, document):
    procedure = procedure_create(actor=designer, municipality=city, document=document)
    procedure_publish(actor=designer, procedure=procedure)
    return procedure


def _vietnamese_document() -> dict:
    document = pet_registration()
    document["languages"] = ["ja", "en", "vi"]
    document["title"]["vi"] = "Thay đổi đăng ký chó"
    document["description"] = {"ja": "変更を届け出ます。", "vi": "Khai báo thay đổi."}
    owner, change = document["steps"][0], document["steps"][1]
    owner["prompt"]["vi"] = "Tên chủ nuôi là gì?"
    owner["label"]["vi"] = "Chủ nuôi"
    change["prompt"]["vi"] = "Đã thay đổi gì?"  # its options stay untranslated
    return document


def _language_of(user_id: str) -> str:
    with scopes_disabled():
        return Friend.objects.select_related("resident").get(line_user_id=user_id).resident.language


def test_a_vietnamese_profile_makes_a_vietnamese_resident(line_world, city, designer):
    lan = line_world(VIETNAMESE_USER)

    lan._say(follow=True, language="vi")
    lan.received()

    assert _language_of(VIETNAMESE_USER) == "vi"
    assert "Cảm ơn bạn đã kết bạn" in lan.texts()


def test_a_vietnamese_resident_reads_the_procedure_in_vietnamese_where_translated(
    line_world, city, designer
):
    _publish(designer, city, _vietnamese_document())
    lan = line_world(VIETNAMESE_USER)
    lan._say(follow=True, language="vi")
    lan.received()

    lan.say("犬の届出")
    lan.received()
    assert "Thay đổi đăng ký chó\nKhai báo thay đổi." in lan.texts()
    assert "Tên chủ nuôi là gì?" in lan.texts()
    assert {"Dừng lại", "Trợ giúp"} <= {a.get("label") for a in lan.quick_replies()}

    lan.say("Lan")
    lan.received()
    assert "Đã thay đổi gì?" in lan.texts()
    # An untranslated text falls back to the procedure's first language.
    assert {"住所", "死亡"} <= {a.get("label") for a in lan.quick_replies()}

    lan.say("cancel")
    lan.received()
    assert lan.texts() == "Đã dừng thủ tục."


def test_a_procedure_without_vietnamese_comes_in_its_first_language_with_vietnamese_commands(
    line_world, city, designer
):
    document = pet_registration()
    document["languages"] = ["ja"]
    for step in document["steps"]:
        for key in ("label", "prompt"):
            if key in step:
                step[key] = {"ja": step[key]["ja"]}
    document["title"] = {"ja": "犬の登録事項変更届"}
    _publish(designer, city, document)
    lan = line_world(VIETNAMESE_USER)
    lan._say(follow=True, language="vi")
    lan.received()

    lan.say("犬の届出")
    lan.received()
    assert "飼い主の氏名を入力してください" in lan.texts()
    lan.say("ヘルプ")
    lan.received()
    assert "Bạn có thể nhập bất cứ lúc nào" in lan.texts()
    lan.say("back")
    lan.received()
    assert "Đây là câu hỏi đầu tiên." in lan.texts()


def test_language_menu_offers_the_municipalitys_languages_and_stores_the_choice(
    line_world, city, designer
):
    city.resident_languages = "ja en vi ja-x-easy"
    city.save()
    taro = line_world()
    taro.follow()
    taro.received()
    assert _language_of(taro.user_id) == "ja"

    taro.say("Language / 言語")
    taro.received()
    labels = [action.get("label") for action in taro.quick_replies()]
    assert labels == ["日本語", "やさしい にほんご", "English", "Tiếng Việt"]

    taro.tap("やさしい にほんご")
    taro.received()
    assert _language_of(taro.user_id) == "ja-x-easy"
    assert taro.texts() == "これから やさしい にほんご で メッセージを おくります。"

    taro.say("やめる")  # outside a procedure: the menu, in やさしい日本語
    taro.received()
    assert "したい ことを えらんで ください。" in taro.texts() or "LINEで できる" in taro.texts()


def test_a_profile_language_the_municipality_does_not_offer_falls_back(line_world, city, designer):
    city.resident_languages = "ja en"
    city.save()
    lan = line_world(VIETNAMESE_USER)

    lan._say(follow=True, language="vi")
    lan.received()

    assert _language_of(VIETNAMESE_USER) == "en"
    assert "Thank you for adding us as a friend" in lan.texts()


def test_a_language_button_of_another_municipalitys_offer_is_asked_again(
    line_world, city, designer
):
    city.resident_languages = "ja en"
    city.save()
    taro = line_world()
    taro.follow()
    taro.received()

    taro.postback("gt|lang|vi")  # a stale or forged button: vi is not offered here
    taro.received()

    assert _language_of(taro.user_id) == "ja"
    assert [a.get("label") for a in taro.quick_replies()] == ["日本語", "English"]
