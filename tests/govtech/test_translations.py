"""Japanese first: every message of the catalog has a Japanese translation, none fuzzy."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

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


APPS = ("govtech", "procedures", "delivery", "reports")
KEYWORDS = [
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "_",
    "ngettext:1,2",
    "ngettext_lazy:1,2",
    "pgettext:1c,2",
    "pgettext_lazy:1c,2",
    "npgettext:1c,2,3",
    "npgettext_lazy:1c,2,3",
]


def _sources(tmp_path: Path) -> list[Path]:
    """The apps' Python files, and every template turned into Python as makemessages does."""
    from django.utils.translation.template import templatize

    root = CATALOG.parents[4]
    files = [
        path
        for app in APPS
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts
    ]
    for number, template in enumerate(sorted((root / "templates").rglob("*.html"))):
        converted = tmp_path / f"template_{number}.py"
        converted.write_text(templatize(template.read_text(), origin=str(template)))
        files.append(converted)
    return files


def _msgids(path: Path) -> set[str]:
    """The (context, msgid) keys of a .po/.pot file, continuation lines joined."""
    keys, context, current, field = set(), "", [], ""
    for line in [*path.read_text().splitlines(), ""]:
        if line.startswith("#~"):
            continue
        if line.startswith(("msgctxt ", "msgid ")) or not line.strip():
            if field == "msgid" and current:
                keys.add(context + "\x04" + "".join(current))
                context = ""
            current, field = [], ""
        if line.startswith("msgctxt "):
            context, field = line[len("msgctxt ") + 1 : -1], "msgctxt"
        elif line.startswith("msgid "):
            current, field = [line[len("msgid ") + 1 : -1]], "msgid"
        elif line.startswith('"') and field == "msgid":
            current.append(line[1:-1])
        elif line.startswith("msgstr") or line.startswith("msgid_plural"):
            if field == "msgid":
                keys.add(context + "\x04" + "".join(current))
                context = ""
            field = ""
    keys.discard("\x04")
    return keys


def test_every_message_in_the_code_is_in_the_catalog(tmp_path):
    """A string marked for translation but never added to the catalog shows in English."""
    if shutil.which("xgettext") is None:
        pytest.skip("gettext tools are not installed (make test installs them)")
    template = tmp_path / "code.pot"
    keywords = [f"--keyword={keyword}" for keyword in KEYWORDS]
    command = ["xgettext", "--language=Python", "--from-code=UTF-8", "--no-wrap", *keywords]
    sources = [str(path) for path in _sources(tmp_path)]
    subprocess.run([*command, "-o", str(template), *sources], check=True, capture_output=True)
    missing = sorted(_msgids(template) - _msgids(CATALOG))
    with translation.override("ja"):  # Django's and allauth's own strings are theirs
        untranslated = [key for key in missing if not _translated_elsewhere(key)]
    assert untranslated == []


def _translated_elsewhere(key: str) -> bool:
    context, msgid = key.split("\x04")
    msgid = msgid.encode().decode("unicode_escape").encode("latin-1").decode()
    if context:
        return translation.pgettext(context, msgid) != msgid
    return translation.gettext(msgid) != msgid
