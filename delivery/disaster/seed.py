"""Demo preparation for ``seed_demo``: the 地区 attribute as the area, two alert templates
and the demo's evacuation sites as shelters, one of them open (once)."""

from delivery.broadcasts.models import AttributeField
from delivery.disaster.models import AlertTemplate, DisasterSettings, Shelter, ShelterStatus
from delivery.disaster.services import shelter_status_set, shelters_use_all
from govtech.models import Municipality

TEMPLATES = (
    ("避難指示", "【警戒レベル4】避難指示を発令しました。危険な場所から全員避難してください。"),
    (
        "高齢者等避難",
        "【警戒レベル3】高齢者など避難に時間のかかる方は、危険な場所から避難してください。",
    ),
)


def disaster_demo_ensure(*, municipality: Municipality) -> int:
    """Templates and shelters when the municipality has none; how many shelters added.
    Call inside the municipality's tenant scope."""
    area = AttributeField.objects.filter(key="area").first()  # the demo's 地区, if seeded
    DisasterSettings.objects.get_or_create(municipality=municipality, defaults={"area_field": area})
    if not AlertTemplate.objects.exists():
        AlertTemplate.objects.bulk_create(
            [AlertTemplate(municipality=municipality, title=t, text=x) for t, x in TEMPLATES]
        )
    if Shelter.objects.exists():
        return 0
    added = shelters_use_all(actor=None, municipality=municipality)
    first = Shelter.objects.select_related("spot").order_by("spot__source_id").first()
    if first is not None:
        shelter_status_set(actor=None, shelter=first, status=ShelterStatus.OPEN)
    return added
