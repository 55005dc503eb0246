"""Fuzz: files staff and residents upload — reminder date CSVs and photos.

A CSV is imported whole or refused with line-numbered problems; a photo is cleaned or
refused from its header, never decoded beyond the pixel limit.
"""

import io
import struct
import zlib

import pytest
from django_scopes import scopes_disabled
from hypothesis import example, given
from hypothesis import strategies as st
from PIL import Image

from delivery.broadcasts.models import ReminderRule
from delivery.broadcasts.reminders import ReminderCsvRejected, reminder_dates_import
from delivery.images import MAX_EDGE, MAX_PIXELS, ImageRejected, clean_image
from delivery.services import line_channel_create
from tests.delivery.broadcast_world import north_garbage_rule
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.strategies import nasty_text

# --- reminder CSVs ------------------------------------------------------------------------

cells = st.one_of(
    nasty_text,
    st.sampled_from(["2026/1/2", "2026-13-01", "令和8年1月2日", "追加", "休み", "北地区", ""]),
)
rows = st.lists(st.lists(cells, max_size=6), max_size=12)


@pytest.fixture
def rule(city):
    channel = line_channel_create(
        actor=None,
        municipality=city,
        name="fuzz",
        channel_id="1650009998",
        channel_secret="secret",
        access_token="token",
    )
    return north_garbage_rule(city, channel, weekdays=[0])


def csv_bytes(table, header: bool, encoding: str) -> bytes:
    lines = [["日付", "地区", "区分"]] if header else []
    text = "\n".join(",".join(row) for row in lines + table)
    return (
        text.encode(encoding, "replace")
        if encoding != "utf-8"
        else text.encode("utf-8", "surrogatepass")
    )


@pytest.mark.django_db
@fuzz_settings(120)
@given(
    table=rows,
    header=st.booleans(),
    encoding=st.sampled_from(["utf-8", "cp932"]),
    noise=st.binary(max_size=40),
)
@example(table=[["2026/1/2", "北\r地区"]], header=True, encoding="utf-8", noise=b"")  # once a 500
def test_any_csv_is_imported_whole_or_refused_with_line_numbers(
    rule, table, header, encoding, noise
):
    data = csv_bytes(table, header, encoding) + noise
    with scopes_disabled():
        ReminderRule.objects.filter(pk=rule.pk).update(extra_dates=[], skip_dates=[])
    try:
        reminder_dates_import(actor=None, rule=rule, data=data)
    except ReminderCsvRejected as refused:
        assert refused.problems
        for problem in refused.problems:
            str(problem).encode("utf-8")
        with scopes_disabled():
            unchanged = ReminderRule.objects.get(pk=rule.pk)
        assert unchanged.extra_dates == [] and unchanged.skip_dates == []


# --- photos -------------------------------------------------------------------------------


def png(width: int, height: int, *, color_type: int = 0, rows: int = 1, tail: bytes = b"") -> bytes:
    """A PNG whose header claims ``width`` × ``height``; only ``rows`` rows are real."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color_type, 1)
    packer = zlib.compressobj()
    data = b"".join(packer.compress(b"\0" * (1 + width * channels)) for _ in range(rows))
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", data + packer.flush())
        + chunk(b"IEND", b"")
        + tail
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header is rewritten to claim ``width`` × ``height``."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    at = data.find(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def outcome_is_bounded(data: bytes, claimed_pixels: int, kind: str) -> None:
    try:
        clean = clean_image(data)
    except ImageRejected as refused:
        str(refused).encode("utf-8")
        return
    assert claimed_pixels <= MAX_PIXELS[kind], "decoded past the limit instead of refusing"
    assert max(clean.width, clean.height) <= MAX_EDGE


sizes = st.integers(1, 70_000)


@fuzz_settings(150)
@given(
    width=sizes,
    height=sizes,
    color_type=st.sampled_from([0, 2, 3, 4, 6, 7]),
    tail=st.binary(max_size=20),
)
@example(width=9_000, height=9_000, color_type=0, tail=b"")  # once +78 MB, then refused
@example(width=6_300, height=6_300, color_type=0, tail=b"")  # once accepted at +417 MB
def test_any_png_header_is_refused_before_decoding_or_cleaned_small(
    width, height, color_type, tail
):
    data = png(width, height, color_type=color_type, rows=1 if width * height > 4e6 else height)
    outcome_is_bounded(data + tail, width * height, "PNG")


@fuzz_settings(100)
@given(width=st.integers(1, 65_535), height=st.integers(1, 65_535))
def test_any_jpeg_frame_size_is_refused_or_cleaned_small(width, height):
    outcome_is_bounded(jpeg_claiming(width, height), width * height, "JPEG")


@fuzz_settings(150)
@given(data=st.binary(max_size=4_000))
def test_any_bytes_are_refused_or_cleaned(data):
    outcome_is_bounded(data, 0, "JPEG")
