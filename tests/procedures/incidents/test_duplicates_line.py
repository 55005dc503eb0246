"""Duplicates end to end through the LINE simulator and the real line-bot-sdk client: a
resident reports a hole with its place; a second resident reports 10 m away; the second
report's case page offers the first as a possible duplicate; the reviewer merges it and
marks the main report 対応中 then 完了; both residents receive the 完了 message, each with
their own reference.

Every step goes the production path: the simulator signs webhooks to the product, the
engine stores the reports, the console's merge and status views call the services, the
outbox sends through the SDK to the emulated Messaging API.
"""

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from govtech.tenancy import tenant_scope
from procedures.casework.services import procedure_workflow_save
from procedures.incidents.models import Report
from procedures.models import Submission
from tests.delivery.line_world import line_world  # noqa: F401 - the fixture
from tests.procedures.incidents.report_world import report_category

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HOLE = (35.4887, 139.4075)
TEN_METRES_NORTH = (35.4887 + 10 / 111_195, 139.4075)  # 10.0 m (a degree: 111,195 m)
DONE = "通報（受付番号 {reference}）の対応が完了しました。ありがとうございました。"


@pytest.fixture
def roads(city, designer):
    category = report_category(city, designer, "road", "道路")
    with tenant_scope(city):
        procedure_workflow_save(
            actor=designer,
            procedure=category.procedure,
            transitions={"submitted": ["in_review"], "in_review": ["completed", "rejected"]},
            messages={
                "in_review": {"ja": "対応を始めました（{reference}）。"},
                "completed": {"ja": DONE},
            },
            target_days=None,
            correction_days=14,
            allow_withdraw=True,
        )
    return category


def report_a_hole(resident, at) -> Submission:
    resident.follow()
    resident.received()
    resident.say("道路の通報")
    resident.received()
    assert "内容は？" in resident.texts(), resident.texts()
    resident.say("道路に穴があいています")
    resident.received()
    resident.location(*at, address="デモ市中央1丁目")
    resident.received()
    resident.tap("送信")
    resident.received()
    with scopes_disabled():
        mine = Submission.objects.filter(resident__line_friends__line_user_id=resident.user_id)
        return mine.get()


def status(client, submission, to: str) -> None:
    url = reverse("admin:procedures_submission_status", args=[submission.pk])
    body = {"to": to, "expected": submission.status, "notify": "on", "reason": ""}
    assert client.post(url, body).status_code == 302
    submission.refresh_from_db()
    assert submission.status == to


def test_a_merged_reporter_receives_the_completion_message_too(
    line_world,  # noqa: F811
    city,
    roads,
    reviewer,
    client,
):
    hanako = line_world("U" + "a" * 32)
    taro = line_world("U" + "b" * 32)
    first = report_a_hole(hanako, HOLE)
    second = report_a_hole(taro, TEN_METRES_NORTH)
    with scopes_disabled():
        assert Report.objects.filter(category=roads).count() == 2

    client.force_login(reviewer)
    case = client.get(reverse("admin:procedures_submission_change", args=[second.pk]))
    offered = case.content.decode()
    assert f'data-reference="{first.reference}"' in offered and "10 m" in offered
    merge = reverse("admin:procedures_submission_report_merge", args=[second.pk])
    assert client.post(merge, {"other": first.pk, "direction": "into_other"}).status_code == 302
    taro.received()
    assert second.reference in taro.texts()  # told that it is handled with the first

    with scopes_disabled():
        first.refresh_from_db()
    status(client, first, "in_review")
    status(client, first, "completed")

    hanako.received()
    assert DONE.format(reference=first.reference) in hanako.texts()
    taro.received()
    assert DONE.format(reference=second.reference) in taro.texts()
    everything = [entry["message"].get("text", "") for entry in taro.transcript()]
    assert f"対応を始めました（{second.reference}）。" in everything
    with scopes_disabled():
        assert Submission.objects.get(pk=second.pk).status == "completed"
