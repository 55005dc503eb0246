"""Reading and writing the 自治体標準オープンデータセット CSVs of places (公共施設一覧, AED設置
箇所一覧, 指定緊急避難場所一覧, 指定避難所一覧, 公衆トイレ一覧).

Both generations of headers are read: the current one with the address split
(``所在地_連結表記``, ``所在地_都道府県`` … ``所在地_番地以下``) and the older one with a
single ``住所``. Headers are compared after NFKC and without spaces, so ``名称_英字`` and
``名称 _英字`` are one column. Nothing here touches the database: ``read_spots`` turns a
file into checked rows or a list of every bad line.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from django.utils.translation import gettext as _

# field → the headers that hold it, first found wins.
COLUMNS: dict[str, tuple[str, ...]] = {
    "source_id": ("ID", "NO", "No", "番号"),
    "name": ("名称", "施設名", "名前"),
    "name_kana": ("名称_カナ", "名称カナ", "施設名_カナ", "フリガナ"),
    "name_en": ("名称_英字", "名称_英語", "名称英字", "施設名_英字"),
    "category": ("種別", "施設種別", "分類", "施設分類", "カテゴリ"),
    "address": ("所在地_連結表記", "住所", "所在地"),
    "latitude": ("緯度",),
    "longitude": ("経度",),
    "phone": ("電話番号", "電話"),
    "url": ("URL", "ホームページ", "ウェブサイト"),
    "days": ("利用可能曜日", "開館日", "利用可能日"),
    "opens_at": ("開始時間", "開館時間", "利用開始時間"),
    "closes_at": ("終了時間", "閉館時間", "利用終了時間"),
    "hours_note": ("利用可能日時特記事項", "利用可能時間特記事項"),
    "description": ("説明", "設置位置"),
    "barrier_free": ("バリアフリー情報",),
    "note": ("備考",),
    "capacity": ("想定収容人数", "収容人数"),
}
# The split address of the current generation, joined when 所在地_連結表記 is empty.
ADDRESS_PARTS = (
    "所在地_都道府県",
    "所在地_市区町村",
    "所在地_町字",
    "所在地_番地以下",
    "建物名等(方書)",
)
# A hazard column is named by its hazard, with or without the 災害種別_ prefix.
HAZARD_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("inland_flood", ("内水氾濫",)),
    ("flood", ("洪水",)),
    ("landslide", ("崖崩れ", "がけ崩れ", "土石流", "地滑り", "土砂災害")),
    ("storm_surge", ("高潮",)),
    ("earthquake", ("地震",)),
    ("tsunami", ("津波",)),
    ("fire", ("大規模な火事", "大規模火災", "火事")),
    ("volcano", ("火山",)),
)
TRUE_MARKS = frozenset({"1", "○", "◯", "〇", "●", "◎", "true", "yes", "有", "可", "対象", "指定"})
# Headers written by an export: the current generation, public facilities' order.
EXPORT_HEADERS = (
    "全国地方公共団体コード",
    "ID",
    "地方公共団体名",
    "名称",
    "名称_カナ",
    "名称_英字",
    "種別",
    "所在地_連結表記",
    "緯度",
    "経度",
    "電話番号",
    "利用可能曜日",
    "開始時間",
    "終了時間",
    "利用可能日時特記事項",
    "説明",
    "バリアフリー情報",
    "URL",
    "備考",
)
HAZARD_HEADERS = {
    "flood": "災害種別_洪水",
    "landslide": "災害種別_崖崩れ、土石流及び地滑り",
    "storm_surge": "災害種別_高潮",
    "earthquake": "災害種別_地震",
    "tsunami": "災害種別_津波",
    "fire": "災害種別_大規模な火事",
    "inland_flood": "災害種別_内水氾濫",
    "volcano": "災害種別_火山現象",
}
WEEKDAY_CHARS = "月火水木金土日"
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000


@dataclass
class LineProblem:
    line: int  # the file's line number; the header is line 1
    column: str
    message: str


@dataclass
class ReadResult:
    encoding: str = ""
    generation: str = ""  # "current" (split address) or "older" (住所)
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    unknown_headers: list[str] = field(default_factory=list)


def normalize(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def decode(content: bytes) -> tuple[str, str]:
    """The text of a CSV in UTF-8 (with or without BOM) or CP932, and which it was."""
    try:
        return content.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp932"), "Shift_JIS (CP932)"
    except UnicodeDecodeError as error:
        raise ValueError(
            _("The file is neither UTF-8 nor Shift_JIS (byte %(at)d).") % {"at": error.start}
        ) from error


def read_spots(content: bytes) -> ReadResult:
    """Every row of a standard CSV as spot fields, or the problems of every bad line."""
    result = ReadResult()
    if len(content) > MAX_BYTES:
        result.problems.append(
            LineProblem(0, "", _("The file is larger than %(mb)d MB.") % {"mb": MAX_BYTES >> 20})
        )
        return result
    try:
        text, result.encoding = decode(content)
    except ValueError as error:
        result.problems.append(LineProblem(0, "", str(error)))
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        result.problems.append(LineProblem(1, "", _("The file is empty.")))
        return result
    columns = _header_map(header)
    missing = [f for f in ("source_id", "name", "latitude", "longitude") if f not in columns]
    if missing:
        wanted = "、".join(COLUMNS[f][0] for f in missing)
        result.problems.append(
            LineProblem(
                1, "", _("Columns missing from the header: %(columns)s") % {"columns": wanted}
            )
        )
        return result
    result.generation = "older" if _has(header, "住所") else "current"
    hazards = _hazard_columns(header)
    parts = [
        i for name in ADDRESS_PARTS for i, h in enumerate(header) if normalize(h) == normalize(name)
    ]
    known = set(columns.values()) | set(hazards) | set(parts)
    extra_columns = [i for i, h in enumerate(header) if i not in known and normalize(h)]
    result.unknown_headers = [header[i] for i in extra_columns]
    seen: dict[str, int] = {}
    try:
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            if len(result.rows) >= MAX_ROWS:
                result.problems.append(
                    LineProblem(number, "", _("More than %(n)d rows.") % {"n": MAX_ROWS})
                )
                break
            row = _row(number, values, header, columns, hazards, parts, extra_columns, result)
            if row is None:
                continue
            first = seen.setdefault(row["source_id"], number)
            if first != number:
                result.problems.append(
                    LineProblem(
                        number,
                        "ID",
                        _("ID %(id)s is also on line %(line)d.")
                        % {"id": row["source_id"], "line": first},
                    )
                )
                continue
            result.rows.append(row)
    except csv.Error as error:
        result.problems.append(
            LineProblem(reader.line_num, "", _("Broken CSV: %(error)s") % {"error": error})
        )
    return result


def _has(header: list[str], name: str) -> bool:
    return any(normalize(h) == normalize(name) for h in header)


def _header_map(header: list[str]) -> dict[str, int]:
    normalized = [normalize(h) for h in header]
    found: dict[str, int] = {}
    for name, candidates in COLUMNS.items():
        for candidate in candidates:
            if normalize(candidate) in normalized:
                found[name] = normalized.index(normalize(candidate))
                break
    return found


def _hazard_columns(header: list[str]) -> dict[int, str]:
    found: dict[int, str] = {}
    for index, raw in enumerate(header):
        name = normalize(raw)
        if not name.startswith("災害種別_") and name not in {
            normalize(w) for _k, words in HAZARD_WORDS for w in words
        }:
            continue
        for hazard, words in HAZARD_WORDS:
            if any(normalize(word) in name for word in words):
                found[index] = hazard
                break
    return found


def _row(number, values, header, columns, hazards, parts, extra_columns, result) -> dict | None:
    def cell(name: str) -> str:
        index = columns.get(name)
        return values[index].strip() if index is not None and index < len(values) else ""

    problems_before = len(result.problems)

    def problem(column: str, message: str) -> None:
        result.problems.append(LineProblem(number, column, message))

    row: dict[str, Any] = {name: cell(name) for name in COLUMNS}
    if not row["source_id"]:
        problem("ID", _("The ID is empty."))
    if not row["name"]:
        problem("名称", _("The name is empty."))
    if not row["address"] and parts:
        row["address"] = "".join(values[i].strip() for i in parts if i < len(values))
    for name, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        label = COLUMNS[name][0]
        try:
            value = float(unicodedata.normalize("NFKC", row[name]))
        except ValueError:
            problem(
                label,
                _("Not a number: “%(value)s”.") % {"value": row[name]}
                if row[name]
                else _("Empty."),
            )
            continue
        if not low <= value <= high:
            problem(label, _("Out of range: %(value)s.") % {"value": row[name]})
        row[name] = value
    for name in ("opens_at", "closes_at"):
        try:
            row[name] = parse_time(row[name])
        except ValueError:
            problem(COLUMNS[name][0], _("Not a time of day: “%(value)s”.") % {"value": row[name]})
    row["weekdays"], row["open_on_holidays"] = parse_days(row["days"])
    capacity = unicodedata.normalize("NFKC", row["capacity"]).replace(",", "").removesuffix("人")
    if capacity and not capacity.isdigit():
        problem(
            COLUMNS["capacity"][0], _("Not a number: “%(value)s”.") % {"value": row["capacity"]}
        )
    row["capacity"] = int(capacity) if capacity.isdigit() else None
    if row["url"] and not re.match(r"^https?://", row["url"]):
        problem("URL", _("Not a web address: “%(value)s”.") % {"value": row["url"]})
    row["hazards"] = sorted(
        hazard
        for index, hazard in hazards.items()
        if index < len(values) and is_marked(values[index])
    )
    row["extra"] = {header[i]: values[i] for i in extra_columns if i < len(values) and values[i]}
    if len(result.problems) > problems_before:
        return None
    return row


def is_marked(value: str) -> bool:
    return normalize(value).lower() in TRUE_MARKS


def parse_time(value: str) -> time | None:
    """``9:00``, ``09:00:00``, ``9時``, ``9時30分``, ``0930`` → a time; 24:00 → 23:59."""
    text = normalize(value)
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?(?::\d{2})?", text) or re.fullmatch(
        r"(\d{1,2})時(?:(\d{1,2})分)?", text
    )
    if match is None:
        match = re.fullmatch(r"(\d{2})(\d{2})", text)
    if match is None:
        raise ValueError(value)
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if (hours, minutes) == (24, 0):
        return time(23, 59)
    if hours > 23 or minutes > 59:
        raise ValueError(value)
    return time(hours, minutes)


def parse_days(value: str) -> tuple[list[int], bool]:
    """Open weekdays (0 = Monday) and whether public holidays are open days, from how the
    files write 利用可能曜日: 月火水木金, 月～金, 月曜日から金曜日, 平日, 土日祝, 毎日,
    年中無休, 祝日を除く…. Empty: every day, holidays too."""
    text = normalize(value).replace("曜日", "").replace("曜", "")
    text = re.sub(r"祝日|祭日|休日", "祝", text).replace("平日", "月~金")  # 日 is not Sunday there
    if not text or any(word in text for word in ("毎日", "年中無休", "全日", "終日")):
        return list(range(7)), True
    days: set[int] = set()
    for start, end in re.findall(
        r"([月火水木金土日])(?:~|-|〜|～|から|ー|－)([月火水木金土日])", text
    ):
        first, last = WEEKDAY_CHARS.index(start), WEEKDAY_CHARS.index(end)
        days.update(
            range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        )
    days.update(WEEKDAY_CHARS.index(char) for char in text if char in WEEKDAY_CHARS)
    excluded = re.search(r"祝(日)?(を)?(除|休)", text) is not None
    holidays = "祝" in text and not excluded
    return sorted(days) if days else list(range(7)), holidays


def days_text(weekdays: Iterable[int], open_on_holidays: bool) -> str:
    """利用可能曜日 as an export writes it: 月火水木金 (+祝)."""
    text = "".join(WEEKDAY_CHARS[d] for d in sorted(set(weekdays)))
    return text + ("祝" if open_on_holidays and text else "")
