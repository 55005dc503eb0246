"""Japanese everywhere a clerk looks: every console page, as each role, in Japanese, with
no English and none of Django's default admin phrases (tests/console_language.py)."""

from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from delivery.broadcasts import services as broadcasts
from delivery.broadcasts.models import ReminderRule, Segment
from delivery.broadcasts.testers import staff_test_resident_link
from delivery.models import EventStatus, LineChannel, WebhookEvent
from govtech.console import console
from govtech.models import Municipality, User, Vendor
from govtech.tenancy import tenant_scope
from procedures.catalog.models import Template, TemplateVersion
from procedures.models import Procedure
from procedures.reservations.models import Booking, Resource
from procedures.reservations.services import slot_row
from tests.console_language import problems_in, unchanged_form_data
from tests.factories import line_friend
from tests.factories import resident as resident_of

pytestmark = pytest.mark.django_db

ROLES = {
    "admin": "admin@demo-city.example",
    "designer": "designer@demo-city.example",
    "reviewer": "reviewer@demo-city.example",
    "broadcaster": "broadcaster@demo-city.example",
    "operator": "operator@govtech.example",
    # an admin of a municipality with nothing in it yet: every list's empty state
    "other_town_admin": "admin@other-town.example",
}


@pytest.fixture
def demo(django_db_setup):
    """The demo installation, plus one row of every console model seed_demo leaves empty."""
    call_command("seed_demo", verbosity=0)
    city = Municipality.objects.get(slug="demo-city")
    with tenant_scope(city):
        _one_of_everything(city)
    for email in ROLES.values():
        user = User.objects.get(email=email)
        Authenticator.objects.get_or_create(
            user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": "x"}}
        )
    return city


def _one_of_everything(city) -> None:
    channel = LineChannel.objects.get()
    friend = line_friend(channel, "U" + "1" * 32, display_name="山田 花子")
    broadcaster = User.objects.get(email=ROLES["broadcaster"])
    staff_test_resident_link(actor=None, staff=broadcaster, friend=friend)
    WebhookEvent.objects.create(
        municipality=city,
        channel=channel,
        webhook_event_id="01J0000000000000000000000",
        event_type="message",
        timestamp=1,
        payload={},
        status=EventStatus.FAILED,
        error="timeout",
    )
    # seed_demo defines 地区 (area: north, south, east, west) for the survey demo.
    Segment.objects.create(municipality=city, name="北地区", rules={})
    ReminderRule.objects.create(
        municipality=city,
        channel=channel,
        name="燃えるごみ",
        attribute_key="area",
        attribute_value="北",
        message="明日は{date}、燃えるごみの日です",
    )
    broadcasts.broadcast_create(
        actor=broadcaster,
        channel=channel,
        title="粗大ごみのお知らせ",
        items=[{"type": "text", "text": "お知らせです"}],
    )
    _booking(city)  # submissions: seed_demo's reviewer's day has them


def _booking(city) -> None:
    resource = Resource.objects.order_by("pk").first()
    starts_at = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    slot = slot_row(resource=resource, starts_at=starts_at + timedelta(days=7))
    Booking.objects.create(
        municipality=city,
        resource=resource,
        slot=slot,
        resident=resident_of(city, "test:U1"),
        contact_name="山田",
    )


def console_pages(municipality) -> list[str]:
    """Change list, add and change form of every registered model, and the custom pages."""
    urls = [reverse("admin:index")]
    for model in console._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"{info}_changelist"), reverse(f"{info}_add")]
        with scopes_disabled():
            first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse(f"{info}_change", args=[first.pk]))
    return urls + _custom_pages()


def _custom_pages() -> list[str]:
    with scopes_disabled():
        procedure = Procedure.objects.filter(live_version__isnull=False).order_by("pk").first()
        resource = Resource.objects.order_by("pk").first()
        template = Template.objects.order_by("pk").first()
        rule = ReminderRule.objects.order_by("pk").first()
        survey = Procedure.objects.filter(key="citizen-survey-2026").order_by("pk").first()
    catalog = reverse("admin:procedures_template_changelist")
    return [
        reverse("admin:procedures_procedure_builder_new"),
        reverse("admin:procedures_procedure_builder", args=[procedure.pk]),
        reverse("admin:procedures_procedure_publish", args=[procedure.pk]),
        reverse("admin:procedures_procedure_versions", args=[procedure.pk]),
        reverse("admin:procedures_procedure_version", args=[procedure.pk, 1]),
        reverse("admin:procedures_procedure_change", args=[procedure.pk]) + "?advanced=1",
        reverse("admin:procedures_submission_workflow", args=[procedure.pk]),
        f"{catalog}publish/",
        f"{catalog}upload/",
        f"{catalog}updates/",
        f"{catalog}{template.pk}/import/",
        reverse("admin:procedures_resource_changelist") + f"{resource.pk}/calendar/",
        reverse("admin:procedures_resource_changelist") + f"{resource.pk}/book/",
        reverse("admin:delivery_reminderrule_import_dates", args=[rule.pk]),
        reverse("admin:delivery_stafftestresident_mine"),
        reverse("admin:reports_survey_results", args=[survey.pk]),
        reverse("admin:reports_survey_texts", args=[survey.pk, "comment"]),
        reverse("admin:delivery_disaster_settings"),
        reverse("admin:delivery_disaster_switch", args=["on"]),
        reverse("admin:delivery_disaster_switch", args=["off"]),
        reverse("admin:delivery_disaster_shelters"),
        reverse("admin:delivery_disaster_check_new"),
    ]


