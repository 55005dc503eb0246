"""Engine prompts → LINE message objects, built with line-bot-sdk v3 models.

The one renderer: the webhook's replies, the builder's preview and the simulator all
show what this module makes. Output is the JSON the Messaging API receives
(``render_prompts`` → list of dicts), so it can be stored in an intent row first.

LINE's limits kept here: quick replies ≤ 13 items with labels ≤ 20 characters (longer
choice lists become a Flex carousel of buttons), text ≤ 5,000 UTF-16 units per message,
postback ``displayText`` ≤ 300 characters. The 5-messages-per-request limit is applied by
the sender, which splits batches.
"""

from collections.abc import Iterable
from functools import singledispatch

from django.utils.translation import gettext as _
from linebot.v3.messaging import (
    CameraAction,
    CameraRollAction,
    DatetimePickerAction,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexCarousel,
    FlexMessage,
    FlexSeparator,
    FlexText,
    ImageMessage,
    LocationAction,
    Message,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
    URIAction,
)

from procedures import engine
from procedures.languages import resident_override

QUICK_REPLY_LIMIT = 13
LABEL_LIMIT = 20
TEXT_LIMIT = 5000  # UTF-16 code units
BUTTONS_PER_BUBBLE = 10
BUBBLES_PER_CAROUSEL = 12
ALT_TEXT_LIMIT = 400


