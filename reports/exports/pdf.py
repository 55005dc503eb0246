"""The PDF 帳票 of one submission (A4, IPA Gothic from Debian's fonts-ipafont-gothic):
the procedure's title, reference, dates in Japan time, status, fee, then each answered
step's label and answer as the pinned version words them. A batch is a ZIP of these."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from procedures.casework.answers import answer_rows
from procedures.engine.steps import localize
from procedures.models import Submission
from reports.exports.columns import is_personal, tokyo_text

FONT = "IPAGothic"
# Debian's fonts-ipafont-gothic (.ci/services.sh install); the first that exists is used.
FONT_FILES = (
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
)


class FontMissing(RuntimeError):
    pass


@cache
def _register_font() -> str:
    for path in FONT_FILES:
        if path.exists():
            pdfmetrics.registerFont(TTFont(FONT, str(path)))
            return FONT
    raise FontMissing(
        "No Japanese font for PDF forms: install Debian's fonts-ipafont-gothic "
        "(.ci/services.sh install)."
    )


def _styles() -> tuple[ParagraphStyle, ParagraphStyle]:
    font = _register_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22, spaceAfter=4 * mm)
    return title, body


def _text(value: object, style: ParagraphStyle) -> Paragraph:
    escaped = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Paragraph(escaped.replace("\n", "<br/>"), style)


def submission_pdf(submission: Submission, *, omit_personal: bool = False) -> bytes:
    """One submission's 帳票 as PDF bytes."""
    title_style, body = _styles()
    definition = submission.definition
    header = [
        (_("reference number"), submission.reference),
        (_("submitted at"), tokyo_text(submission.submitted_at)),
        (_("status"), submission.get_status_display()),
        (_("version"), submission.version.number if submission.version else "-"),
        (_("fee (yen)"), f"{submission.fee:,}" if submission.fee is not None else "-"),
    ]
    steps = {step.get("id"): step for step in definition.get("steps", [])}
    answers = [
        (row.label, row.text)
        for row in answer_rows(definition, submission.answers, lang="ja")
        if not (omit_personal and is_personal(steps.get(row.step_id, {"type": row.step_type})))
    ]
    output = io.BytesIO()
    document = SimpleDocTemplate(
        output,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=submission.reference,
    )
    title = localize(definition.get("title"), "ja", submission.procedure.key)
    story = [_text(title, title_style), _table(header, body), Spacer(1, 6 * mm)]
    story.append(_table(answers or [(_("answers"), "-")], body))
    document.build(story)
    return output.getvalue()


def _table(rows: Iterable[tuple[object, object]], style: ParagraphStyle) -> Table:
    cells = [[_text(label, style), _text(value, style)] for label, value in rows]
    table = Table(cells, colWidths=[55 * mm, 115 * mm])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def pdf_filename(submission: Submission) -> str:
    return f"{submission.reference}.pdf"


def write_pdf_zip(
    target,
    submissions: Iterable[Submission],
    *,
    omit_personal: bool,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """A ZIP with one PDF per submission, written as they come; returns how many."""
    count = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for submission in submissions:
            archive.writestr(
                pdf_filename(submission), submission_pdf(submission, omit_personal=omit_personal)
            )
            count += 1
            if on_batch and count % 50 == 0:
                on_batch(count)
    if on_batch:
        on_batch(count)
    return count
