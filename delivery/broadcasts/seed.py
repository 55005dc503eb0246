"""The demo's resident attributes (``seed_demo``): 地区 and 受け取りたいお知らせ, the fields
the 「登録情報の変更」 starter asks for. Created once; an existing field is left as it is."""

from delivery.broadcasts.attributes import OptionRow, attribute_field_save
from delivery.broadcasts.models import AttributeField, AttributeKind
from govtech.models import Municipality
from govtech.tenancy import tenant_scope

DEMO_FIELDS = [
    (
        "area",
        "地区",
        AttributeKind.CHOICE,
        [("north", "北地区"), ("south", "南地区"), ("east", "東地区"), ("west", "西地区")],
    ),
    (
        "interests",
        "受け取りたいお知らせ",
        AttributeKind.MULTI_CHOICE,
        [
            ("childcare", "子育て"),
            ("disaster", "防災"),
            ("events", "イベント"),
            ("garbage", "ごみ・リサイクル"),
        ],
    ),
]


def attributes_demo_ensure(*, municipality: Municipality) -> int:
    """Create the demo's attribute fields that ``municipality`` lacks; how many were made."""
    with tenant_scope(municipality):
        existing = set(AttributeField.objects.values_list("key", flat=True))
    made = 0
    for key, label, kind, options in DEMO_FIELDS:
        if key in existing:
            continue
        rows = [OptionRow(value, text) for value, text in options]
        attribute_field_save(
            actor=None, municipality=municipality, key=key, label=label, kind=kind, rows=rows
        )
        made += 1
    return made
