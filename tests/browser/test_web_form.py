"""The residents' web form in a browser: a procedure with every step type filled in end
to end on a phone-sized screen (the map pin with JavaScript), axe-core's WCAG 2.1 AA
rules on every page it shows (0 violations), and the same procedure completed with
JavaScript off. The screenshots are the guide's (docs/web-form-guide.md)."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from procedures.models import Submission
from procedures.services import procedure_create, procedure_publish
from tests.procedures.reservation_fixtures import make_resource
from tests.procedures.webform.documents import every_step_document
from tests.procedures.webform.helpers import png_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TILES = "https://tiles.example.jp/{z}/{x}/{y}.png"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def form(city, designer, settings):
    settings.MAP_TILE_URL = TILES
    make_resource(city)
    procedure = procedure_create(actor=designer, municipality=city, document=every_step_document())
    procedure_publish(actor=designer, procedure=procedure)
    return procedure


def tile() -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (256, 256), "#eef2e8")
    ImageDraw.Draw(image).line((0, 128, 256, 128), fill="#ffffff", width=14)
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def axe_violations(tab) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page, one line each."""
    # Evaluated through the browser's debugging protocol: a <script> tag added to the
    # page would be an inline script, which the Content-Security-Policy refuses.
    tab.evaluate(AXE.read_text())
    found = tab.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return {
                passed: result.passes.length,
                violations: result.violations.map(v =>
                    v.id + ": " + v.help + " @ " + v.nodes.map(n => n.target.join(" ")).join(", ")),
            };
        }""",
        WCAG_21_AA,
    )
    assert found["passed"] > 5, "axe-core checked next to nothing"
    return [f"{tab.url} {line}" for line in found["violations"]]


def step_of(tab) -> str:
    parts = tab.url.rstrip("/").split("/")
    return parts[-1] if len(parts) > 2 and parts[-2] == "q" else ""


def answer_page(tab, step: str, *, javascript: bool) -> None:
    """Answer the page of ``step`` through its labels, as a resident would."""
    day = (timezone.localdate() + timedelta(days=3)).isoformat()
    typed = {
        "name": "山田太郎",
        "count": "3",
        "mail": "taro@example.jp",
        "tel": "03-1234-5678",
        "zip": "150-0002",
        "day": day,
        "at": "10:30",
    }
    chosen = {"agree": "同意する", "size": "小", "car": "いいえ"}
    if step in typed:
        tab.locator("#answer").fill(typed[step])
    elif step in chosen:
        tab.get_by_label(chosen[step], exact=True).check()
    elif step == "items":
        tab.get_by_label("ソファ", exact=True).check()
        tab.get_by_label("その他", exact=True).check()
    elif step == "photo":
        tab.locator("#answer").set_input_files(
            files=[{"name": "sofa.png", "mimeType": "image/png", "buffer": png_bytes()}]
        )
    elif step == "place":
        tab.locator("#answer").fill("渋谷区神南1-1")
        if javascript:
            expect(tab.locator("img.leaflet-tile-loaded").first).to_be_visible()
            tab.locator("#answer-map").click(position={"x": 180, "y": 120})
            expect(tab.locator("[data-pin-status]")).to_contain_text("ピンを置きました")
    elif step == "visit":
        tab.locator("input[name=answer]").first.check()
    tab.get_by_role("button", name="次へ").click()


def fill_in(tab, live_server, *, javascript: bool, audit=None, shoot=None) -> None:
    tab.goto(f"{live_server.url}/p/demo-city/every-step/")
    if audit:
        audit(tab)
    if shoot:
        shoot(tab, "web-form-start")
    tab.get_by_role("button", name="申請をはじめる").click()
    seen = set()
    for _ in range(30):
        step = step_of(tab)
        if step == "confirm":
            return
        if audit and (step not in seen or step == "visit"):
            audit(tab)
        if shoot and step == "items":
            shoot(tab, "web-form-question")
        seen.add(step)
        answer_page(tab, step, javascript=javascript)
    raise AssertionError(f"the form never reached its summary: {tab.url}")


def test_every_step_type_on_a_phone_passes_axe_and_submits(
    browser, live_server, form, doc_screenshot
):
    context = browser.new_context(viewport=PHONE, locale="ja-JP", is_mobile=True)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.route(TILES.split("{")[0] + "**", lambda route: route.fulfill(body=tile()))
    problems: list[str] = []
    try:
        fill_in(
            tab,
            live_server,
            javascript=True,
            audit=lambda t: problems.extend(axe_violations(t)),
            shoot=doc_screenshot,
        )
        # A refused answer: the error summary takes the focus and links to the field.
        tab.get_by_role("button", name="変更 氏名").click()
        tab.locator("#answer").fill("")
        tab.get_by_role("button", name="次へ").click()
        summary = tab.locator("[data-error-summary]")
        expect(summary).to_be_focused()
        problems.extend(axe_violations(tab))
        doc_screenshot(tab, "web-form-error")
        summary.get_by_role("link").click()
        expect(tab.locator("#answer")).to_be_focused()
        tab.locator("#answer").fill("山田太郎")
        tab.get_by_role("button", name="次へ").click()
        expect(tab.get_by_role("heading", level=1)).to_have_text("回答内容をご確認ください。")
        problems.extend(axe_violations(tab))
        doc_screenshot(tab, "web-form-summary", full_page=True)
        tab.get_by_role("button", name="送信").click()
        expect(tab.get_by_role("heading", name="申請を送信しました")).to_be_visible()
        problems.extend(axe_violations(tab))
        doc_screenshot(tab, "web-form-done")
        tab.get_by_role("link", name="/status/").click()
        expect(tab.get_by_role("heading", level=1)).to_contain_text("申請状況")
        problems.extend(axe_violations(tab))
    finally:
        context.close()
    assert problems == []
    with scopes_disabled():
        submission = Submission.objects.get()
    assert submission.channel == "web"
    assert submission.answers["place"]["latitude"] is not None  # the pin
    assert submission.answers["place"]["address"] == "渋谷区神南1-1"


def test_without_javascript_the_same_procedure_can_be_completed(browser, live_server, form):
    context = browser.new_context(viewport=PHONE, locale="ja-JP", java_script_enabled=False)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    try:
        fill_in(tab, live_server, javascript=False)
        tab.get_by_role("button", name="送信").click()
        expect(tab.get_by_role("heading", name="申請を送信しました")).to_be_visible()
    finally:
        context.close()
    with scopes_disabled():
        submission = Submission.objects.get()
    assert submission.answers["place"] == {
        "latitude": None,
        "longitude": None,
        "address": "渋谷区神南1-1",
        "title": "",
    }
