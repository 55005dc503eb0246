"""Fixtures for the procedure format and engine tests (pure: no database)."""

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from procedures.engine import (
    ConfirmationPrompt,
    PostbackInput,
    Result,
    TextInput,
    advance,
    start,
)

# The starter procedures shipped with the product double as the test corpus.
CORPUS_DIR = Path(__file__).resolve().parents[2] / "procedures" / "starter"
TOKYO = ZoneInfo("Asia/Tokyo")


def load_corpus(name: str) -> dict:
    return json.loads((CORPUS_DIR / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def now():
    return datetime(2026, 3, 10, 9, 0, tzinfo=TOKYO)


@pytest.fixture
def corpus():
    return load_corpus


class Conversation:
    """One resident talking to the engine: `say` text or inputs, `tap` a shown button."""

    def __init__(self, definition, now, lang="ja"):
        self.definition = definition
        self.now = now
        self.result: Result = start(definition, lang=lang, now=now)
        self.results = [self.result]

    @property
    def state(self):
        return self.result.state

    @property
    def prompts(self):
        return self.result.prompts

    @property
    def outcome(self):
        return self.result.outcome

    def say(self, *inputs, **kwargs) -> Result:
        for item in inputs:
            inp = TextInput(item) if isinstance(item, str) else item
            self.result = advance(self.definition, self.state, inp, now=self.now, **kwargs)
            self.results.append(self.result)
        return self.result

    def choices(self):
        found = []
        for prompt in self.prompts:
            found += list(getattr(prompt, "choices", ()))
            if isinstance(prompt, ConfirmationPrompt):
                found += [prompt.submit, prompt.edit]
        return found

    def tap(self, label_or_data: str, **params) -> Result:
        for choice in self.choices():
            if label_or_data in (choice.label, choice.data):
                return self.say(PostbackInput(choice.data, params))
        raise AssertionError(f"no choice {label_or_data!r} in {self.choices()}")

    def texts(self) -> list[str]:
        return [getattr(prompt, "text", getattr(prompt, "title", "")) for prompt in self.prompts]

    def last(self):
        return self.prompts[-1]


@pytest.fixture
def converse(now):
    def make(definition, lang="ja"):
        return Conversation(definition, now, lang)

    return make


def document(*steps, **extra) -> dict:
    """A minimal valid document around `steps`."""
    return {
        "format": "govtech.procedure.v1",
        "key": "test",
        "kind": "application",
        "title": {"ja": "テスト"},
        "steps": list(steps),
        **extra,
    }


@pytest.fixture
def make_document():
    return document
