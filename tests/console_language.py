"""Finds wording a Japanese clerk should never meet on a console page: English words in
the interface, and Django's default admin phrases that read as machine Japanese.

What is checked is the page's own wording (headings, column headers, labels, buttons,
links, help, messages, empty states, titles and aria labels), not the data shown in it:
the cells of a change list, read-only field values, form inputs, the choices of a list
filter, the breadcrumbs and the page title (they repeat headings checked elsewhere, plus
the object's name), text in quotes (code samples in help texts), and any element marked
``translate="no"`` (HTML's own "do not translate this" attribute) are left out.
"""

import re
from dataclasses import dataclass
from html.parser import HTMLParser

# Django's Japanese for its admin that reads unnaturally to a clerk. The project rewords
# them (govtech/wording.py); a page showing one has slipped past.
DJANGO_DEFAULT_PHRASES = [
    re.compile(r"変更する\s*\S+\s*を選択"),  # Select %s to change
    re.compile(r"表示する\S+を選択"),  # Select %s to view
    re.compile(r"\S\s+を(追加|変更|表示|選択|削除)"),  # Add %s, Change %s, … with spaces
    re.compile(r"選択された\s+\S+\s+(の削除|の変更|を表示|を削除)"),
    re.compile(r"アプリケーション内のモデル"),
    re.compile(r"最近行った操作"),
    re.compile(r"自分の操作"),
    re.compile(r"利用不可"),
    re.compile(r"個の内ひとつも選択されていません"),
    re.compile(r"\S+\s+で絞り込む"),
    re.compile(r"オブジェクト"),
    re.compile(r"パーミッション"),
    re.compile(r"^\d+\s+(?!件)\S+$"),  # "5 担当課": the change list's bare count
    re.compile(r"（質問が未入力）"),
]

# Words that are Japanese interface vocabulary although written in Latin letters.
ALLOWED_WORDS = {
    "API",
    "CSV",
    "Excel",
    "FAQ",  # as Japanese municipal sites write it (よくある質問・FAQ)
    "GPS",
    # GeoJSON's own names for a report area's shapes (the format staff paste)
    "GeoJSON",
    "Polygon",
    "MultiPolygon",
    "Feature",
    "FeatureCollection",
    "ID",
    "JPEG",
    "JSON",
    "LINE",
    "LGWAN",
    "MB",
    "KB",
    "Open311",
    "PDF",
    "PNG",
    "QR",
    "Shift_JIS",
    "TOTP",
    "URL",
    "UTF",
    "XLSX",
    "Webhook",
    "govtech",
    "https",
    "http",
    "am",
    "pm",
    # keys on the keyboard
    "Ctrl",
    "Command",
    "Enter",
    "Esc",
    "Mac",
    "Tab",
}
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
WORD = re.compile(r"(?<![\w.@/:{\-])[A-Za-z][A-Za-z']{1,}(?![\w.@/}\-])")
ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
SKIPPED_TAGS = {
    "script",
    "style",
    "textarea",
    "pre",
    "code",
    "svg",
    "template",
    "noscript",
    "title",
}
QUOTED = re.compile(r'"[^"]*"')
VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}
DATA_CLASSES = {"readonly", "breadcrumbs"}


@dataclass(frozen=True)
class Problem:
    url: str
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.url}: {self.why}: {self.text!r}"