def label(text: str, limit: int = LABEL_LIMIT) -> str:
    """LINE refuses longer labels; cut with an ellipsis so the cut is visible."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split into parts of at most ``limit`` UTF-16 units, preferring line breaks."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while utf16_length(line) > limit:  # a single enormous line: hard cut
            cut = _utf16_prefix(line, limit - utf16_length(current))
            parts.append(current + cut)
            current, line = "", line[len(cut) :]
        if utf16_length(current + line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current or not parts:
        parts.append(current)
    return [part.rstrip("\n") or " " for part in parts]


def _utf16_prefix(text: str, units: int) -> str:
    taken, used = [], 0
    for char in text:
        size = utf16_length(char)
        if used + size > units:
            break
        taken.append(char)
        used += size
    return "".join(taken)


def postback_action(choice: engine.Choice) -> PostbackAction:
    return PostbackAction(
        label=label(choice.label), data=choice.data, display_text=choice.label[:300]
    )


def _quick_reply(actions: Iterable) -> QuickReply | None:
    items = [QuickReplyItem(action=action) for action in actions]
    return QuickReply(items=items[:QUICK_REPLY_LIMIT]) if items else None


def _choice_carousel(text: str, choices: tuple[engine.Choice, ...]) -> FlexMessage:
    """More choices than quick replies allow: a carousel of bubbles with buttons."""
    bubbles = []
    for start in range(0, len(choices), BUTTONS_PER_BUBBLE):
        buttons = [
            FlexButton(action=postback_action(choice), style="secondary", height="sm", margin="sm")
            for choice in choices[start : start + BUTTONS_PER_BUBBLE]
        ]
        bubbles.append(FlexBubble(body=FlexBox(layout="vertical", contents=buttons)))
    return FlexMessage(
        alt_text=text[:ALT_TEXT_LIMIT],
        contents=FlexCarousel(contents=bubbles[:BUBBLES_PER_CAROUSEL]),
    )


def _text_with_choices(
    text: str, choices: tuple[engine.Choice, ...], extra_actions=()
) -> list[Message]:
    """Text (split if long) whose last message carries the quick replies."""
    parts = split_text(text)
    messages: list[Message] = [TextMessage(text=part) for part in parts]
    actions = list(extra_actions)
    if len(actions) + len(choices) <= QUICK_REPLY_LIMIT:
        actions += [postback_action(choice) for choice in choices]
    else:
        messages.append(_choice_carousel(text, choices))
    if actions:
        messages[-1].quick_reply = _quick_reply(actions)
    return messages


@singledispatch
def render_prompt(prompt) -> list[Message]:
    raise TypeError(f"no LINE rendering for {type(prompt).__name__}")


@render_prompt.register
def _render_text(prompt: engine.TextPrompt) -> list[Message]:
    return _text_with_choices(prompt.text, prompt.choices)


@render_prompt.register
def _render_edit_field(prompt: engine.EditFieldPrompt) -> list[Message]:
    return _text_with_choices(prompt.text, prompt.choices)


@render_prompt.register
def _render_completion(prompt: engine.CompletionPrompt) -> list[Message]:
    return [TextMessage(text=part) for part in split_text(prompt.text)]


@render_prompt.register
def _render_date_picker(prompt: engine.DatePickerPrompt) -> list[Message]:
    names = {
        "date": _("Choose a date"),
        "time": _("Choose a time"),
        "datetime": _("Choose a date and time"),
    }
    picker = DatetimePickerAction(
        label=label(names.get(prompt.mode, names["date"])),
        data=prompt.data,
        mode=prompt.mode,
        initial=prompt.initial,
        min=prompt.min,
        max=prompt.max,
    )
    return _text_with_choices(prompt.text, prompt.choices, [picker])


@render_prompt.register
def _render_location_request(prompt: engine.LocationRequestPrompt) -> list[Message]:
    return _text_with_choices(
        prompt.text, prompt.choices, [LocationAction(label=label(_("Send location")))]
    )


@render_prompt.register
def _render_image_request(prompt: engine.ImageRequestPrompt) -> list[Message]:
    actions = [
        CameraAction(label=label(_("Take a photo"))),
        CameraRollAction(label=label(_("Choose a photo"))),
    ]
    return _text_with_choices(prompt.text, prompt.choices, actions)


def _summary_row(row: engine.SummaryRow) -> FlexBox:
    return FlexBox(
        layout="vertical",
        margin="md",
        contents=[
            FlexText(text=row.label or " ", size="xs", color="#8c8c8c", wrap=True),
            FlexText(text=row.value or " ", size="sm", color="#111111", wrap=True),
        ],
    )


@render_prompt.register
def _render_confirmation(prompt: engine.ConfirmationPrompt) -> list[Message]:
    body: list = [
        FlexText(text=prompt.title, weight="bold", size="md", wrap=True),
        FlexSeparator(margin="md"),
    ]
    body += [_summary_row(row) for row in prompt.rows]
    if prompt.fee is not None:
        fee = _("%(amount)s yen") % {"amount": f"{prompt.fee:,}"}
        body += [FlexSeparator(margin="md"), _summary_row(engine.SummaryRow("fee", _("Fee"), fee))]
    bubble = FlexBubble(
        body=FlexBox(layout="vertical", contents=body),
        footer=FlexBox(
            layout="horizontal",
            spacing="md",
            contents=[
                FlexButton(action=postback_action(prompt.edit), style="secondary"),
                FlexButton(action=postback_action(prompt.submit), style="primary", color="#06c755"),
            ],
        ),
    )
    message = FlexMessage(alt_text=prompt.title[:ALT_TEXT_LIMIT], contents=bubble)
    message.quick_reply = _quick_reply(postback_action(c) for c in prompt.choices)
    return [message]


CARD_LINE_LIMIT = 500  # characters of one line of a card; a bubble's JSON stays under 10 KB


def _card_bubble(card: engine.Card) -> FlexBubble:
    body: list = [FlexText(text=card.title or " ", weight="bold", size="md", wrap=True)]
    body += [
        FlexText(text=label(line, CARD_LINE_LIMIT) or " ", size="sm", wrap=True, margin="sm")
        for line in card.lines
    ]
    buttons = [
        FlexButton(action=postback_action(choice), style="secondary", height="sm", margin="sm")
        for choice in card.buttons[:BUTTONS_PER_BUBBLE]
    ]
    buttons += [
        FlexButton(
            action=URIAction(label=label(link.label, 40), uri=link.url),
            style="link",
            height="sm",
            margin="sm",
        )
        for link in card.links[: max(0, BUTTONS_PER_BUBBLE - len(buttons))]
    ]
    footer = FlexBox(layout="vertical", contents=buttons) if buttons else None
    return FlexBubble(body=FlexBox(layout="vertical", contents=body), footer=footer)


@render_prompt.register
def _render_image(prompt: engine.ImagePrompt) -> list[Message]:
    return [ImageMessage(original_content_url=prompt.url, preview_image_url=prompt.preview_url)]


@render_prompt.register
def _render_cards(prompt: engine.CardsPrompt) -> list[Message]:
    """One card: a bubble; more: a carousel (LINE shows at most 12 bubbles, 50 KB)."""
    bubbles = [_card_bubble(card) for card in prompt.cards[:BUBBLES_PER_CAROUSEL]]
    if not bubbles:
        return _text_with_choices(prompt.text, prompt.choices)
    contents = bubbles[0] if len(bubbles) == 1 else FlexCarousel(contents=bubbles)
    message = FlexMessage(alt_text=prompt.text[:ALT_TEXT_LIMIT] or " ", contents=contents)
    message.quick_reply = _quick_reply(postback_action(c) for c in prompt.choices)
    return [message]


def render_prompts(prompts: Iterable[engine.Prompt], *, lang: str = "ja") -> list[dict]:
    """The LINE message objects (JSON-ready dicts) for a list of prompts.

    Quick replies only show on the last message LINE displays, so they are kept only on
    the last message of the whole reply.
    """
    with resident_override(lang):
        messages = [message for prompt in prompts for message in render_prompt(prompt)]
    for message in messages[:-1]:
        message.quick_reply = None
    return [message.to_dict() for message in messages]