def data_values() -> tuple[str, ...]:
    """Names and notes typed by people (vendors, template authors, the audit log's
    "system" actor, LINE's event types): data, not the console's wording."""
    with scopes_disabled():
        values = {vendor.name for vendor in Vendor.objects.all()}
        for template in Template.objects.all():
            values |= {template.publisher_name, template.licence}
        values |= set(TemplateVersion.objects.values_list("notes", flat=True))
        values |= set(WebhookEvent.objects.values_list("event_type", flat=True))
    values.add("system")
    return tuple(sorted((v for v in values if v), key=len, reverse=True))


def walk(client, email: str, municipality) -> tuple[list[str], list]:
    """GET every console page; POST every add form empty, to see its error messages."""
    client.force_login(User.objects.get(email=email))
    data = data_values()
    seen, problems = [], []
    for url in console_pages(municipality):
        for response in _responses(client, url):
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            seen.append(url)
            problems += problems_in(url, response.content.decode(), data=data)
    return seen, problems


def _responses(client, url: str):
    page = client.get(url)
    yield page
    if url.endswith("/add/") and page.status_code == 200:
        # Save pressed on the empty form: the page comes back with its error messages.
        yield client.post(url, unchanged_form_data(page.content.decode()))


@pytest.mark.parametrize("role", list(ROLES))
def test_every_console_page_is_in_japanese(client, demo, role):
    seen, problems = walk(client, ROLES[role], demo)
    assert len(seen) >= 10, seen  # the walk reached the pages, not a login redirect
    assert not problems, "\n".join(sorted({str(p) for p in problems}))


def test_the_walk_fails_on_an_english_column_header(client, demo, monkeypatch):
    from procedures.admin import ProcedureAdmin

    monkeypatch.setattr(ProcedureAdmin.procedure_title, "short_description", "TITLE")
    _seen, problems = walk(client, ROLES["designer"], demo)
    assert {p.url for p in problems if p.text == "TITLE"} == {
        reverse("admin:procedures_procedure_changelist")
    }


def test_the_walk_fails_on_django_default_wording(client, demo, settings):
    settings.LOCALE_PATHS = []  # without the project's rewording, Django's own shows
    from django.utils.translation import trans_real

    trans_real._translations = {}
    trans_real._active = trans_real.Local()
    try:
        _seen, problems = walk(client, ROLES["designer"], demo)
    finally:
        trans_real._translations = {}
        trans_real._active = trans_real.Local()
    texts = {p.text for p in problems}
    assert "変更する 手続き を選択" in texts


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ("<h1>変更する 手続き を選択</h1>", ["変更する 手続き を選択"]),
        ("<div><h2>最近行った操作</h2><p>利用不可</p></div>", ["最近行った操作", "利用不可"]),
        ('<input type="submit" value="Save">', ["Save"]),
        ('<a href="#" title="Open the builder">ビルダー</a>', ["Open the builder"]),
        (
            '<table id="result_list"><thead><tr><th>TITLE</th></tr></thead>'
            "<tbody><tr><th>bulky-waste</th><td>Owner</td></tr></tbody></table>",
            ["TITLE"],
        ),
        ('<p>発行元: <span translate="no">govtech starter</span></p>', []),
        ('<p class="help">例：{"type": "text"}、LINE の CSV</p>', []),
        ('<div class="readonly">{"label": "Owner"}</div><p>全5件</p>', []),
        (
            '<button type="submit" class="default" data-testid="publish">下書きを公開する</button>'
            '<button type="submit" class="button default">公開する</button>',
            ["publish"],
        ),
    ],
)
def test_the_check_finds_english_and_django_phrases_but_not_data(html, found):
    assert [problem.text for problem in problems_in("/page/", html)] == found
