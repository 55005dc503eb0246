"""Japanese-aware parsers for what residents type.

Every parser takes raw text and returns the normalised value, or `None` when the text
is not of that kind; the step types turn `None` into a translated reason. Input is
first NFKC-normalised, so full-width digits and punctuation (「１２月１日」「〒１５０－０００２」)
read like their ASCII forms.

Decisions:
- Phone numbers are stored as digits only (`0312345678`): hyphen positions depend on
  the length of the area code, which the digits alone do not tell. `format_phone` adds
  hyphens for display where the split is unambiguous (mobile, 050, 0120/0800, 03, 06).
- A date without a year (「12月1日」「12/1」) is the next such date on or after today.
- Era dates accept 令和/平成/昭和 and R/H/S abbreviations, 元年 included.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time, timedelta

_SPACES = re.compile(r"\s+")
# Dashes residents type in numbers: ASCII, Unicode dashes, the katakana prolonged sound
# mark (IMEs often produce 「ー」 for a hyphen) and the minus sign.
_DASHES = re.compile(r"[-‐‑‒–—―−ー]")
_TRAILING_PUNCTUATION = re.compile(r"[。．.!！?？、,]+$")


def normalize(text: str) -> str:
    """NFKC, trimmed, inner runs of whitespace collapsed to one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def normalize_key(text: str) -> str:
    """A form for comparing typed words with labels: no spaces, case or final punctuation."""
    compact = normalize(text).casefold().replace(" ", "")
    return _TRAILING_PUNCTUATION.sub("", compact)


# --- numbers ------------------------------------------------------------------

_INTEGER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?\s*([^\d\s.,+-]{0,3})$")
_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
                 "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUMBER = re.compile(
    r"^([〇零一二三四五六七八九十百千]+)\s*([^\d\s〇零一二三四五六七八九十百千]{0,3})$"
)
_UNIT_WORDS = re.compile(r"^[ぁ-んァ-ヶ一-龠a-z]{0,3}$", re.IGNORECASE)


def parse_integer(text: str) -> int | None:
    """「3」「３」「1,000」「3個」「三通」 → int; a counter word (up to 3 characters) is ignored."""
    value = normalize(text)
    match = _INTEGER.match(value)
    if match and _UNIT_WORDS.match(match.group(3)):
        number = int(match.group(2).replace(",", ""))
        return -number if match.group(1) == "-" else number
    match = _KANJI_NUMBER.match(value)
    if match and _UNIT_WORDS.match(match.group(2)):
        return _kanji_to_int(match.group(1))
    return None


def _kanji_to_int(text: str) -> int | None:
    total, digit = 0, None
    for char in text:
        if char in _KANJI_DIGITS:
            if digit is not None:
                return None  # 「二三」 is not a number
            digit = _KANJI_DIGITS[char]
        else:
            total += (1 if digit is None else digit) * _KANJI_UNITS[char]
            digit = None
    return total + (digit or 0)


# --- dates --------------------------------------------------------------------

_RELATIVE_DAYS = {
    "今日": 0, "きょう": 0, "本日": 0, "today": 0,
    "明日": 1, "あした": 1, "あす": 1, "tomorrow": 1,
    "明後日": 2, "あさって": 2,
}  # fmt: skip
_ERA_START = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988, "昭和": 1925, "s": 1925}
_SEP = r"\s*(?:年|月|[./-])\s*"
_ERA_DATE = re.compile(
    rf"^(令和|平成|昭和|r|h|s)\s*(元|\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})日?$"
)
_FULL_DATE = re.compile(rf"^(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MONTH_DAY = re.compile(r"^(\d{1,2})\s*(?:月|[./-])\s*(\d{1,2})日?$")
_WEEKDAY_SUFFIX = re.compile(r"\s*\((?:[月火水木金土日]|mon|tue|wed|thu|fri|sat|sun)\)$")


def parse_date(text: str, today: date) -> date | None:
    """Japanese and ISO date forms, relative words and dates without a year."""
    value = _WEEKDAY_SUFFIX.sub("", normalize(text).casefold())
    if value in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[value])
    if match := _ERA_DATE.match(value):
        era, year, month, day = match.groups()
        return _date(_ERA_START[era] + (1 if year == "元" else int(year)), month, day)
    if match := _FULL_DATE.match(value) or _COMPACT_DATE.match(value):
        return _date(*match.groups())
    if match := _MONTH_DAY.match(value):
        return _next_month_day(int(match.group(1)), int(match.group(2)), today)
    return None


def _date(year: int | str, month: int | str, day: int | str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _next_month_day(month: int, day: int, today: date) -> date | None:
    # Four years ahead at most, so that 2月29日 finds the next leap year.
    for year in range(today.year, today.year + 5):
        candidate = _date(year, month, day)
        if candidate is not None and candidate >= today:
            return candidate
    return None


# --- times --------------------------------------------------------------------

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_JAPANESE_TIME = re.compile(r"^(午前|午後)?\s*(\d{1,2})\s*時\s*(半|(\d{1,2})\s*分)?$")
_ENGLISH_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)$")


