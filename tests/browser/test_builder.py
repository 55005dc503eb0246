"""A designer builds, previews, tries and publishes a procedure; a resident completes it.

Everything is done by clicking in the real pages: the login form, the builder, the LINE
simulator's chat page (signed webhooks → engine → the real SDK → the emulated Messaging
API). Screenshots are kept as CI artifacts and copied into docs/images for the
designers' guide (docs/designers-guide.md).
"""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from procedures.models import Conversation, Procedure, Submission
from tests.delivery.line_world import CHANNEL_ID, line_world  # noqa: F401 (fixture)
from tests.factories import PASSWORD, DepartmentFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.usefixtures("line_world", "eager_celery"),
]

KEYWORD = "住民票の郵送"


@pytest.fixture
def shoot(doc_screenshot):
    """The builder's screenshots, named ``builder-<name>`` in the artifacts and the guide."""
    return lambda tab, name: doc_screenshot(tab, f"builder-{name}")


def log_in(page, base: str, user) -> None:
    page.goto(f"{base}/admin/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def editor(page):
    return page.get_by_test_id("editor")


def add_step(page, kind: str, step_id: str, prompt: str, label: str) -> None:
    page.get_by_test_id(f"palette-{kind}").click()
    form = editor(page)
    form.get_by_test_id("field-prompt-ja").fill(prompt)
    form.get_by_test_id("field-label-ja").fill(label)
    form.get_by_test_id("field-id").fill(step_id)
    form.get_by_test_id("field-id").press("Tab")  # ids are applied on change
    expect(page.locator(f"[data-testid=step-item][data-step-id={step_id}]")).to_be_visible()


def add_option(page, label: str, value: str | None = None) -> None:
    form = editor(page)
    form.get_by_test_id("add-option").click()
    row = form.get_by_test_id("option-row").last
    row.get_by_test_id("option-label-ja").fill(label)
    if value:
        row.get_by_test_id("option-value").fill(value)


def select_step(page, step_id: str) -> None:
    item = page.locator(f"[data-testid=step-item][data-step-id={step_id}]")
    item.get_by_test_id("step-select").click()


def build_the_procedure(page) -> None:
    add_step(page, "text", "name", "氏名を入力してください", "氏名")
    add_step(page, "text", "kana", "氏名のふりがなを入力してください", "ふりがな")
    editor(page).get_by_test_id("validation-script").select_option("hiragana")
    add_step(page, "text", "address", "送付先の住所を入力してください", "住所")
    add_step(page, "postal_code", "postal_code", "郵便番号を入力してください", "郵便番号")
    add_step(page, "date", "birth_date", "生年月日を選んでください", "生年月日")
    add_step(page, "number", "copies", "必要な通数を入力してください", "通数")
    editor(page).get_by_test_id("validation-min").fill("1")
    editor(page).get_by_test_id("validation-max").fill("10")
    add_step(page, "choice", "purpose", "使用目的を選んでください", "使用目的")
    add_option(page, "年金の手続き")
    add_option(page, "就職")
    add_option(page, "その他", value="other")
    add_step(page, "text", "purpose_other", "使用目的を具体的に入力してください", "その他の目的")
    # The condition editor: ask this step only when 使用目的 is その他.
    form = editor(page)
    form.get_by_test_id("add-rule").click()
    form.get_by_test_id("rule-step").select_option("purpose")
    form.get_by_test_id("rule-op").select_option("is")
    form.get_by_test_id("rule-value").select_option("other")
    consent = "請求は本人または同一世帯の方に限ります。同意しますか"
    add_step(page, "consent", "consent", consent, "同意")


def set_procedure_settings(page) -> None:
    page.get_by_test_id("procedure-settings").click()
    form = editor(page)
    form.get_by_test_id("field-keywords").fill(KEYWORD)
    form.get_by_test_id("field-completion-ja").fill("受付番号 {reference} で受け付けました")
    form.get_by_test_id("fee-mode").select_option("fixed")
    form.get_by_test_id("fee-amount").fill("300")
    form.get_by_test_id("fee-quantity").select_option("copies")


def reorder_with_the_keyboard(page) -> None:
    """Move 氏名 down and back up with its buttons, as a keyboard user would."""
    page.locator("[data-step-id=name] [data-testid=move-down]").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("step-item").nth(1)).to_have_attribute("data-step-id", "name")
    page.locator("[data-step-id=name] [data-testid=move-up]").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("step-item").first).to_have_attribute("data-step-id", "name")


def reorder_by_dragging(page) -> None:
    """Drag ふりがな above 氏名, then 氏名 back to the top (HTML5 drag and drop)."""
    page.locator("[data-step-id=kana]").drag_to(page.locator("[data-step-id=name]"))
    expect(page.get_by_test_id("step-item").first).to_have_attribute("data-step-id", "kana")
    page.locator("[data-step-id=name]").drag_to(page.locator("[data-step-id=kana]"))
    expect(page.get_by_test_id("step-item").first).to_have_attribute("data-step-id", "name")


def last_bot_message(page):
    return page.locator("[data-testid=message][data-direction=out]").last


def quick_reply(page, text: str):
    return page.get_by_test_id("quick-reply").filter(has_text=text)


