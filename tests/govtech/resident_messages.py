"""The product's resident strings (procedures.languages.RESIDENT_MODULES and marked
strings) and the resident catalogs, read with the gettext tools.

``python -m tests.govtech.resident_messages vi`` prints, as JSON, the resident msgids the
Vietnamese catalog lacks (for translators; then append them to its django.po).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from procedures.languages import RESIDENT_MARK, RESIDENT_MODULES

ROOT = Path(__file__).resolve().parents[2]
APPS = ("govtech", "procedures", "delivery", "reports")
KEYWORDS = ["_", "gettext", "gettext_lazy", "gettext_noop", "ngettext:1,2",
            "ngettext_lazy:1,2", "pgettext:1c,2", "pgettext_lazy:1c,2"]  # fmt: skip


@dataclass
class Entry:
    context: str
    msgid: str
    plural: str = ""
    msgstrs: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    fuzzy: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.context, self.msgid)


def _unquote(text: str) -> str:
    return json.loads(text) if text.startswith('"') else text


def read_po(path: Path) -> dict[tuple[str, str], Entry]:
    """The entries of a .po/.pot file by (context, msgid); the header left out."""
    entries: dict[tuple[str, str], Entry] = {}
    blocks = re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))
    for block in blocks:
        entry, target = Entry("", ""), None
        for line in block.splitlines():
            if line.startswith("#."):
                entry.comments.append(line[2:].strip())
            elif line.startswith("#,") and "fuzzy" in line:
                entry.fuzzy = True
            elif line.startswith("#"):
                continue
            elif line.startswith("msgctxt "):
                entry.context, target = _unquote(line[8:]), "context"
            elif line.startswith("msgid_plural "):
                entry.plural, target = _unquote(line[13:]), "plural"
            elif line.startswith("msgid "):
                entry.msgid, target = _unquote(line[6:]), "msgid"
            elif line.startswith("msgstr"):
                entry.msgstrs.append(_unquote(line.split(" ", 1)[1]))
                target = "msgstr"
            elif line.startswith('"') and target:
                if target == "msgstr":
                    entry.msgstrs[-1] += _unquote(line)
                else:
                    setattr(entry, target, getattr(entry, target) + _unquote(line))
        if entry.msgid:
            entries[entry.key] = entry
    return entries


def _xgettext(files: list[Path], output: Path) -> dict[tuple[str, str], Entry]:
    command = ["xgettext", "--language=Python", "--from-code=UTF-8", "--no-wrap",
               "--add-comments=Translators:", *[f"--keyword={k}" for k in KEYWORDS]]  # fmt: skip
    subprocess.run([*command, "-o", str(output), *map(str, files)], check=True)
    return read_po(output) if output.exists() else {}


def _python_files(place: str) -> list[Path]:
    path = ROOT / place
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [file for file in files if "migrations" not in file.parts]


def resident_messages() -> dict[tuple[str, str], Entry]:
    """Every resident msgid of the code (needs xgettext)."""
    if shutil.which("xgettext") is None:
        raise RuntimeError("gettext tools are not installed")
    with tempfile.TemporaryDirectory() as folder:
        modules = [file for place in RESIDENT_MODULES for file in _python_files(place)]
        found = _xgettext(modules, Path(folder) / "modules.pot")
        everything = [file for app in APPS for file in _python_files(app)]
        marked = _xgettext(everything, Path(folder) / "all.pot")
    found.update(
        {
            key: entry
            for key, entry in marked.items()
            if any(RESIDENT_MARK in c for c in entry.comments)
        }
    )
    return found


def catalog_path(code: str) -> Path:
    from django.utils.translation import to_locale

    return ROOT / "govtech" / "locale" / to_locale(code) / "LC_MESSAGES" / "django.po"


def missing(code: str) -> dict[str, str]:
    catalog = read_po(catalog_path(code)) if catalog_path(code).exists() else {}
    wanted = resident_messages()
    return {
        entry.msgid: ""
        for key, entry in sorted(wanted.items())
        if key not in catalog or not all(catalog[key].msgstrs)
    }


if __name__ == "__main__":
    import django

    django.setup()
    print(json.dumps(missing(sys.argv[1]), ensure_ascii=False, indent=1))
