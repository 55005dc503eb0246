"""The starter library: realistic procedures shipped as data (``procedures/starter/*.json``).

``seed_demo`` publishes them to the catalog under the "govtech starter" vendor. The same
files are the engine's test corpus, so every one must stay valid without warnings.
"""

import json
from pathlib import Path
from typing import Any

from procedures.catalog.services import TemplateMetadata

STARTER_DIR = Path(__file__).resolve().parents[1] / "starter"
STARTER_VENDOR_SLUG = "govtech-starter"
STARTER_VENDOR_NAME = "govtech starter"
STARTER_LICENCE = "CC BY 4.0"

# Search words for the catalog, by procedure key.
STARTER_TAGS: dict[str, tuple[str, ...]] = {
    "bulky-waste": ("粗大ごみ", "手数料", "写真", "収集日"),
    "child-allowance-inquiry": ("児童手当", "現況届", "問い合わせ"),
    "citizen-survey-2026": ("アンケート", "満足度", "窓口"),
    "disaster-damage-certificate": ("り災証明", "災害", "写真"),
    "dog-registration-change": ("犬", "狂犬病予防法", "届出"),
    "juminhyo-by-mail": ("住民票", "郵送", "手数料", "定額小為替"),
    "public-comment": ("パブリックコメント", "意見募集", "計画"),
    "registration-details": ("登録情報", "住民属性", "地区", "セグメント配信"),
    "report-generic": ("通報", "公園", "河川", "不法投棄", "街路灯", "位置情報", "写真"),
    "road-damage": ("道路", "公園", "位置情報", "写真", "通報"),
}


def starter_documents() -> list[dict[str, Any]]:
    """Every starter document, in file name order."""
    return [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(STARTER_DIR.glob("*.json"))
    ]


def starter_metadata(document: dict[str, Any]) -> TemplateMetadata:
    """Catalog metadata of a starter, taken from its document (Japanese texts)."""
    return TemplateMetadata(
        title=document["title"]["ja"],
        category=document.get("category", "その他"),
        summary=document.get("description", {}).get("ja", ""),
        tags=STARTER_TAGS.get(document["key"], ()),
        licence=STARTER_LICENCE,
    )
