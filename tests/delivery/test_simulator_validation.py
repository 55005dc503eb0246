"""Message-object validation answers like LINE: located errors with LINE's wording."""

from __future__ import annotations

import pytest

from delivery.simulator.validation import Errors, validate_messages


def errors_for(*messages) -> list[tuple[str, str]]:
    errors = Errors()
    validate_messages(errors, list(messages))
    return [(d["property"], d["message"]) for d in errors.details]


def quick_reply(*actions):
    return {"items": [{"type": "action", "action": action} for action in actions]}


def text(body="本文", **extra):
    return {"type": "text", "text": body, **extra}


def bubble(*contents):
    return {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "contents": list(contents)},
    }


def test_a_plain_text_message_is_valid():
    assert errors_for(text()) == []


def test_text_may_not_be_empty_nor_longer_than_5000():
    assert errors_for(text(""), text("あ" * 5001)) == [
        ("messages[0].text", "May not be empty"),
        ("messages[1].text", "Length must be between 0 and 5000"),
    ]


def test_body_error_counts_every_detail():
    errors = Errors()
    validate_messages(errors, [text(""), {"type": "video"}])
    assert errors.body()["message"] == "The request body has 3 error(s)"


def test_quick_reply_has_at_most_13_items():
    action = {"type": "message", "label": "はい", "text": "はい"}
    assert errors_for(text(quickReply=quick_reply(*[action] * 14))) == [
        ("messages[0].quickReply.items", "Size must be between 1 and 13")
    ]
    assert errors_for(text(quickReply=quick_reply(*[action] * 13))) == []


def test_quick_reply_labels_are_required_and_at_most_20_characters():
    assert errors_for(
        text(
            quickReply=quick_reply(
                {"type": "message", "text": "a"},
                {"type": "message", "label": "あ" * 21, "text": "a"},
            )
        )
    ) == [
        ("messages[0].quickReply.items[0].action.label", "must be specified"),
        ("messages[0].quickReply.items[1].action.label", "Length must be between 0 and 20"),
    ]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (
            {"type": "postback", "label": "a", "data": "x" * 301},
            [("action.data", "Length must be between 0 and 300")],
        ),
        ({"type": "postback", "label": "a"}, [("action.data", "must be specified")]),
        ({"type": "message", "label": "a"}, [("action.text", "must be specified")]),
        ({"type": "uri", "label": "a"}, [("action.uri", "must be specified")]),
        (
            {"type": "uri", "label": "a", "uri": "javascript:alert(1)"},
            [("action.uri", "Invalid uri scheme")],
        ),
        (
            {"type": "datetimepicker", "label": "a", "data": "d", "mode": "week"},
            [("action.mode", "Must be one of the following values: [date, time, datetime]")],
        ),
        (
            {
                "type": "datetimepicker",
                "label": "a",
                "data": "d",
                "mode": "date",
                "initial": "12/1",
            },
            [("action.initial", "Invalid date format")],
        ),
        (
            {
                "type": "datetimepicker",
                "label": "a",
                "data": "d",
                "mode": "datetime",
                "min": "2026-12-01T09:00",
            },
            [],
        ),
        ({"type": "camera", "label": "カメラ"}, []),
        ({"type": "cameraRoll", "label": "写真"}, []),
        ({"type": "location", "label": "位置"}, []),
        (
            {"type": "teleport", "label": "a"},
            [
                (
                    "action.type",
                    "Must be one of the following values: [postback, message, uri, "
                    "datetimepicker, camera, cameraRoll, location, richmenuswitch, clipboard]",
                )
            ],
        ),
    ],
)
def test_actions_need_their_own_fields(action, expected):
    prefix = "messages[0].quickReply.items[0]."
    assert errors_for(text(quickReply=quick_reply(action))) == [
        (prefix + prop, message) for prop, message in expected
    ]


def test_flex_needs_alt_text_and_a_bubble_or_carousel():
    assert errors_for({"type": "flex", "contents": {"type": "box"}}) == [
        ("messages[0].altText", "must be specified"),
        ("messages[0].contents.type", "Must be one of the following values: [bubble, carousel]"),
    ]


def test_flex_carousel_has_at_most_12_bubbles():
    title = {"type": "text", "text": "申請内容"}
    carousel = {"type": "carousel", "contents": [bubble(title)] * 13}
    assert errors_for({"type": "flex", "altText": "確認", "contents": carousel}) == [
        ("messages[0].contents.contents", "Size must be between 1 and 12")
    ]


def test_flex_components_are_checked_with_their_paths():
    contents = bubble(
        {"type": "text"},
        {"type": "box", "layout": "diagonal", "contents": []},
        {"type": "button", "action": {"type": "postback", "label": "送信"}},
        {"type": "separator"},
    )
    assert errors_for({"type": "flex", "altText": "確認", "contents": contents}) == [
        ("messages[0].contents.body.contents[0].text", "must be specified"),
        (
            "messages[0].contents.body.contents[1].layout",
            "Must be one of the following values: [horizontal, vertical, baseline]",
        ),
        ("messages[0].contents.body.contents[2].action.data", "must be specified"),
    ]


def test_confirm_template_needs_exactly_two_actions():
    yes = {"type": "message", "label": "はい", "text": "はい"}
    template = {
        "type": "template",
        "altText": "確認",
        "template": {"type": "confirm", "text": "送信しますか", "actions": [yes]},
    }
    assert errors_for(template) == [
        ("messages[0].template.actions", "Size must be between 2 and 2")
    ]


def test_media_urls_must_be_https_except_on_this_machine():
    assert errors_for(
        {
            "type": "image",
            "originalContentUrl": "http://example.com/a.jpg",
            "previewImageUrl": "https://example.com/p.jpg",
        },
        {
            "type": "image",
            "originalContentUrl": "http://127.0.0.1:8000/m/a.jpg",
            "previewImageUrl": "http://localhost/p.jpg",
        },
    ) == [("messages[0].originalContentUrl", "must be HTTPS")]


def test_location_and_sticker_need_their_fields():
    assert errors_for(
        {"type": "location", "title": "市役所", "address": "1-1", "latitude": "35"},
        {"type": "sticker", "packageId": "446"},
    ) == [
        ("messages[0].latitude", "must be a number"),
        ("messages[0].longitude", "must be specified"),
        ("messages[1].stickerId", "must be specified"),
    ]


def test_messages_must_be_one_to_five():
    assert errors_for() == [("messages", "Size must be between 1 and 5")]
    errors = Errors()
    validate_messages(errors, None)
    assert errors.details == [{"message": "must be specified", "property": "messages"}]
