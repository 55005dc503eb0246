"""A survey's aggregates as CSV for Excel: UTF-8 with BOM, one row per option or bin,
written by the exports' CSV writer (``reports.exports.writers``: formula-safe cells)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
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


def _column(header: str, index: int) -> Column:
    return Column(header, lambda row, version: row[index])


def aggregate_columns() -> list[Column]:
    headers = [
        _("question ID"),
        _("question"),
        _("kind"),
        _("answer"),
        _("count"),
        _("percent"),
        _("people who answered the question"),
        _("respondents"),
    ]
    return [_column(header, index) for index, header in enumerate(headers)]


def aggregate_rows(results: SurveyResults) -> Iterator[list[Any]]:
    """Per question: a row per cell; a question without cells (free text) one row with
    its number of answers."""
    for result in results.questions:
        question = result.question
        first = [question.step_id, question.label, str(KIND_LABELS[question.kind])]
        tail = [result.answered, results.respondents]
        if not result.cells:
            yield [*first, "", "", "", *tail]
        for cell in result.cells:
            percent = "" if cell.percent is None else f"{cell.percent:.1f}"
            yield [*first, cell.label, cell.count, percent, *tail]


def aggregates_csv(results: SurveyResults) -> bytes:
    return b"".join(csv_chunks(aggregate_columns(), aggregate_rows(results), CsvEncoder("utf-8")))
