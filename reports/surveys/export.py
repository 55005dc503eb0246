"""A survey's aggregates as CSV for Excel: UTF-8 with BOM, one row per option or bin,
written by the exports' CSV writer (``reports.exports.writers``: formula-safe cells)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext_lazy

from reports.exports.columns import Column
from reports.exports.writers import CsvEncoder, csv_chunks
from reports.surveys.results import SurveyResults

KIND_LABELS = {
    "single": gettext_lazy("Single choice"),
    "multi": gettext_lazy("Multiple choice"),
    "number": gettext_lazy("Number"),
    "date": gettext_lazy("Date"),
    "text": gettext_lazy("Free text"),
    "other": gettext_lazy("Other"),
}


HEADERS = {
    "question_id": gettext_lazy("question ID"),
    "question": gettext_lazy("question"),
    "kind": gettext_lazy("kind"),
    "answer": gettext_lazy("answer"),
    "count": gettext_lazy("count"),
    "percent": gettext_lazy("percent"),
    "answered": gettext_lazy("people who answered the question"),
    "respondents": gettext_lazy("respondents"),
}


def _column(key: str) -> Column:
    return Column(str(HEADERS[key]), lambda row, version: row[key])


def aggregate_columns() -> list[Column]:
    return [_column(key) for key in HEADERS]


def aggregate_rows(results: SurveyResults) -> Iterator[dict[str, Any]]:
    """Per question: a row per cell; a question without cells (free text) one row with
    its number of answers."""
    for result in results.questions:
        question = result.question
        row = {
            "question_id": question.step_id,
            "question": question.label,
            "kind": str(KIND_LABELS[question.kind]),
            "answer": "",
            "count": "",
            "percent": "",
            "answered": result.answered,
            "respondents": results.respondents,
        }
        if not result.cells:
            yield row
        for cell in result.cells:
            percent = "" if cell.percent is None else f"{cell.percent:.1f}"
            yield {**row, "answer": cell.label, "count": cell.count, "percent": percent}


def aggregates_csv(results: SurveyResults) -> bytes:
    columns = aggregate_columns()
    cells = ([column.cell(row, None) for column in columns] for row in aggregate_rows(results))
    return b"".join(csv_chunks(columns, cells, CsvEncoder("utf-8")))
