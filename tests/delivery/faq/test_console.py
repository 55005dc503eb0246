"""The FAQ in the console: a sorting list imported, bad lines listed, the hit rate shown,
an unanswered question added to the FAQ in one click, who may import."""

from datetime import timedelta
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from delivery.faq.models import FaqDay, FaqEntry, UnansweredQuestion
from govtech.tenancy import tenant_scope
from tests.factories import staff_member

DATA = Path(__file__).parent / "data"


def upload(client, content: bytes, kind="garbage"):
    return client.post(
        reverse("admin:delivery_faqentry_import"),
        {"kind": kind, "file": SimpleUploadedFile("gomi.csv", content, content_type="text/csv")},
    )


def test_a_sorting_list_is_imported_and_the_hit_rate_shown(client, city, admin_user):
    client.force_login(admin_user)
    response = upload(client, (DATA / "gomi_cp932.csv").read_bytes())
    assert response.status_code == 302
    with tenant_scope(city):
        assert FaqEntry.objects.count() == 40
        FaqDay.objects.create(
            municipality=city,
            day=timezone.localdate() - timedelta(days=1),
            answered=8,
            suggested=1,
            unanswered=1,
        )
    listing = client.get(reverse("admin:delivery_faqentry_changelist")).content.decode()
    assert "ペットボトル" in listing and "80%" in listing


def test_bad_lines_are_listed_and_nothing_changes(client, city, admin_user):
    client.force_login(admin_user)
    response = upload(client, "ゴミの品目,分別区分\n傘,\n,燃やすごみ\n".encode())
    body = response.content.decode()
    assert (
        response.status_code == 200
        and "分別区分が空欄です。" in body
        and "質問（品目）が空欄です。" in body
    )
    with tenant_scope(city):
        assert not FaqEntry.objects.exists()


def test_an_unanswered_question_becomes_an_entry_in_one_click(client, city, admin_user):
    now = timezone.now()
    with tenant_scope(city):
        asked = UnansweredQuestion.objects.create(
            municipality=city,
            normalized="いぬのとうろく",
            text="犬の登録",
            count=3,
            first_asked_at=now,
            last_asked_at=now,
        )
    client.force_login(admin_user)
    listing = client.get(reverse("admin:delivery_unansweredquestion_changelist")).content.decode()
    add = f"{reverse('admin:delivery_faqentry_add')}?from_unanswered={asked.pk}"
    assert add.replace("&", "&amp;") in listing or add in listing
    form = client.get(add).content.decode()
    assert 'value="犬の登録"' in form
    saved = client.post(
        add,
        {
            "kind": "general",
            "question": "犬の登録",
            "answer": "窓口で登録します。",
            "synonyms": "いぬの登録、畜犬登録\nドッグ登録",
            "is_active": "on",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    with tenant_scope(city):
        entry = FaqEntry.objects.get()
        asked.refresh_from_db()
    assert asked.answered_by == entry and entry.search_keys
    assert entry.synonyms == ["いぬの登録", "畜犬登録", "ドッグ登録"]  # words, not JSON
    form = client.get(reverse("admin:delivery_faqentry_change", args=[entry.pk])).content
    assert "いぬの登録、畜犬登録、ドッグ登録" in form.decode()


def test_a_reviewer_may_look_but_not_import(client, city):
    reviewer = staff_member(city, "reviewer", email="r@demo-city.example")
    client.force_login(reviewer)
    assert client.get(reverse("admin:delivery_faqentry_changelist")).status_code == 200
    assert client.get(reverse("admin:delivery_faqentry_import")).status_code == 404
