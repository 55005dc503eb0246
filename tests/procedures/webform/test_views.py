"""The web form with Django's test client: every step type, conditions, refusals, the
summary, save and resume, submitting (once), the status link, and what outsiders get."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from govtech.tenancy import tenant_scope
from procedures import runtime
from procedures.models import Booking, Conversation, ResidentUpload, Submission
from procedures.reservations.models import Resource
from procedures.reservations.services import BookingRequest, booking_create
from procedures.services import procedure_create, procedure_publish, procedure_unpublish
from procedures.webform import views
from tests.factories import resident as resident_of
from tests.procedures.reservation_fixtures import NOW, make_resource
from tests.procedures.webform.documents import every_step_document
from tests.procedures.webform.helpers import WebResident, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def form(city, designer):
    make_resource(city)
    procedure = procedure_create(actor=designer, municipality=city, document=every_step_document())
    procedure_publish(actor=designer, procedure=procedure)
    return procedure


def fill_until(resident: WebResident, stop: str = "", *, items=("sofa", "other"), count="3"):
    """Answer each page as a resident would, until the page of step ``stop``."""
    answers = {
        "agree": lambda: resident.choose("yes"),
        "name": lambda: resident.answer("山田太郎"),
        "count": lambda: resident.answer(count),
        "mail": lambda: resident.answer("taro@example.jp"),
        "tel": lambda: resident.answer("03-1234-5678"),
        "zip": lambda: resident.answer("150-0002"),
        "day": lambda: resident.answer("2026-12-05"),
        "at": lambda: resident.answer("10:30"),
        "size": lambda: resident.choose("small"),
        "items": lambda: resident.tick(*items),
        "photo": lambda: resident.post(
            {"answer": SimpleUploadedFile("p.png", png_bytes(), content_type="image/png")}
        ),
        "place": lambda: resident.post({"address": "渋谷区神南1-1"}),
        "car": lambda: resident.choose("no"),
        "visit": resident.pick_first_option,  # the day, the time, then the party size
        "note": lambda: resident.answer(""),
    }
    resident.start()
    for _ in range(40):
        if resident.step_id in ("", stop, "confirm") or resident.step_id not in answers:
            return resident
        before = resident.html
        answers[resident.step_id]()
        assert "wf-error-summary" not in resident.html, before
    raise AssertionError("the form never reached its end")


def submit(resident: WebResident):
    value = re.search(r'name="submit" value="([^"]+)"', resident.html).group(1)
    return resident.post({"submit": value})


def only_submission():
    with scopes_disabled():
        return Submission.objects.get()


def test_the_start_page_is_served_for_a_live_procedure_without_creating_anyone(city, form):
    response = Client().get("/p/demo-city/every-step/")
    assert response.status_code == 200
    assert "すべての種類の質問がある手続きです。" in response.content.decode()
    with scopes_disabled():
        assert not Conversation.objects.exists()


def test_a_resident_answers_every_step_type_and_submits_from_the_web(city, form):
    resident = fill_until(WebResident())
    assert resident.step_id == "confirm"
    for label in ("氏名", "山田太郎", "ソファ、その他", "渋谷区神南1-1", "Change"):
        assert label in resident.html or label == "Change"
    submit(resident)
    assert resident.path == "/p/demo-city/every-step/done/"
    submission = only_submission()
    assert submission.reference in resident.html
    assert submission.channel == "web"
    answers = submission.answers
    assert answers["name"] == "山田太郎" and answers["count"] == 3
    assert answers["day"] == "2026-12-05" and answers["at"] == "10:30"
    assert answers["items"] == ["sofa", "other"] and answers["agree"] is True
    assert answers["place"] == {
        "latitude": None,
        "longitude": None,
        "address": "渋谷区神南1-1",
        "title": "",
    }
    assert "note" not in answers
    with scopes_disabled():
        assert ResidentUpload.objects.get().submission == submission
        booking = Booking.objects.get()
        assert booking.submission_id == submission.pk
        assert submission.resident.handle.startswith("web:")


def test_the_first_question_shows_the_message_before_it(city, form):
    resident = WebResident()
    resident.start()
    assert resident.step_id == "agree"
    assert "はじめにお読みください。" in resident.html
    assert '<html lang="ja">' in resident.html


def test_a_when_condition_leaves_out_a_step(city, form):
    resident = fill_until(WebResident(), items=("sofa",))
    assert resident.step_id == "confirm"
    assert "写真" not in resident.html


def test_an_end_step_finishes_without_a_submission(city, form):
    resident = fill_until(WebResident(), "mail", count="11")
    assert resident.step_id == "too_many"
    assert "11点以上は電話でお申し込みください" in resident.html
    with scopes_disabled():
        assert not Submission.objects.exists()


def test_a_refused_answer_shows_the_engines_reason_linked_to_the_field(city, form):
    resident = fill_until(WebResident(), "mail")
    resident.answer("not-an-address")
    html = resident.html
    assert resident.step_id == "mail"
    reason = "taro@example.jp"  # the engine's message gives the example
    assert 'class="wf-error-summary" role="alert"' in html
    assert re.search(r'<a href="#answer">[^<]*' + re.escape(reason), html)
    assert 'id="answer"' in html and 'aria-describedby="answer-error"' in html
    assert 'value="not-an-address"' in html
    assert "<title>エラー:" in html


def test_a_date_before_the_allowed_range_is_refused(city, form):
    resident = fill_until(WebResident(), "day")
    assert 'min="2026-12-02"' in resident.html
    resident.answer("2026-12-01")
    assert resident.step_id == "day"
    assert "2026年12月2日" in resident.html and "wf-error-message" in resident.html


def test_a_required_multi_choice_needs_a_tick(city, form):
    resident = fill_until(WebResident(), "items")
    resident.post({})
    assert resident.step_id == "items"
    assert "1つ以上" in resident.html or "wf-error-message" in resident.html


def test_a_file_that_is_not_a_photo_is_refused_as_in_line(city, form):
    resident = fill_until(WebResident(), "photo")
    upload = SimpleUploadedFile("x.png", b"not a picture", content_type="image/png")
    resident.post({"answer": upload})
    assert resident.step_id == "photo"
    assert "wf-error-summary" in resident.html
    with scopes_disabled():
        assert not ResidentUpload.objects.exists()


def test_a_map_pin_is_stored_with_the_address(city, form):
    resident = fill_until(WebResident(), "place")
    resident.post({"address": "公園の入口", "latitude": "35.66", "longitude": "139.70"})
    with scopes_disabled():
        state = Conversation.objects.get().state
    assert state["answers"]["place"]["latitude"] == 35.66
    assert state["answers"]["place"]["address"] == "公園の入口"


def test_back_asks_the_previous_question_with_its_answer(city, form):
    resident = fill_until(WebResident(), "count")
    resident.back()
    assert resident.step_id == "name"
    assert 'value="山田太郎"' in resident.html


def test_a_change_link_asks_that_question_again_then_the_summary(city, form):
    resident = fill_until(WebResident())
    resident.post({"change": "name"})
    assert resident.step_id == "name"
    resident.answer("山田花子")
    assert resident.step_id == "confirm"
    assert "山田花子" in resident.html


def test_an_address_of_another_step_leads_to_the_current_one(city, form):
    resident = fill_until(WebResident(), "mail")
    resident.open("/p/demo-city/every-step/q/confirm/")
    assert resident.step_id == "mail"


def test_save_and_resume_on_another_device(city, form):
    resident = fill_until(WebResident(), "tel")
    resident.open("/p/demo-city/every-step/save/")
    link = re.search(r'id="resume-link" type="text" value="([^"]+)"', resident.html).group(1)
    other_device = WebResident()
    other_device.open(link)
    assert other_device.step_id == "tel"
    other_device.answer("03-1234-5678")
    assert other_device.step_id == "zip"


def test_a_forged_resume_link_does_not_work(city, form):
    response = Client().get("/p/demo-city/every-step/resume/forged:code/")
    assert response.status_code == 404


def test_a_second_submit_is_harmless(city, form):
    resident = fill_until(WebResident())
    value = re.search(r'name="submit" value="([^"]+)"', resident.html).group(1)
    page = resident.path
    first = resident.client.post(page, {"submit": value})
    second = resident.client.post(page, {"submit": value}, follow=True)
    assert first.status_code == 302
    assert second.status_code == 200
    assert second.request["PATH_INFO"] == "/p/demo-city/every-step/done/"
    with scopes_disabled():
        assert Submission.objects.count() == 1


def test_cancel_sends_nothing_and_says_so(city, form):
    resident = fill_until(WebResident(), "mail")
    resident.post({"command": "cancel"})
    assert resident.path == "/p/demo-city/every-step/"
    assert "何も送信されていません" in resident.html or "cancelled" in resident.html
    with scopes_disabled():
        assert not Submission.objects.exists()


def test_the_status_link_words_the_status_as_the_chat_and_shows_answers_only_to_the_sender(
    city, form
):
    resident = fill_until(WebResident())
    submit(resident)
    link = re.search(r'href="(http[^"]+/status/[^"]+)"', resident.html).group(1)
    own = resident.client.get(link).content.decode()
    stranger = Client().get(link).content.decode()
    submission = only_submission()
    for page in (own, stranger):
        assert f"受付番号: {submission.reference}" in page
        assert "状況: " in page
    assert "山田太郎" in own and "山田太郎" not in stranger


def test_a_forged_status_link_is_404(city, form):
    assert Client().get("/p/demo-city/status/1/").status_code == 404


def test_another_municipalitys_procedure_is_404(city, other_town, form, outsider):
    assert Client().get("/p/other-town/every-step/").status_code == 404
    assert Client().post("/p/other-town/every-step/").status_code == 404
    assert Client().get("/p/nowhere/every-step/").status_code == 404


def test_a_status_link_of_another_municipality_is_404(city, other_town, form):
    resident = fill_until(WebResident())
    submit(resident)
    link = re.search(r'href="http://testserver(/p/demo-city/status/[^"]+)"', resident.html)
    moved = link.group(1).replace("/p/demo-city/", "/p/other-town/")
    assert Client().get(moved).status_code == 404


def test_a_draft_or_unpublished_procedure_is_404(city, designer, form):
    draft = procedure_create(
        actor=designer, municipality=city, document=every_step_document() | {"key": "draft-only"}
    )
    assert draft.live_version is None
    assert Client().get("/p/demo-city/draft-only/").status_code == 404
    procedure_unpublish(actor=designer, procedure=form)
    assert Client().get("/p/demo-city/every-step/").status_code == 404


def test_posts_need_the_csrf_token(city, form):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/p/demo-city/every-step/").status_code == 403


def test_starting_too_often_from_one_address_is_refused(city, form, monkeypatch):
    monkeypatch.setattr(views, "STARTS_PER_MINUTE", 2)
    responses = [Client().post("/p/demo-city/every-step/") for _ in range(3)]
    assert [r.status_code for r in responses] == [302, 302, 429]


def test_a_slot_taken_meanwhile_is_refused_at_submit_and_asked_again(city, form):
    resident = fill_until(WebResident())
    with tenant_scope(city):
        visit = Conversation.objects.get().state["answers"]["visit"]
        resource = Resource.objects.get()
        starts_at = datetime.fromisoformat(visit["start"])
        for handle, party in (("line:c:A", 2), ("line:c:B", 1)):  # the last 3 places
            request = BookingRequest(
                resource=resource,
                starts_at=starts_at,
                party_size=party,
                resident=resident_of(city, handle),
            )
            booking_create(request=request, now=NOW)
    submit(resident)
    html = resident.html
    assert 'action="/p/demo-city/every-step/q/visit/"' in html
    assert "wf-error-summary" in html and "埋まりました" in html
    assert "キャンセル待ち" not in html  # the waitlist is the chat's
    resident.post({"answer": resident.options()[0]})  # another time, on the page it names
    assert resident.step_id in ("visit", "confirm")
    with scopes_disabled():
        assert not Submission.objects.exists()


def test_a_web_submission_is_shaped_like_one_from_line(city, designer, form):
    web = fill_until(WebResident())
    submit(web)
    with scopes_disabled():
        from_web = Submission.objects.get()
        upload_ref = from_web.answers["photo"]["ref"]
    chat = ChatResident(city)
    chat.say("すべての項目")
    answers = dict(from_web.answers)
    for step_id in ("agree",):
        chat.tap(step_id, "yes")
    for text in (
        "山田太郎",
        "3",
        "taro@example.jp",
        "03-1234-5678",
        "150-0002",
        "12月5日",
        "10:30",
    ):
        chat.say(text)
    chat.tap("size", "small")
    chat.say("ソファ、その他")
    chat.send(runtime.engine.ImageInput(ref=upload_ref, content_type="image/png"))
    chat.say("渋谷区神南1-1")
    chat.tap("car", "no")
    for data in chat.visit_choices(answers["visit"]):
        chat.send(runtime.engine.PostbackInput(data))
    chat.say("スキップ")
    chat.say("送信")
    from_line = chat.last.submission
    assert from_line is not None
    fields = ("procedure_id", "version_id", "fee", "language", "status", "department_id", "is_test")
    assert {f: getattr(from_line, f) for f in fields} == {f: getattr(from_web, f) for f in fields}
    assert from_line.answers == from_web.answers
    assert (from_web.channel, from_line.channel) == ("web", "line")


class ChatResident:
    """The same answers through the runtime as the LINE webhook hands them over."""

    def __init__(self, municipality):
        self.municipality = municipality
        self.person = resident_of(municipality, "line:test:chat")
        self.last = None

    def send(self, inp):
        self.last = runtime.resident_input(
            municipality=self.municipality, resident=self.person, inp=inp, channel="line"
        )
        assert not self.last.notice, self.last.notice
        return self.last

    def say(self, text):
        return self.send(runtime.engine.TextInput(text))

    def tap(self, step_id, value):
        return self.send(runtime.engine.PostbackInput(f"gt|a|{step_id}|{value}"))

    def visit_choices(self, visit):
        day = visit["start"][:10]
        yield f"gt|a|visit|d:{day}"
        yield f"gt|a|visit|s:{visit['start']}"
        yield f"gt|a|visit|p:{visit['party_size']}"


def test_the_console_shows_a_web_submission_as_sent_from_the_web_form(city, form, reviewer, client):
    resident = fill_until(WebResident())
    submit(resident)
    submission = only_submission()
    client.force_login(reviewer)
    inbox = client.get(reverse("admin:procedures_submission_changelist"), {"queue": "all"})
    row = re.search(rf"{submission.reference}</a>.*?</td>", inbox.content.decode()).group(0)
    assert "Webフォーム" in row
    case = client.get(reverse("admin:procedures_submission_change", args=[submission.pk]))
    assert "<dd>Webフォーム</dd>" in case.content.decode()


def test_an_application_left_too_long_starts_again_and_says_why(city, form):
    resident = fill_until(WebResident(), "mail")
    with time_machine.travel(NOW + timedelta(hours=25), tick=False):
        resident.answer("taro@example.jp")
        assert resident.path == "/p/demo-city/every-step/"
        assert "はじめから" in resident.html
        resident.start()
        assert resident.step_id == "agree"  # a new application, from the first question


def test_the_page_speaks_the_language_of_the_application(city, form):
    resident = WebResident()
    resident.client.cookies["django_language"] = "en"
    resident.open()
    resident.start()
    assert '<html lang="en">' in resident.html
    assert "Continue" in resident.html


def test_an_answer_from_a_page_left_behind_in_another_tab_lands_nowhere(city, form):
    first_tab = fill_until(WebResident(), "mail")
    second_tab = WebResident(client=first_tab.client)
    second_tab.open(first_tab.path)
    second_tab.answer("taro@example.jp")  # the conversation moves on to 電話番号
    first_tab.answer("hanako@example.jp")  # posted to the mail page it still shows
    assert first_tab.step_id == "tel"
    with scopes_disabled():
        assert Conversation.objects.get().state["answers"]["mail"] == "taro@example.jp"


def test_inputs_meant_for_a_step_the_conversation_has_left_are_not_applied(city, form):
    fill_until(WebResident(), "mail")
    with scopes_disabled():
        person = Conversation.objects.get().resident
    reply = runtime.conversation_inputs(
        municipality=city,
        resident=person,
        inputs=[runtime.engine.TextInput("jiro@example.jp")],  # a good answer to mail…
        step_id="tel",  # …but typed on the page of another step (a tab that raced ahead)
    )
    assert reply.conversation is not None and reply.notice == ""
    with scopes_disabled():
        state = Conversation.objects.get().state
    assert state["step_id"] == "mail" and "mail" not in state["answers"]
