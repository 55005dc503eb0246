"""Japanese first: every message of the catalog has a Japanese translation, none fuzzy."""

import shutil
import subprocess
from pathlib import Path

import pytest

CATALOG = Path(__file__).resolve().parents[2] / "govtech/locale/ja/LC_MESSAGES/django.po"


def _entries(*flags: str) -> list[str]:
    """msgids that ``msgattrib`` selects with ``flags`` (the header entry left out)."""
    if shutil.which("msgattrib") is None:
        pytest.skip("gettext tools are not installed (make test installs them)")
    selected = subprocess.run(
        ["msgattrib", *flags, "--no-wrap", str(CATALOG)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ids = [line[len("msgid ") :] for line in selected.splitlines() if line.startswith("msgid ")]
    return [msgid for msgid in ids if msgid != '""']


def test_every_message_has_a_japanese_translation():
    assert _entries("--untranslated") == []


def test_no_translation_is_left_fuzzy():
    assert _entries("--only-fuzzy") == []
