"""Answers for the demo's surveys, so that ``make demo`` shows results.

``demo_surveys_ensure`` is called by ``seed_demo``. Residents of four areas (地区, a
resident attribute the seed defines here) answer the 市民満足度アンケート through
``procedures.runtime.resident_input``, as in LINE, over the last three weeks; a few send
a パブリックコメント. The satisfaction survey's public page is published (cells under 5
hidden). The residents have no LINE identity: nothing leaves the machine.

One batch per municipality: the residents' handles (``demo-survey:…``) mark it. The
answers are drawn from a seeded random generator, so every demo shows the same figures.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.utils import timezone

from delivery.broadcasts.models import AttributeField, AttributeKind
from govtech.models import Municipality
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.models import Procedure, Submission
from procedures.residents.models import Resident
from procedures.residents.services import resident_attributes_update, resident_for_handle
from procedures.runtime import resident_input, start_postback
from reports.surveys.services import survey_publication_set

HANDLE_PREFIX = "demo-survey:"
SURVEY = "citizen-survey-2026"
PUBLIC_COMMENT = "public-comment"
RESPONDENTS = 48
AREAS = [
    ("north", "北地区", 4),
    ("south", "南地区", 3),
    ("east", "東地区", 2),
    ("west", "西地区", 1),
]
SATISFACTION = [("とても満足", 3), ("満足", 8), ("ふつう", 6), ("不満", 3), ("とても不満", 1)]
REASONS = ["1", "1, 3", "2", "1, 2", "3"]  # option numbers, as a resident types them
AGE_GROUPS = [("30歳未満", 2), ("30〜59歳", 5), ("60歳以上", 4)]
COMMENTS = [
    "土曜日も窓口を開けてほしいです。",
    "番号札の呼び出しが聞き取りにくかったです。",
    "職員の方が丁寧に説明してくれて助かりました。",
    "駐車場が混んでいて停められませんでした。",
    "申請書の記入例がもっとあると助かります。",
    "LINEで手続きできるのはとても便利です。",
    "待ち時間が長く、子ども連れには大変でした。",
    "案内表示がわかりやすくなったと思います。",
]
OPINIONS = [
    ("master-plan", "第2章の公共交通の目標に、デマンドタクシーの導入時期を明記してください。"),
    ("master-plan", "子育て世帯向けの公園整備をもっと具体的に書いてほしいです。"),
    ("disaster-plan", "避難所の一覧に、ペット同伴可否を載せてください。"),
    ("disaster-plan", "外国語での防災情報の発信について追記をお願いします。"),
    ("master-plan", "中心市街地の空き店舗対策に賛成です。"),
]


def demo_surveys_ensure(*, municipality: Municipality) -> int:
    """Answer ``municipality``'s demo surveys once; how many answers were made (0 when the
    batch exists, or when the municipality has not published the starters).

    Raises AssertionError when a scripted conversation does not end in a submission (a
    starter changed under the script): the demo must not start half seeded.
    """
    with tenant_scope(municipality):
        if Resident.objects.filter(handle__startswith=HANDLE_PREFIX).exists():
            return 0
        live = set(
            Procedure.objects.filter(
                key__in=[SURVEY, PUBLIC_COMMENT], live_version__isnull=False
            ).values_list("key", flat=True)
        )
        _area_attribute_ensure(municipality)
    rng = random.Random(2026)  # noqa: S311 - the demo's figures, not secrets
    now, made = timezone.now(), 0
    if SURVEY in live:
        for number in range(RESPONDENTS):
            _answer(municipality, number, _survey_inputs(rng), now - _ago(rng), rng)
            made += 1
        _publish(municipality)
    if PUBLIC_COMMENT in live:
        for number, (plan, opinion) in enumerate(OPINIONS, start=RESPONDENTS):
            inputs = [start_postback(PUBLIC_COMMENT), _label(plan), "スキップ", opinion]
            inputs += ["市内に住んでいる", f"デモ 太郎{number}", "デモ市中央一丁目"]
            inputs += ["同意する", "送信"]
            _answer(municipality, number, inputs, now - _ago(rng), rng)
            made += 1
    return made


def _area_attribute_ensure(municipality: Municipality) -> None:
    # No service edits attribute fields (the console's admin does): the seed writes the
    # demo's 地区 directly, as an admin would define it.
    AttributeField.objects.get_or_create(
        municipality=municipality,
        key="area",
        defaults={
            "label": "地区",
            "kind": AttributeKind.CHOICE,
            "options": [{"value": value, "label": label} for value, label, _w in AREAS],
        },
    )


def _survey_inputs(rng: random.Random) -> list[str]:
    satisfaction = _pick(rng, SATISFACTION)
    inputs = [start_postback(SURVEY), satisfaction]
    if satisfaction in ("不満", "とても不満"):
        inputs.append(rng.choice(REASONS))
    inputs.append(_pick(rng, AGE_GROUPS))
    inputs.append(rng.choice(COMMENTS) if rng.random() < 0.3 else "スキップ")
    return inputs


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _w in weighted], [w for _v, w in weighted])[0]


def _ago(rng: random.Random) -> timedelta:
    return timedelta(days=rng.uniform(0.2, 21))


def _label(plan: str) -> str:
    return {"master-plan": "第3次総合計画（案）", "disaster-plan": "地域防災計画の改定（案）"}[plan]


def _answer(
    municipality: Municipality, number: int, inputs: list[str], at: datetime, rng: random.Random
) -> None:
    """A resident of a random area sends ``inputs`` (the first a start postback) at ``at``."""
    resident = resident_for_handle(municipality=municipality, handle=f"{HANDLE_PREFIX}{number}")
    area = rng.choices([a for a, _l, _w in AREAS], [w for _a, _l, w in AREAS])[0]
    resident_attributes_update(resident=resident, values={"area": area})
    reply = None
    for index, text in enumerate(inputs):
        inp = engine.PostbackInput(text) if index == 0 else engine.TextInput(text)
        reply = resident_input(
            municipality=municipality, resident=resident, inp=inp, now=at, channel="line"
        )
    submission = reply.submission if reply else None
    assert submission is not None, f"demo survey answer {number} did not submit: {inputs}"  # noqa: S101
    # submitted_at is auto_now_add: the clock the runtime was given does not reach it.
    with tenant_scope(municipality):
        Submission.objects.filter(pk=submission.pk).update(submitted_at=at)


def _publish(municipality: Municipality) -> None:
    with tenant_scope(municipality):
        survey = Procedure.objects.get(key=SURVEY)
        survey_publication_set(actor=None, procedure=survey, is_public=True, minimum_count=5)