def parse_time(text: str) -> time | None:
    """「14:30」「14時30分」「14時半」「午後2時」「2pm」 → time."""
    value = normalize(text).casefold()
    if match := _CLOCK.match(value):
        return _time(int(match.group(1)), int(match.group(2)))
    if match := _JAPANESE_TIME.match(value):
        half, hour = match.group(1), int(match.group(2))
        minute = 30 if match.group(3) == "半" else int(match.group(4) or 0)
        return _time(_twelve_hour(hour, half == "午後") if half else hour, minute)
    if match := _ENGLISH_TIME.match(value):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        return _time(_twelve_hour(hour, match.group(3).startswith("p")), minute)
    return None


def _twelve_hour(hour: int, afternoon: bool) -> int:
    if hour > 12:
        return -1
    if afternoon:
        return 12 if hour == 12 else hour + 12
    return 0 if hour == 12 else hour


def _time(hour: int, minute: int) -> time | None:
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return time(hour, minute)
    return None


# --- phone, postal code, e-mail -------------------------------------------------

_PHONE_NOISE = re.compile(r"[\s()（）]")


def parse_phone(text: str) -> str | None:
    """A Japanese landline or mobile number, as digits only (`09012345678`)."""
    digits = _DASHES.sub("", _PHONE_NOISE.sub("", normalize(text)))
    if digits.startswith("+81"):
        digits = "0" + digits[3:].removeprefix("0")
    if not digits.isdigit() or not digits.startswith("0") or digits.startswith("00"):
        return None
    if len(digits) == 10:
        return digits
    if len(digits) == 11 and re.match(r"^0[5789]0", digits):
        return digits
    return None


def format_phone(digits: str) -> str:
    """Hyphenate where the split is unambiguous; other numbers stay digits only."""
    if len(digits) == 11 and digits.startswith("0800"):
        return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    if len(digits) == 11:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if digits.startswith("0120"):
        return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    if digits[:2] in {"03", "06"}:
        return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
    return digits


def parse_postal_code(text: str) -> str | None:
    """「〒150-0002」「1500002」「１５０ー０００２」 → `150-0002`."""
    value = _DASHES.sub("", normalize(text).replace("〒", "").replace(" ", ""))
    if len(value) == 7 and value.isdigit() and value.isascii():
        return f"{value[:3]}-{value[3:]}"
    return None


# Japanese carriers long issued addresses with consecutive dots or a dot before the
# @ (「taro..yamada.@docomo.ne.jp」); they still receive mail, so the local part is lax.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    r"@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)$"
)


def parse_email(text: str) -> str | None:
    """An e-mail address with its domain lower-cased; full-width ＠ is accepted."""
    value = normalize(text)
    match = _EMAIL.match(value)
    if not match or len(value) > 254:
        return None
    local = value[: match.start(1) - 1]
    return f"{local}@{match.group(1).lower()}"


# --- yes / no and choice numbers --------------------------------------------------

YES_WORDS = frozenset({"はい", "yes", "y", "ok", "うん", "ええ", "そうです", "あり", "ある"})
NO_WORDS = frozenset({"いいえ", "no", "n", "いや", "ううん", "なし", "ない", "ありません"})


def parse_yes_no(text: str) -> bool | None:
    key = normalize_key(text)
    if key in YES_WORDS:
        return True
    if key in NO_WORDS:
        return False
    return None


_LIST_SEPARATORS = re.compile(r"\s*[,、，・/]\s*|\s+")


def split_list(text: str) -> list[str]:
    """「1、3」「ソファ, 机」「1 3」 → items (empty items dropped)."""
    return [item for item in _LIST_SEPARATORS.split(normalize(text)) if item]


# Hiragana ぁ (U+3041) … ゖ (U+3096) sit 0x60 below their katakana ァ … ヶ.
_HIRAGANA = re.compile("[\u3041-\u3096]")
_KATAKANA = re.compile("[\u30a1-\u30f6]")
_KANA_MARKS = " ー・゛゜"
_ONLY = {
    "katakana": re.compile(f"[\u30a1-\u30fa{_KANA_MARKS}]+"),
    "hiragana": re.compile(f"[\u3041-\u3096{_KANA_MARKS}]+"),
}


def to_script(text: str, script: str) -> str | None:
    """``text`` written in ``script`` ("katakana" or "hiragana"), or None if it cannot be.

    A resident who types フリガナ in hiragana (or an ふりがな in katakana) is not refused:
    the kana are converted. Kanji or Latin letters cannot be, so they give None.
    """
    value = normalize(text)
    if script == "katakana":
        value = _HIRAGANA.sub(lambda match: chr(ord(match.group()) + 0x60), value)
    elif script == "hiragana":
        value = _KATAKANA.sub(lambda match: chr(ord(match.group()) - 0x60), value)
    return value if _ONLY[script].fullmatch(value) else None
