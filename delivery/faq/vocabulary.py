"""Other names residents use for common garbage items, shipped with the product and
added to every municipality's sorting list on import (the standard list leaves synonyms
out). Keys and names are compared after ``matching.normalize``; a municipality adds its
own in the console (an entry's 「他の言い方」).
"""

from __future__ import annotations

from delivery.faq.matching import normalize

COMMON_NAMES: dict[str, tuple[str, ...]] = {
    "ペットボトル": ("PETボトル", "ペット", "プラボトル"),
    "段ボール": ("ダンボール", "ダンボール箱", "段ボール箱"),
    "カセットボンベ": ("カセットガス", "ガスボンベ", "ガス缶"),
    "スプレー缶": ("スプレー", "エアゾール缶", "殺虫剤の缶"),
    "乾電池": ("電池", "単三電池", "単3電池", "単四電池"),
    "ボタン電池": ("コイン電池", "時計の電池"),
    "蛍光灯": ("蛍光管",),
    "電球": ("LED電球", "白熱電球"),
    "パソコン": ("PC", "ノートパソコン", "ノートPC"),
    "テレビ": ("TV", "液晶テレビ"),
    "冷蔵庫": ("冷凍庫",),
    "電子レンジ": ("レンジ", "オーブンレンジ"),
    "新聞紙": ("新聞", "チラシ"),
    "牛乳パック": ("紙パック",),
    "生ごみ": ("残飯", "野菜くず", "台所ごみ"),
    "空き缶": ("缶", "アルミ缶", "スチール缶", "ジュースの缶"),
    "空きびん": ("びん", "瓶", "ガラスびん"),
    "紙おむつ": ("おむつ", "オムツ"),
    "割り箸": ("割りばし", "わりばし"),
    "ビニール袋": ("レジ袋", "ポリ袋"),
    "卵のパック": ("たまごパック", "卵パック"),
    "衣類": ("古着", "服"),
    "食用油": ("天ぷら油", "油"),
    "包丁": ("刃物", "ナイフ"),
    "体温計": ("水銀体温計",),
    "布団": ("ふとん", "掛け布団", "敷布団"),
    "ソファ": ("ソファー",),
    "カーペット": ("じゅうたん", "絨毯", "ラグ"),
}
_BY_KEY = {normalize(name): names for name, names in COMMON_NAMES.items()}


def common_names(item: str) -> list[str]:
    """The other names residents use for ``item`` (empty when none is known)."""
    return list(_BY_KEY.get(normalize(item), ()))
