"""Small procedure documents for service and runtime tests."""

import copy


def pet_registration(**changes) -> dict:
    """A short application: name, species choice, optional photo, confirm; 3,000 yen fee."""
    document = {
        "format": "govtech.procedure.v1",
        "key": "dog-change",
        "kind": "application",
        "title": {"ja": "犬の登録事項変更届", "en": "Dog registration change"},
        "languages": ["ja", "en"],
        "triggers": {"keywords": ["犬の届出"]},
        "steps": [
            {
                "id": "owner",
                "type": "text",
                "label": {"ja": "飼い主の氏名", "en": "Owner"},
                "prompt": {"ja": "飼い主の氏名を入力してください", "en": "Owner's name?"},
            },
            {
                "id": "change",
                "type": "choice",
                "label": {"ja": "変更内容", "en": "Change"},
                "prompt": {"ja": "変更内容を選んでください", "en": "What changed?"},
                "options": [
                    {"value": "address", "label": {"ja": "住所", "en": "Address"}},
                    {"value": "death", "label": {"ja": "死亡", "en": "Death"}},
                ],
            },
            {
                "id": "photo",
                "type": "image",
                "required": False,
                "label": {"ja": "写真", "en": "Photo"},
                "prompt": {"ja": "鑑札の写真を送ってください", "en": "Send a photo of the tag"},
            },
            {"id": "confirm", "type": "confirm"},
        ],
        "fee": 3000,
        "completion": {
            "ja": "受付番号 {reference} で受け付けました",
            "en": "Received: {reference}",
        },
    }
    document.update(copy.deepcopy(changes))
    return document
