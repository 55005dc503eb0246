"""「LINEで試す」: a designer registers their own LINE account as a tester with a one-time
code sent from LINE, and tries a draft there without the simulator's Try it. The simulator
stands in for LINE. Drafts reach only the tester; residents get the published version;
test submissions stay out of the inbox; another municipality's staff get nothing."""

import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from delivery.broadcasts.models import StaffTestResident
from delivery.models import Friend
from procedures.builder import registry
from procedures.models import Procedure, Submission
from procedures.services import procedure_create, procedure_publish
from tests.delivery.line_world import CHANNEL_ID, SimResident, line_world  # noqa: F401
from tests.procedures.docs import pet_registration

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("line_world")]
PUBLISHED_QUESTION = "飼い主の氏名を入力してください"
DRAFT_QUESTION = "【下書き】飼い主のお名前を教えてください"


@pytest.fixture
def procedure(city, designer):
    """Published with the old question; the draft asks the new one."""
    made = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=made)
    draft = pet_registration()
    draft["steps"][0]["prompt"]["ja"] = DRAFT_QUESTION
    with scopes_disabled():
        Procedure.objects.filter(pk=made.pk).update(draft=draft, draft_revision=2)
        made.refresh_from_db()
    return made


@pytest.fixture
def no_simulator_try(monkeypatch):
    """As in production: the builder's simulator Try it is not there."""
    monkeypatch.setitem(registry._slots, "trial", None)
    monkeypatch.delitem(registry._slots, "trial")


def issue_code(client, user) -> str:
    client.force_login(user)
    page = client.post(reverse("admin:delivery_stafftestresident_mine"), {"action": "issue"})
    return re.search(r"テスター登録 \d{8}", page.content.decode()).group(0)


def phone(live_server, user_id) -> SimResident:
    person = SimResident(live_server.url, CHANNEL_ID, user_id)
    person.follow()
    person.received()
    return person


def registered_tester(client, designer, live_server) -> SimResident:
    mine = phone(live_server, "U" + "d" * 32)
    mine.say(issue_code(client, designer))
    assert "テスター" in "".join(m.get("text", "") for m in mine.received())
    return mine


def try_line(client, procedure):
    url = reverse("admin:procedures_procedure_builder_try_line", args=[procedure.pk])
    return client.post(url, follow=True)


def test_a_code_sent_from_line_registers_that_account_as_the_staff_members_tester(
    client, designer, live_server
):
    registered_tester(client, designer, live_server)

    with scopes_disabled():
        link = StaffTestResident.objects.get()
        assert link.staff == designer and link.friend.is_test and link.friend.resident.is_test
    page = client.get(reverse("admin:delivery_stafftestresident_mine")).content.decode()
    assert 'data-testid="tester-links"' in page


def test_a_code_works_once(client, designer, live_server):
    code = issue_code(client, designer)
    phone(live_server, "U" + "d" * 32).say(code)
    stranger = phone(live_server, "U" + "e" * 32)

    stranger.say(code)

    assert "使えません" in stranger.texts() or "使えません" in "".join(
        m.get("text", "") for m in stranger.received()
    )
    with scopes_disabled():
        assert not Friend.objects.get(line_user_id="U" + "e" * 32).is_test


def test_try_in_line_sends_the_draft_to_the_tester_while_residents_get_the_published_version(
    client, designer, procedure, live_server, no_simulator_try
):
    mine = registered_tester(client, designer, live_server)
    resident = phone(live_server, "U" + "a" * 32)

    response = try_line(client, procedure)

    assert "LINE" in str(next(iter(response.context["messages"])))
    assert DRAFT_QUESTION in [m.get("text") for m in mine.received()]
    mine.say("犬の届出")  # the keyword starts the draft again for the tester
    assert DRAFT_QUESTION in [m.get("text") for m in mine.received()]
    resident.say("犬の届出")
    asked = [m.get("text") for m in resident.received()]
    assert PUBLISHED_QUESTION in asked and DRAFT_QUESTION not in asked


def test_the_testers_submission_is_a_test_kept_out_of_the_inbox(
    client, designer, admin_user, procedure, live_server
):
    mine = registered_tester(client, designer, live_server)
    try_line(client, procedure)

    for text in ["山田太郎", "1", "スキップ", "送信"]:
        mine.say(text)

    assert "受付番号" in "".join(m.get("text", "") for m in mine.received())
    with scopes_disabled():
        submission = Submission.objects.get()
    assert submission.is_test and submission.version is None
    client.force_login(admin_user)
    inbox = client.get(reverse("admin:procedures_submission_changelist")).content.decode()
    assert submission.reference not in inbox


def test_stopping_gives_the_tester_the_published_version_again(
    client, designer, procedure, live_server
):
    mine = registered_tester(client, designer, live_server)
    builder = reverse("admin:procedures_procedure_builder", args=[procedure.pk])
    assert 'data-testid="try-end-button"' not in client.get(builder).content.decode()
    try_line(client, procedure)
    mine.received()
    assert 'data-testid="try-end-button"' in client.get(builder).content.decode()

    client.post(reverse("admin:procedures_procedure_builder_try_end", args=[procedure.pk]))
    mine.say("犬の届出")

    assert PUBLISHED_QUESTION in [m.get("text") for m in mine.received()]


def test_the_tester_can_stop_from_line(client, designer, procedure, live_server):
    mine = registered_tester(client, designer, live_server)
    try_line(client, procedure)
    mine.received()

    mine.say("テスト終了")
    assert "テストを終了" in "".join(m.get("text", "") for m in mine.received())
    mine.say("犬の届出")

    assert PUBLISHED_QUESTION in [m.get("text") for m in mine.received()]


def test_without_a_tester_account_nothing_is_sent_and_the_page_says_how(
    client, designer, procedure, no_simulator_try
):
    client.force_login(designer)

    response = try_line(client, procedure)

    text = str(next(iter(response.context["messages"])))
    assert "テスター" in text and reverse("admin:delivery_stafftestresident_mine") in text


def test_an_outsiders_code_links_nothing_and_they_cannot_try_the_citys_draft(
    client, outsider, procedure, live_server
):
    stranger = phone(live_server, "U" + "f" * 32)
    stranger.say(issue_code(client, outsider))  # a code of another municipality

    assert "使えません" in "".join(m.get("text", "") for m in stranger.received())
    with scopes_disabled():
        assert not StaffTestResident.objects.exists()
    url = reverse("admin:procedures_procedure_builder_try_line", args=[procedure.pk])
    assert client.post(url).status_code == 404
