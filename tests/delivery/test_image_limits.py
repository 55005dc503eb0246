"""Crafted images: refused from their header, and memory per photo stays bounded.

Each measurement runs in a fresh Python process and reads its peak resident memory
(``ru_maxrss``) before and after one ``clean_image`` call, so what the test process did
before cannot hide or inflate the figure.
"""

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

from delivery.images import MAX_EDGE, ImageRejected, clean_image

ROOT = Path(__file__).resolve().parents[2]
MEASURE = """
import json, resource, sys
import django
django.setup()
from delivery.images import ImageRejected, clean_image
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    clean = clean_image(data)
    outcome = {"size": [clean.width, clean.height]}
except ImageRejected as refused:
    outcome = {"refused": str(refused)}
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({**outcome, "extra_mb": (after - before) / 1024}))
"""


def png_of_zeros(width: int, height: int) -> bytes:
    """A grey PNG of ``width`` × ``height`` that is tiny on disk (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    packer = zlib.compressobj(9)
    row = b"\0" * (width + 1)  # filter byte + one byte a pixel
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def measured(tmp_path, data: bytes) -> dict:
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "govtech.test_settings", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    figures = json.loads(result.stdout)
    print(figures)
    return figures


def test_a_9000_by_9000_png_is_refused_before_decoding_with_little_memory(tmp_path):
    bomb = png_of_zeros(9000, 9000)
    assert len(bomb) < 300_000
    figures = measured(tmp_path, bomb)
    assert "9000 × 9000" in figures["refused"]
    assert figures["extra_mb"] < 50


def test_a_6300_by_6300_png_is_refused_too(tmp_path):
    assert "6300 × 6300" in measured(tmp_path, png_of_zeros(6300, 6300))["refused"]


@pytest.fixture(scope="module")
def big_phone_jpeg(tmp_path_factory) -> bytes:
    """A 48-megapixel JPEG (8000 × 6000), made in a process of its own to keep this one small."""
    path = tmp_path_factory.mktemp("jpeg") / "big.jpg"
    make = (
        "import sys; from PIL import Image; "
        "Image.new('RGB', (8000, 6000), (90, 120, 60)).save(sys.argv[1])"
    )
    subprocess.run([sys.executable, "-c", make, str(path)], check=True, timeout=120)
    return path.read_bytes()


def test_a_48_megapixel_phone_photo_is_kept_at_2048_pixels_with_bounded_memory(
    tmp_path, big_phone_jpeg
):
    figures = measured(tmp_path, big_phone_jpeg)
    assert figures["size"] == [MAX_EDGE, MAX_EDGE * 3 // 4]
    # Decoded at half scale (4000 × 3000 × 4 bytes = 48 MB) plus the reduced copy.
    assert figures["extra_mb"] < 70


def test_a_large_screenshot_png_is_shrunk_and_keeps_its_format():
    image = Image.new("RGB", (1290, 2796), (250, 250, 250))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    clean = clean_image(buffer.getvalue())
    assert clean.content_type == "image/png"
    assert (clean.width, clean.height) == (945, MAX_EDGE)


def test_a_truncated_header_is_refused_not_an_error():
    with pytest.raises(ImageRejected):
        clean_image(png_of_zeros(100, 100)[:40])