class _Wording(HTMLParser):
    """Collects the interface wording of a page (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.unstyled: list[str] = []  # submit buttons without the console's button style
        self._stack: list[tuple[str, bool]] = []  # (tag, skips its content)

    @property
    def _skipping(self) -> bool:
        return any(skips for _tag, skips in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        skips = self._is_data(tag, attributes)
        if not self._skipping and not skips:
            self._attribute_texts(tag, attributes)
        if tag not in VOID_TAGS:
            self._stack.append((tag, skips))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if not self._skipping and not self._is_data(tag, attributes):
            self._attribute_texts(tag, attributes)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.texts.append(" ".join(data.split()))

    def _is_data(self, tag: str, attributes: dict[str, str]) -> bool:
        classes = set(attributes.get("class", "").split())
        in_rows = self._in_result_list and any(t == "tbody" for t, _ in self._stack)
        return (
            tag in SKIPPED_TAGS
            or attributes.get("translate") == "no"
            or bool(classes & DATA_CLASSES)
            or (tag in ("td", "th") and in_rows)
            or (tag == "option" and not self._in_choice_list(attributes))
            or (tag == "ul" and any(t == "nav" for t, _ in self._stack) and self._in_filter)
        )

    @property
    def _in_filter(self) -> bool:
        return getattr(self, "_filter_depth", None) is not None

    @property
    def _in_result_list(self) -> bool:
        return getattr(self, "_result_list_depth", None) is not None

    def _in_choice_list(self, attributes: dict[str, str]) -> bool:
        # Options are data (departments, channels …) except the action menu's.
        return getattr(self, "_select_name", "") == "action"

    def _attribute_texts(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "table" and attributes.get("id") == "result_list":
            self._result_list_depth = len(self._stack)
        if tag == "select":
            self._select_name = attributes.get("name", "")
        if tag == "nav" and attributes.get("id") == "changelist-filter":
            self._filter_depth = len(self._stack)
        for name in ATTRIBUTES:
            if attributes.get(name):
                self.texts.append(attributes[name])
        if tag == "form":
            self._form_id = attributes.get("id", "")
        if tag == "button" and attributes.get("type", "submit") == "submit":
            # Django styles its own logout button; every other one needs the console's style.
            styled = "button" in attributes.get("class", "").split()
            if not styled and getattr(self, "_form_id", "") != "logout-form":
                self.unstyled.append(attributes.get("data-testid") or attributes.get("name", ""))
        is_button = tag == "input" and attributes.get("type") in ("submit", "button")
        if is_button and attributes.get("value"):
            self.texts.append(attributes["value"])


def _parsed(html: str) -> _Wording:
    parser = _Wording()
    parser.feed(html)
    return parser


def page_wording(html: str) -> list[str]:
    return _parsed(html).texts


def problems_in(url: str, html: str, *, data: tuple[str, ...] = ()) -> list[Problem]:
    """Every English word and Django default phrase in the page's wording.

    ``data`` are values that come from the database (a vendor's name, a licence) and may
    be in any language; they are taken out of the wording before it is checked.
    """
    page = _parsed(html)
    found = [Problem(url, name, "a submit button without class=button") for name in page.unstyled]
    for text in page.texts:
        for value in data:
            text = text.replace(value, " ")
        if any(phrase.search(text) for phrase in DJANGO_DEFAULT_PHRASES):
            found.append(Problem(url, text, "Django's default wording"))
        words = WORD.findall(QUOTED.sub(" ", text))
        english = [word for word in words if word not in ALLOWED_WORDS]
        if english:
            found.append(Problem(url, text, f"English ({', '.join(english)})"))
    return found


class _FormFields(HTMLParser):
    """What a browser would post from a page's forms, untouched by the user."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.data: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        name = attributes.get("name", "")
        kind = attributes.get("type", "text")
        if tag == "input" and name and kind not in ("submit", "button", "file", "image"):
            if kind not in ("checkbox", "radio") or "checked" in attributes:
                self.data.setdefault(name, []).append(attributes.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data.setdefault(name, []).append("")
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = attributes.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attributes:
                self.data.setdefault(self._select, []).append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select:
            if self._select not in self.data and self._first_option is not None:
                self.data[self._select] = [self._first_option]
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][-1] += data


def unchanged_form_data(html: str) -> dict[str, list[str]]:
    """The fields of the page's forms as a browser posts them when Save is pressed at once."""
    parser = _FormFields()
    parser.feed(html)
    return parser.data
