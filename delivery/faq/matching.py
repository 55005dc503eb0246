"""Matching what a resident typed to FAQ entries, the way residents type Japanese.

Everything is compared in one form (``normalize``): NFKC (full- and half-width, ﾍﾟｯﾄ →
ペット), lower case, kanji and katakana read as hiragana by pykakasi (乾電池 → かんでんち,
ペットボトル → ぺっとぼとる), Latin letters kept, spaces and punctuation dropped. An
entry is found by its question, its reading, its English name and its synonyms in that
form; small typos by rapidfuzz's similarity ratio. A clear best match is answered, close
ones are offered 「もしかして」.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pykakasi
from rapidfuzz import fuzz, process

ANSWER_SCORE = 88.0  # at least this similar, and clearly ahead: answered directly
SUGGEST_SCORE = 65.0  # at least this similar: offered 「もしかして」
CANDIDATE_SCORE = 45.0  # rapidfuzz's plain ratio: what is looked at again
CLEAR_LEAD = 6.0  # the best must lead the next entry by this much to be answered
SUGGESTIONS = 3
PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)
# Words that only carry the question's tone: 「ペットボトルは？」「乾電池の捨て方」.
TRAILING = re.compile(
    r"(のすてかた|のだしかた|のぶんべつ|はなにごみ|はどうすればいい|はどうやってすてる|はどこ|"
    r"をすてたい|をすてるには|ってなにごみ|はなんごみ|ですか|は)$"
)

_kakasi = pykakasi.kakasi()


@lru_cache(maxsize=50_000)
def normalize(text: str) -> str:
    """The form every comparison uses (see the module's docstring)."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    reading = "".join(part["hira"] for part in _kakasi.convert(folded))
    return PUNCTUATION.sub("", reading)


# The same, as typed with kanji (pykakasi may misread them: 捨て方 → すてほう).
TRAILING_TYPED = re.compile(
    r"(の捨て方|の出し方|の分別|は何ごみ|は何ゴミ|って何ごみ|はどうすればいい|を捨てたい|"
    r"を捨てるには|はどこ|ですか|は)[\s?？。!！]*$"
)


def question_of(text: str) -> str:
    """What a resident asked about, without 「の捨て方」「は？」 around it."""
    folded = unicodedata.normalize("NFKC", text or "").lower().strip()
    folded = TRAILING_TYPED.sub("", folded) or folded
    normalized = normalize(folded)
    for _ in range(2):
        stripped = TRAILING.sub("", normalized)
        if not stripped or stripped == normalized:
            break
        normalized = stripped
    return normalized


@dataclass(frozen=True)
class Match:
    entry_id: int
    score: float


class FaqIndex:
    """Search keys of a municipality's entries, built once and reused until they change."""

    def __init__(self, keys: list[tuple[str, int]]) -> None:
        self.keys = [key for key, _entry in keys]
        self.entries = [entry for _key, entry in keys]
        self.exact: dict[str, int] = {}
        for key, entry in keys:
            self.exact.setdefault(key, entry)

    def search(self, text: str, *, limit: int = SUGGESTIONS + 1) -> list[Match]:
        """Entries for ``text``, best first, at most one match per entry."""
        query = question_of(text)
        if not query:
            return []
        if query in self.exact:
            return [Match(self.exact[query], 100.0)]
        # rapidfuzz's ratio (in C) over every key picks candidates; the few are scored
        # again with the containment bonus (in Python).
        found = process.extract(
            query, self.keys, scorer=fuzz.ratio, limit=limit * 8, score_cutoff=CANDIDATE_SCORE
        )
        best: dict[int, float] = {}
        for key, _ratio, index in found:
            score = _similarity(query, key)
            if score < SUGGEST_SCORE:
                continue
            entry = self.entries[index]
            best[entry] = max(best.get(entry, 0.0), score)
        ranked = sorted(best.items(), key=lambda pair: -pair[1])[:limit]
        return [Match(entry, score) for entry, score in ranked]


def _similarity(query: str, key: str, **kwargs) -> float:
    """How alike two normalized strings are, 0–100: the ratio, or a little less when one
    holds the other (ぺっとぼとるのきゃっぷ holds ぺっとぼとる)."""
    score = fuzz.ratio(query, key, **kwargs)
    if len(key) >= 2 and len(query) >= 2 and (key in query or query in key):
        shorter, longer = sorted((len(key), len(query)))
        score = max(score, 70.0 + 20.0 * shorter / longer)
    return score


def decide(matches: list[Match]) -> tuple[Match | None, list[Match]]:
    """(the answer, or None; the 「もしかして」 suggestions) for ranked matches."""
    if not matches:
        return None, []
    best = matches[0]
    runner_up = matches[1].score if len(matches) > 1 else 0.0
    if best.score >= ANSWER_SCORE and best.score - runner_up >= CLEAR_LEAD:
        return best, []
    if best.score >= 100.0:
        return best, []
    return None, [m for m in matches if m.score >= SUGGEST_SCORE][:SUGGESTIONS]


def keys_for(question: str, reading: str, english: str, synonyms: list[str]) -> list[str]:
    """The normalized search keys of an entry, without duplicates."""
    keys: list[str] = []
    for text in (question, reading, english, *synonyms):
        key = normalize(text)
        if key and key not in keys:
            keys.append(key)
    return keys
