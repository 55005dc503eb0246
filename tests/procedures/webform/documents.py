"""A procedure that uses every step type, for the web form's tests (views and browser)."""

from tests.procedures.reservation_fixtures import hiroba_document


def every_step_document(resource_key: str = "kodomo-hiroba") -> dict:
    """Every step type once, with conditions: ``photo`` only when ``items`` has other,
    ``too_many`` ends when ``count`` is over 10, ``note`` is optional."""
    visit = dict(hiroba_document(resource_key)["steps"][0], id="visit")
    return {
        "format": "govtech.procedure.v1",
        "key": "every-step",
        "kind": "application",
        "title": {"ja": "すべての項目の申込", "en": "Every field"},
        "description": {"ja": "すべての種類の質問がある手続きです。"},
        "languages": ["ja", "en"],
        "triggers": {"keywords": ["すべての項目"]},
        "steps": [
            {"id": "intro", "type": "message", "message": {"ja": "はじめにお読みください。"}},
            {"id": "agree", "type": "consent", "prompt": {"ja": "利用規約に同意しますか"}},
            {
                "id": "name",
                "type": "text",
                "label": {"ja": "氏名"},
                "prompt": {"ja": "お名前を入力してください"},
                "help": {"ja": "戸籍上の氏名を入力してください"},
            },
            {"id": "count", "type": "number", "label": {"ja": "点数"}, "prompt": {"ja": "点数は"}},
            {
                "id": "too_many",
                "type": "end",
                "when": {">": [{"var": "count"}, 10]},
                "message": {"ja": "11点以上は電話でお申し込みください"},
            },
            {
                "id": "mail",
                "type": "email",
                "label": {"ja": "メール"},
                "prompt": {"ja": "メールアドレス"},
            },
            {"id": "tel", "type": "phone", "label": {"ja": "電話"}, "prompt": {"ja": "電話番号"}},
            {
                "id": "zip",
                "type": "postal_code",
                "label": {"ja": "郵便番号"},
                "prompt": {"ja": "郵便番号"},
            },
            {
                "id": "day",
                "type": "date",
                "label": {"ja": "希望日"},
                "prompt": {"ja": "希望日を選んでください"},
                "validation": {"min_date": 1},
            },
            {"id": "at", "type": "time", "label": {"ja": "時刻"}, "prompt": {"ja": "希望時刻"}},
            {
                "id": "size",
                "type": "choice",
                "label": {"ja": "大きさ"},
                "prompt": {"ja": "大きさを選んでください"},
                "options": [
                    {"value": "small", "label": {"ja": "小"}},
                    {"value": "large", "label": {"ja": "大"}},
                ],
            },
            {
                "id": "items",
                "type": "multi_choice",
                "label": {"ja": "品目"},
                "prompt": {"ja": "出す品目を選んでください"},
                "options": [
                    {"value": "sofa", "label": {"ja": "ソファ"}},
                    {"value": "desk", "label": {"ja": "机"}},
                    {"value": "other", "label": {"ja": "その他"}},
                ],
            },
            {
                "id": "photo",
                "type": "image",
                "label": {"ja": "写真"},
                "prompt": {"ja": "品目の写真を送ってください"},
                "when": {"in": ["other", {"var": "items"}]},
            },
            {
                "id": "place",
                "type": "location",
                "label": {"ja": "場所"},
                "prompt": {"ja": "出す場所"},
            },
            {
                "id": "car",
                "type": "yes_no",
                "label": {"ja": "車"},
                "prompt": {"ja": "車で来ますか"},
            },
            visit,
            {
                "id": "note",
                "type": "text",
                "required": False,
                "label": {"ja": "備考"},
                "prompt": {"ja": "備考があれば入力してください"},
            },
            {"id": "confirm", "type": "confirm"},
        ],
        "completion": {"ja": "受付番号 {reference} で受け付けました"},
    }
