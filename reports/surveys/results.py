"""Aggregates of a survey's answers, counted by the database.

``survey_results`` costs a fixed number of queries whatever the number of submissions:
one for the respondents and each question's number of answers (conditional counts),
one ``GROUP BY`` per counted question (choices by value, a multiple choice by the
combination chosen, numbers and dates by distinct value: few rows either way), and one
per free-text question for its latest answers. Only those grouped rows reach Python,
which labels them, splits combinations into options and bins numbers and dates. The
JSON lookups used (``has_key`` and ``->>``) work on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform

from procedures.models import Submission
from reports.surveys import suppression
from reports.surveys.bins import date_bins, number_bins
from reports.surveys.questions import Question

TEXT_PREVIEW = 3
TRUE_VALUES = frozenset({"true", "1", "True"})
FALSE_VALUES = frozenset({"false", "0", "False"})


@dataclass(frozen=True)
class Cell:
    key: str
    label: str
    count: int
    percent: float | None
    hidden: bool = False


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    answered: int
    cells: tuple[Cell, ...] = ()
    latest_texts: tuple[dict[str, Any], ...] = ()
    withheld: bool = False  # public page: too few answers to publish anything


@dataclass(frozen=True)
class SurveyResults:
    respondents: int
    questions: tuple[QuestionResult, ...] = field(default_factory=tuple)


def survey_results(
    submissions: QuerySet[Submission], questions: list[Question], *, text_preview: int = 0
) -> SurveyResults:
    """Each question's aggregates over ``submissions`` (already filtered and scoped);
    free-text questions bring their ``text_preview`` latest answers."""
    answered = _answered(submissions, questions)
    results = []
    for index, question in enumerate(questions):
        count = answered[f"q{index}"]
        cells: tuple[Cell, ...] = ()
        texts: tuple[dict[str, Any], ...] = ()
        if question.counted and count:
            cells = tuple(_cells(question, _value_counts(submissions, question.step_id), count))
        elif question.kind == "text" and count and text_preview:
            texts = tuple(text_answers(submissions, question.step_id)[:text_preview])
        results.append(QuestionResult(question, count, cells, texts))
    return SurveyResults(answered["respondents"], tuple(results))


def _answered(submissions: QuerySet[Submission], questions: list[Question]) -> dict[str, int]:
    counts = {
        f"q{index}": Count("pk", filter=Q(answers__has_key=question.step_id))
        for index, question in enumerate(questions)
    }
    return submissions.order_by().aggregate(respondents=Count("pk"), **counts)


def _value_counts(submissions: QuerySet[Submission], step_id: str) -> list[tuple[Any, int]]:
    rows = (
        submissions.filter(answers__has_key=step_id)
        .annotate(value=KeyTextTransform(step_id, "answers"))
        .values("value")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [(row["value"], row["n"]) for row in rows]


def text_answers(
    submissions: QuerySet[Submission], step_id: str, *, search: str = ""
) -> QuerySet[Any, Any]:
    """The free-text answers to ``step_id``, newest first, containing every word of
    ``search``; as dicts (pk, reference, submitted_at, version__number, text)."""
    queryset = submissions.filter(answers__has_key=step_id).annotate(
        text=KeyTextTransform(step_id, "answers")
    )
    for word in search.split()[:5]:
        queryset = queryset.filter(text__icontains=word)
    return queryset.order_by("-submitted_at", "-pk").values(
        "pk", "reference", "submitted_at", "version__number", "text"
    )


# --- from grouped values to cells ----------------------------------------------------------


def _cells(question: Question, values: list[tuple[Any, int]], answered: int) -> list[Cell]:
    if question.kind == "multi":
        counted = _option_counts(question, _split_combinations(values))
    elif question.kind == "single":
        counted = _option_counts(question, _single_keys(question, values))
    elif question.kind == "number":
        counted = [(b.key, b.label, b.count) for b in number_bins(_numbers(values))]
    else:
        counted = [(b.key, b.label, b.count) for b in date_bins(_dates(values))]
    return [Cell(key, label, n, round(100 * n / answered, 1)) for key, label, n in counted]


def _option_counts(question: Question, counts: Counter[str]) -> list[tuple[str, str, int]]:
    """The options in their order (0 when unchosen), then values no version offers."""
    rows = [(o.value, o.label, counts.pop(o.value, 0)) for o in question.options]
    return rows + [(key, key, n) for key, n in sorted(counts.items())]


def _single_keys(question: Question, values: Iterable[tuple[Any, int]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for raw, n in values:
        if raw is not None:
            counts[_scalar_key(question, raw)] += n
    return counts


def _scalar_key(question: Question, raw: Any) -> str:
    """A value as its option's key; a yes/no is JSON true/false, which PostgreSQL's
    ``->>`` gives as text and SQLite's as 1/0."""
    text = str(raw)
    if question.step_type in ("yes_no", "consent"):
        if text in TRUE_VALUES:
            return "true"
        if text in FALSE_VALUES:
            return "false"
    return text


def _split_combinations(values: Iterable[tuple[Any, int]]) -> Counter[str]:
    """Counts per option from counts per combination chosen (a JSON array as text)."""
    counts: Counter[str] = Counter()
    for raw, n in values:
        chosen = _json_list(raw)
        for option in dict.fromkeys(str(value) for value in chosen):
            counts[option] += n
    return counts


def _json_list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return [raw]
    return value if isinstance(value, list) else [value]


def _numbers(values: Iterable[tuple[Any, int]]) -> Counter[float]:
    counts: Counter[float] = Counter()
    for raw, n in values:
        try:
            counts[float(raw)] += n
        except (TypeError, ValueError):
            continue
    return counts


def _dates(values: Iterable[tuple[Any, int]]) -> Counter[date]:
    counts: Counter[date] = Counter()
    for raw, n in values:
        try:
            counts[date.fromisoformat(str(raw)[:10])] += n
        except ValueError:
            continue
    return counts


# --- the public page ---------------------------------------------------------------------


def publishable(results: SurveyResults, minimum: int) -> SurveyResults:
    """``results`` as the public may see them: no free text nor personal answers, no
    question answered by fewer than ``minimum``, small cells hidden
    (``reports.surveys.suppression``)."""
    if suppression.too_few(results.respondents, minimum):
        return SurveyResults(results.respondents, ())
    shown = [
        _suppressed(result, minimum)
        for result in results.questions
        if result.question.counted and not result.question.personal
    ]
    return SurveyResults(results.respondents, tuple(shown))


def _suppressed(result: QuestionResult, minimum: int) -> QuestionResult:
    if suppression.too_few(result.answered, minimum):
        return QuestionResult(result.question, 0, withheld=True)
    counts = [cell.count for cell in result.cells]
    additive = result.question.kind != "multi"
    hidden = suppression.hidden_cells(counts, minimum, additive=additive)
    cells = tuple(
        replace(cell, count=0, percent=None, hidden=True) if index in hidden else cell
        for index, cell in enumerate(result.cells)
    )
    return replace(result, cells=cells, latest_texts=())
