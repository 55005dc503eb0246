from datetime import date, time

import pytest

from procedures.engine import parsing

TODAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12月1日", date(2026, 12, 1)),
        ("１２月１日", date(2026, 12, 1)),
        ("3月9日", date(2027, 3, 9)),
        ("3月10日", date(2026, 3, 10)),
        ("12/1", date(2026, 12, 1)),
        ("令和8年12月1日", date(2026, 12, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("昭和60年4月1日", date(1985, 4, 1)),
        ("R8.12.1", date(2026, 12, 1)),
        ("r8/12/1", date(2026, 12, 1)),
        ("2026/12/1", date(2026, 12, 1)),
        ("2026-12-01", date(2026, 12, 1)),
        ("2026年12月1日", date(2026, 12, 1)),
        ("２０２６年１２月１日", date(2026, 12, 1)),
        ("2026年12月1日(火)", date(2026, 12, 1)),
        ("20261201", date(2026, 12, 1)),
        ("今日", TODAY),
        ("本日", TODAY),
        ("明日", date(2026, 3, 11)),
        ("あさって", date(2026, 3, 12)),
        ("tomorrow", date(2026, 3, 11)),
        ("2/29", date(2028, 2, 29)),
    ],
)
def test_parse_date_reads_japanese_and_iso_dates(text, expected):
    assert parsing.parse_date(text, TODAY) == expected


@pytest.mark.parametrize("text", ["2月30日", "13月1日", "来週", "2026/13/01", "", "1日"])
def test_parse_date_refuses_what_is_not_a_date(text):
    assert parsing.parse_date(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:30", time(14, 30)),
        ("１４：３０", time(14, 30)),
        ("9:05", time(9, 5)),
        ("14時30分", time(14, 30)),
        ("14時", time(14, 0)),
        ("14時半", time(14, 30)),
        ("午後2時", time(14, 0)),
        ("午後2時15分", time(14, 15)),
        ("午前10時", time(10, 0)),
        ("午前12時", time(0, 0)),
        ("午後12時", time(12, 0)),
        ("2pm", time(14, 0)),
        ("10:30 am", time(10, 30)),
    ],
)
def test_parse_time_reads_japanese_and_clock_times(text, expected):
    assert parsing.parse_time(text) == expected


@pytest.mark.parametrize("text", ["25:00", "14:60", "午後13時", "ごご", "12"])
def test_parse_time_refuses_what_is_not_a_time(text):
    assert parsing.parse_time(text) is None


@pytest.mark.parametrize(
    ("text", "digits", "shown"),
    [
        ("090-1234-5678", "09012345678", "090-1234-5678"),
        ("09012345678", "09012345678", "090-1234-5678"),
        ("０９０－１２３４－５６７８", "09012345678", "090-1234-5678"),
        ("090ー1234ー5678", "09012345678", "090-1234-5678"),
        ("+81 90 1234 5678", "09012345678", "090-1234-5678"),
        ("03-1234-5678", "0312345678", "03-1234-5678"),
        ("045(123)4567", "0451234567", "0451234567"),
        ("0120-123-456", "0120123456", "0120-123-456"),
        ("050-1234-5678", "05012345678", "050-1234-5678"),
    ],
)
def test_parse_phone_normalises_to_digits_and_formats_for_display(text, digits, shown):
    assert parsing.parse_phone(text) == digits
    assert parsing.format_phone(digits) == shown


@pytest.mark.parametrize("text", ["1234", "03-1234-567", "0312345678901", "00312345678", "abc"])
def test_parse_phone_refuses_numbers_that_are_not_japanese_phone_numbers(text):
    assert parsing.parse_phone(text) is None


def test_an_eleven_digit_landline_number_is_refused():
    assert parsing.parse_phone("03123456789") is None


@pytest.mark.parametrize(
    "text", ["〒150-0002", "1500002", "150-0002", "１５０－０００２", "〒 150 0002"]
)
def test_parse_postal_code_normalises_with_a_hyphen(text):
    assert parsing.parse_postal_code(text) == "150-0002"


@pytest.mark.parametrize("text", ["150-002", "15000023", "abc-defg", ""])
def test_parse_postal_code_refuses_anything_but_seven_digits(text):
    assert parsing.parse_postal_code(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("taro@example.jp", "taro@example.jp"),
        ("Taro@Example.JP", "Taro@example.jp"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
        ("taro..yamada.@docomo.ne.jp", "taro..yamada.@docomo.ne.jp"),
    ],
)
def test_parse_email_accepts_addresses_japanese_carriers_issue(text, expected):
    assert parsing.parse_email(text) == expected


@pytest.mark.parametrize(
    "text", ["taro", "taro@", "taro@localhost", "a b@example.jp", "@example.jp"]
)
def test_parse_email_refuses_malformed_addresses(text):
    assert parsing.parse_email(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3", 3), ("３", 3), ("1,000", 1000), ("3個", 3), ("２通", 2), ("三通", 3), ("十二", 12),
     ("二十三", 23), ("百", 100), ("-2", -2), ("3.0", 3)],
)  # fmt: skip
def test_parse_integer_reads_digits_counters_and_kanji(text, expected):
    assert parsing.parse_integer(text) == expected


@pytest.mark.parametrize("text", ["3.5", "abc", "二三", "", "3 4"])
def test_parse_integer_refuses_what_is_not_a_whole_number(text):
    assert parsing.parse_integer(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("はい", True), ("Yes", True), ("ＹＥＳ", True), ("うん", True), ("いいえ", False),
     ("no", False), ("いいえ。", False), ("たぶん", None)],
)  # fmt: skip
def test_parse_yes_no_reads_japanese_and_english(text, expected):
    assert parsing.parse_yes_no(text) is expected


def test_split_list_reads_japanese_separators():
    assert parsing.split_list("1、3，ソファ・机") == ["1", "3", "ソファ", "机"]
