"""FAQ bench: one match over 10,000 entries (p50/p95 ms), next to a plain Python loop
scoring every key with the same similarity in the same run, and the index's build time.

Matching runs in the process that answers (the engine worker), on the index built from
the entries' stored search keys, so this measures it without a database:
``python -m tests.bench.faq``. The entries are random katakana words (2–8 sounds, some
with a kanji suffix such as 缶 or 袋) with a reading and one synonym each, like a big
sorting list; the queries are entries typed in hiragana, with a typo, with 「は？」, and
words that are in no entry.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

KATAKANA = (
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
)
SUFFIXES = ("", "", "", "缶", "袋", "箱", "類", "ケース")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(KATAKANA) for _ in range(rng.randint(2, 8))) + rng.choice(SUFFIXES)


def _hiragana(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def run_faq_bench(*, entries: int = 10_000, queries: int = 300, naive: int = 30) -> dict:
    from delivery.faq.matching import FaqIndex, _similarity, decide, keys_for, question_of

    rng = random.Random(11)
    words = list({_word(rng) for _ in range(entries * 2)})[:entries]
    started = time.perf_counter()  # done once per entry when it is imported or saved
    keys = [
        (key, number)
        for number, word in enumerate(words)
        for key in keys_for(word, word, "", [word + "のもの"])
    ]
    normalize_seconds = time.perf_counter() - started
    started = time.perf_counter()  # done when a worker first answers after a change
    index = FaqIndex(keys)
    build_seconds = time.perf_counter() - started
    typed = []
    for _ in range(queries):
        word = rng.choice(words)
        form = rng.randrange(4)
        if form == 0:
            typed.append(_hiragana(word))
        elif form == 1 and len(word) > 3:
            position = rng.randrange(len(word))
            typed.append(word[:position] + rng.choice(KATAKANA) + word[position + 1 :])
        elif form == 2:
            typed.append(word + "は？")
        else:
            typed.append(_word(rng) + "ッ")
    search_ms, outcomes = [], {"answered": 0, "suggested": 0, "none": 0}
    for text in typed:
        begun = time.perf_counter()
        best, suggestions = decide(index.search(text))
        search_ms.append((time.perf_counter() - begun) * 1000)
        outcomes["answered" if best else "suggested" if suggestions else "none"] += 1
    naive_ms = []
    for text in typed[:naive]:
        begun = time.perf_counter()
        query = question_of(text)
        sorted(((_similarity(query, key), n) for key, n in keys), reverse=True)[:4]
        naive_ms.append((time.perf_counter() - begun) * 1000)
    return {
        "entries": entries,
        "keys": len(keys),
        "normalize_seconds": round(normalize_seconds, 2),
        "index_build_seconds": round(build_seconds, 3),
        "queries": queries,
        "match_p50_ms": round(statistics.median(search_ms), 2),
        "match_p95_ms": round(_percentile(search_ms, 0.95), 2),
        "naive_queries": naive,
        "naive_p50_ms": round(statistics.median(naive_ms), 1),
        "naive_p95_ms": round(_percentile(naive_ms, 0.95), 1),
        **outcomes,
    }


def table(figures: dict) -> str:
    return "\n".join(
        [
            f"FAQ match over {figures['entries']:,} entries ({figures['keys']:,} keys, "
            f"normalized in {figures['normalize_seconds']} s on import; index built in "
            f"{figures['index_build_seconds']} s), {figures['queries']} queries",
            f"{'':28}{'p50 ms':>10}{'p95 ms':>10}",
            f"{'rapidfuzz extract (product)':28}{figures['match_p50_ms']:>10}"
            f"{figures['match_p95_ms']:>10}",
            f"{'Python loop (baseline)':28}{figures['naive_p50_ms']:>10}"
            f"{figures['naive_p95_ms']:>10}",
            f"answered {figures['answered']}, suggested {figures['suggested']}, "
            f"neither {figures['none']}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.faq")
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govtech.test_settings")
    import django

    django.setup()
    figures = run_faq_bench(entries=args.entries)
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
