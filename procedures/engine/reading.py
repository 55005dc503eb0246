"""How one input is read before it is applied: anytime commands, words that answer the
summary or the resume offer, typed labels of shown buttons, and postback parts.
"""

from __future__ import annotations

from datetime import datetime

from procedures.engine import parsing
from procedures.engine.asking import _current_prompts
from procedures.engine.conversation import ConversationState, _Procedure
from procedures.engine.inputs import Input, PostbackInput, TextInput
from procedures.engine.prompts import Choice, ConfirmationPrompt, Prompt
from procedures.engine.steps import parse_postback

COMMAND_WORDS = {
    "cancel": {"やめる", "止める", "キャンセル", "中止", "cancel", "quit", "stop"},
    "back": {"もどる", "戻る", "back"},
    "restart": {"はじめから", "始めから", "初めから", "最初から", "restart", "startover"},
    "help": {"ヘルプ", "help", "使い方"},
}
SKIP_WORDS = {"スキップ", "skip", "とばす", "飛ばす"}
SUBMIT_WORDS = {"送信", "送信する", "submit", "send"}
EDIT_WORDS = {"修正", "修正する", "edit"}
RESUME_WORDS = {"再開", "再開する", "続ける", "つづける", "resume", "continue"}


def _all_choices(prompts: list[Prompt]) -> list[Choice]:
    found: list[Choice] = []
    for prompt in prompts:
        found += getattr(prompt, "choices", ())
        if isinstance(prompt, ConfirmationPrompt):
            found += [prompt.submit, prompt.edit]
    return found


def _typed_choice(proc: _Procedure, state: ConversationState, inp: Input, now: datetime) -> Input:
    """Typed text equal to a shown button's label counts as tapping it.

    Multi-choice toggles are left out: typed labels there answer the question at once.
    """
    if not isinstance(inp, TextInput):
        return inp
    key = parsing.normalize_key(inp.text)
    for choice in _all_choices(_current_prompts(proc, state, now)):
        if (parse_postback(choice.data) or [""])[0] == "t":
            continue
        if key and key == parsing.normalize_key(choice.label):
            return PostbackInput(choice.data)
    return inp


def _command(inp: Input) -> str | None:
    if isinstance(inp, TextInput):
        key = parsing.normalize_key(inp.text)
        return next((name for name, words in COMMAND_WORDS.items() if key in words), None)
    if isinstance(inp, PostbackInput):
        parts = parse_postback(inp.data) or []
        if len(parts) == 2 and parts[0] == "x" and parts[1] in COMMAND_WORDS:
            return parts[1]
    return None


def _postback_parts(inp: Input) -> list[str]:
    return (parse_postback(inp.data) or []) if isinstance(inp, PostbackInput) else []


def _typed_key(inp: Input) -> str:
    return parsing.normalize_key(inp.text) if isinstance(inp, TextInput) else ""
