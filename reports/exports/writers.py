"""Writers of an export's file: CSV (UTF-8 with BOM, or CP932 for older Excel) and XLSX.

Both take the rows as an iterator and keep only one batch in memory. A CP932 export
replaces each character CP932 cannot hold with 〓 and counts them (``CsvEncoder.replaced``);
the characters whose Unicode form differs between JIS and CP932 (〜, −, ‖…) are mapped
first, so only what has no CP932 form at all is replaced.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from reports.exports.columns import Column

REPLACEMENT = "〓"
CP932_CHECK = "○"  # ✓ has no CP932 form
# Characters Unicode spells one way and CP932 (Windows) another.
CP932_EQUIVALENTS = str.maketrans(
    {
        "\u301c": "\uff5e",  # 〜 wave dash
        "\u2016": "\u2225",  # ‖
        "\u2212": "\uff0d",  # − minus
        "\u00a2": "\uffe0",  # ¢
        "\u00a3": "\uffe1",  # £
        "\u00ac": "\uffe2",  # ¬
        "\u2014": "\u2015",  # — em dash
    }
)
# Cells that Excel would run as a formula (resident text must not).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class CsvEncoder:
    """Text to bytes in the export's encoding, counting what CP932 could not hold."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.replaced = 0

    @property
    def check(self) -> str:
        return CP932_CHECK if self.encoding == "cp932" else "✓"

    def start(self) -> bytes:
        return b"\xef\xbb\xbf" if self.encoding == "utf-8" else b""

    def encode(self, text: str) -> bytes:
        if self.encoding == "utf-8":
            return text.encode("utf-8")
        text = text.translate(CP932_EQUIVALENTS)
        try:
            return text.encode("cp932")
        except UnicodeEncodeError:
            return b"".join(self._encode_char(char) for char in text)

    def _encode_char(self, char: str) -> bytes:
        try:
            return char.encode("cp932")
        except UnicodeEncodeError:
            self.replaced += 1
            return REPLACEMENT.encode("cp932")


def csv_chunks(
    columns: list[Column],
    rows: Iterable[list[Any]],
    encoder: CsvEncoder,
    *,
    batch: int = 500,
    on_batch: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """The CSV as byte chunks: BOM (UTF-8), header, then ``batch`` rows per chunk.
    ``on_batch(rows_so_far)`` is called after each chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.header for column in columns])
    yield encoder.start() + _drain(buffer, encoder)
    count = 0
    for cells in rows:
        writer.writerow([safe_text(cell) for cell in cells])
        count += 1
        if count % batch == 0:
            yield _drain(buffer, encoder)
            if on_batch:
                on_batch(count)
    yield _drain(buffer, encoder)
    if on_batch:
        on_batch(count)


def _drain(buffer: io.StringIO, encoder: CsvEncoder) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return encoder.encode(text)


def write_xlsx(
    target: IO[bytes] | str,
    columns: list[Column],
    rows: Iterable[list[Any]],
    *,
    title: str,
    batch: int = 500,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """An XLSX of one sheet in openpyxl's write-only mode (rows go to a temporary file as
    they come). Photo links become HYPERLINK formulas; resident text is never a formula."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    sheet.append([column.header for column in columns])
    links = [column.is_link for column in columns]
    count = 0
    for cells in rows:
        sheet.append(
            [_xlsx_cell(sheet, cell, link) for cell, link in zip(cells, links, strict=True)]
        )
        count += 1
        if on_batch and count % batch == 0:
            on_batch(count)
    workbook.save(target)
    if on_batch:
        on_batch(count)
    return count


def _xlsx_cell(sheet, value: Any, link: bool) -> Any:
    if link and value:
        first = str(value).split(" ")[0].replace('"', "")
        return f'=HYPERLINK("{first}","{first}")'
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # openpyxl would take it for a formula
        return cell
    return value


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in title).strip()
    return (cleaned or "export")[:31]