def send_text(page, text: str, then_expect: str) -> None:
    page.get_by_test_id("text-input").fill(text)
    page.get_by_test_id("send-button").click()
    expect(last_bot_message(page)).to_contain_text(then_expect)


def complete_as_a_resident(page, base: str) -> None:
    page.goto(f"{base}/simulator/")
    page.get_by_test_id("channel-select").select_option(CHANNEL_ID)
    page.get_by_test_id("new-user-name").fill("山田 花子")
    page.get_by_test_id("create-user").click()
    expect(page.get_by_test_id("user-select").locator("option:checked")).to_have_text("山田 花子")
    page.get_by_test_id("follow-button").click()
    expect(page.get_by_test_id("friendship-status")).to_have_text("友だち")

    send_text(page, KEYWORD, "氏名を入力してください")
    send_text(page, "山田 花子", "ふりがな")
    send_text(page, "やまだ はなこ", "送付先の住所")
    send_text(page, "東京都新宿区西新宿2-8-1", "郵便番号")
    send_text(page, "160-0023", "生年月日")
    page.get_by_test_id("quick-reply").and_(
        page.locator("[data-action-type=datetimepicker]")
    ).click()
    page.get_by_test_id("datetime-input").fill("1985-04-01")
    page.get_by_test_id("datetime-submit").click()
    expect(last_bot_message(page)).to_contain_text("必要な通数")
    send_text(page, "2", "使用目的を選んでください")
    quick_reply(page, "その他").click()
    expect(last_bot_message(page)).to_contain_text("使用目的を具体的に")
    send_text(page, "パスポートの申請", "同意しますか")
    quick_reply(page, "同意する").click()

    confirmation = page.get_by_test_id("flex-bubble").last
    expect(confirmation).to_contain_text("その他の目的")
    expect(confirmation).to_contain_text("600")
    confirmation.get_by_test_id("flex-button").filter(has_text="送信").click()
    expect(last_bot_message(page)).to_contain_text("受付番号", timeout=15_000)


def test_designer_builds_previews_tries_and_publishes_and_a_resident_completes_it(
    page, live_server, city, designer, shoot
):
    base = live_server.url
    DepartmentFactory(municipality=city, code="shimin", name="市民課")
    log_in(page, base, designer)

    # From scratch: key, title and department.
    page.goto(f"{base}/admin/procedures/procedure/")
    page.get_by_test_id("new-from-scratch").click()
    page.get_by_label("タイトル").fill("住民票の写し郵送請求")
    page.get_by_label("キー").fill("juminhyo-mail")
    page.get_by_label("担当課").select_option(label="市民課")
    page.get_by_test_id("create-procedure").click()
    expect(page.get_by_test_id("builder")).to_be_visible()

    build_the_procedure(page)
    set_procedure_settings(page)
    shoot(page, "settings")
    reorder_with_the_keyboard(page)
    reorder_by_dragging(page)

    # The live preview of the choice step, as LINE shows it.
    select_step(page, "purpose")
    preview = page.get_by_test_id("preview")
    expect(preview.get_by_test_id("preview-message").first).to_contain_text(
        "使用目的を選んでください"
    )
    expect(preview.get_by_test_id("quick-reply").filter(has_text="その他")).to_be_visible()
    shoot(page, "preview")
    select_step(page, "purpose_other")
    expect(editor(page).get_by_test_id("rule-value")).to_have_value("other")
    shoot(page, "condition")

    page.get_by_test_id("save-button").click()
    expect(page.get_by_test_id("save-status")).to_contain_text("保存しました")
    expect(page.get_by_test_id("step-item")).to_have_count(10)
    shoot(page, "steps")

    # Try it: the simulator opens on the designer's test resident, running the draft.
    page.get_by_test_id("try-button").click()
    page.wait_for_url(f"{base}/simulator/?*")
    expect(last_bot_message(page)).to_contain_text("氏名を入力してください")
    shoot(page, "try-it")
    with scopes_disabled():
        trial = Conversation.objects.get(is_test=True)
        procedure = Procedure.objects.get(key="juminhyo-mail")
    assert trial.version is None and trial.test_document == procedure.draft
    assert procedure.draft["steps"][7]["when"] == {"==": [{"var": "purpose"}, "other"]}
    assert procedure.draft["steps"][1]["validation"] == {"script": "hiragana"}
    assert procedure.draft["fee"] == {"*": [{"var": "copies"}, 300]}

    # Publish with a change note; the check shows no problems.
    page.goto(f"{base}/admin/procedures/procedure/{procedure.pk}/publish/")
    expect(page.get_by_test_id("publish-ready")).to_be_visible()
    page.get_by_label("変更内容のメモ").fill("新規作成")
    shoot(page, "publish")
    page.get_by_test_id("publish-button").click()
    expect(page.get_by_test_id("version-row")).to_have_count(1)
    expect(page.get_by_test_id("versions")).to_contain_text("新規作成")

    complete_as_a_resident(page, base)
    with scopes_disabled():
        submission = Submission.objects.get(is_test=False)
    expect(page.get_by_test_id("message-list")).to_contain_text(
        f"受付番号 {submission.reference} で受け付けました"
    )
    assert submission.answers["purpose"] == "other"
    assert submission.answers["purpose_other"] == "パスポートの申請"
    assert submission.answers["birth_date"] == "1985-04-01"
    assert submission.fee == 600
