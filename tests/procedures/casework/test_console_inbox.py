"""The reviewer's inbox: queues and counts, filters, search, sorting, pages, bulk actions,
and a constant number of queries whatever the data."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from govtech.models import Role
from govtech.services import staff_set_roles
from govtech.tenancy import tenant_scope
from procedures.casework.models import CaseEvent, ProcedureWorkflow
from procedures.casework.services import case_assign, case_transition
from procedures.models import Notice, Submission
from tests.factories import DepartmentFactory, staff_member
from tests.procedures.casework.conftest import NOW
from tests.procedures.casework.console_helpers import make_submission, published

pytestmark = pytest.mark.django_db
INBOX = "/admin/procedures/submission/"


@pytest.fixture
def dogs(city, designer):
    return published(city, designer, "dogs", "犬の登録")


@pytest.fixture
def cats(city, designer):
    return published(city, designer, "cats", "猫の届出")


def refs(response) -> set[str]:
    body = response.content.decode()
    return {s.reference for s in Submission.objects.all() if f">{s.reference}<" in body}


def get(client, **params):
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        return client.get(INBOX, params)


def test_the_inbox_replaces_the_submission_list_under_its_name():
    assert reverse("admin:procedures_submission_changelist") == INBOX


def test_queues_hold_what_their_names_say_and_count_it(client, city, reviewer, dogs, city_scope):
    new = make_submission(dogs, resident="A")
    mine = make_submission(dogs, resident="B")
    reviewing = make_submission(dogs, resident="C")
    done = make_submission(dogs, resident="D")
    case_assign(actor=reviewer, submission=mine, assignee=reviewer)
    case_transition(actor=reviewer, submission=reviewing, to="in_review")
    case_transition(actor=reviewer, submission=done, to="rejected", reason="重複")
    client.force_login(reviewer)
    expected = {
        "new": {new.reference},
        "mine": {mine.reference},
        "in_review": {reviewing.reference},
        "done": {done.reference},
        "all": {new.reference, mine.reference, reviewing.reference, done.reference},
        "returned": set(),
    }
    for queue, wanted in expected.items():
        response = get(client, queue=queue)
        assert refs(response) == wanted, queue
        body = response.content.decode()
        assert f'data-queue="{queue}"' in body
    body = get(client).content.decode()
    for label in ("新着", "自分の担当", "審査中", "住民の修正待ち", "期限超過", "完了", "すべて"):
        assert label in body
    counts = get(client).context["queues"]
    assert {name: count for name, _label, count in counts} == {
        "new": 1,
        "mine": 1,
        "in_review": 1,
        "returned": 0,
        "overdue": 0,
        "done": 1,
        "all": 4,
    }


def test_overdue_shows_past_the_procedures_target_days(client, city, reviewer, dogs, city_scope):
    ProcedureWorkflow.objects.create(municipality=city, procedure=dogs, target_days=3)
    late = make_submission(dogs, resident="A", now=NOW - timedelta(days=5))
    on_time = make_submission(dogs, resident="B")
    client.force_login(reviewer)
    response = get(client, queue="overdue")
    assert refs(response) == {late.reference}
    body = get(client, queue="all").content.decode()
    assert body.count("cw-badge cw-overdue") == 1
    assert on_time.reference in body


@pytest.mark.parametrize(
    ("params", "wanted"),
    [
        ({"procedure": "cats"}, {"cat"}),
        ({"status": "in_review"}, {"reviewed"}),
        ({"submitted_from": "2026-11-20", "submitted_to": "2026-11-20"}, {"old"}),
        ({"assignee": "me"}, {"assigned"}),
        ({"assignee": "none"}, {"cat", "web", "old", "reviewed"}),
        ({"channel": "web"}, {"web"}),
        ({"q": "佐藤"}, {"cat"}),
        ({"q": "さくら"}, {"web"}),
        ({"tests": "1"}, {"cat", "web", "old", "reviewed", "assigned", "trial"}),
    ],
)
def test_each_filter_narrows_the_list(client, city, reviewer, dogs, cats, params, wanted):
    with tenant_scope(city):
        made = {
            "cat": make_submission(cats, resident="A", owner="佐藤一郎"),
            "web": make_submission(dogs, resident="B", name="さくら", channel="web"),
            "old": make_submission(dogs, resident="C", now=NOW - timedelta(days=4)),
            "reviewed": make_submission(dogs, resident="D"),
            "assigned": make_submission(dogs, resident="E"),
            "trial": make_submission(dogs, resident="F", is_test=True),
        }
        case_transition(actor=reviewer, submission=made["reviewed"], to="in_review")
        case_assign(actor=reviewer, submission=made["assigned"], assignee=reviewer)
    params = dict(params, queue="all")
    if params.get("procedure") == "cats":
        params["procedure"] = cats.pk
    if params.get("assignee") == "me":
        params["assignee"] = reviewer.pk
    client.force_login(reviewer)
    with tenant_scope(city):
        assert refs(get(client, **params)) == {made[name].reference for name in wanted}


def test_text_search_finds_answers_and_resident_names(client, city, reviewer, dogs, city_scope):
    by_answer = make_submission(dogs, resident="A", owner="鈴木花子")
    by_name = make_submission(dogs, resident="B", name="タナカ")
    make_submission(dogs, resident="C")
    client.force_login(reviewer)
    assert refs(get(client, queue="all", q="鈴木")) == {by_answer.reference}
    assert refs(get(client, queue="all", q="タナカ")) == {by_name.reference}
    assert refs(get(client, queue="all", q=by_name.reference)) == {by_name.reference}


def test_sorting_orders_the_rows(client, city, reviewer, dogs, city_scope):
    first = make_submission(dogs, resident="A", now=NOW - timedelta(days=2))
    second = make_submission(dogs, resident="B", now=NOW - timedelta(days=1))
    client.force_login(reviewer)

    def order(**params):
        rows = get(client, queue="all", **params).context["rows"]
        return [row.submission.reference for row in rows]

    assert order() == [second.reference, first.reference]
    assert order(sort="oldest") == [first.reference, second.reference]
    assert order(sort="reference") == sorted([first.reference, second.reference])
    case_transition(actor=reviewer, submission=first, to="in_review")  # touched last
    assert order(sort="activity")[0] == first.reference


def test_fifty_rows_a_page(client, city, reviewer, dogs, city_scope):
    for number in range(53):
        make_submission(dogs, resident=f"R{number}")
    client.force_login(reviewer)
    first = get(client, queue="all")
    assert len(first.context["rows"]) == 50
    assert "page=2" in first.content.decode()
    second = get(client, queue="all", page=2)
    assert len(second.context["rows"]) == 3
    assert not refs(first) & refs(second)


def test_the_home_pages_status_links_still_filter(client, city, reviewer, dogs, city_scope):
    waiting = make_submission(dogs, resident="A")
    reviewing = make_submission(dogs, resident="B")
    case_transition(actor=reviewer, submission=reviewing, to="in_review")
    client.force_login(reviewer)
    response = get(client, status__exact="submitted", is_test__exact="0")
    assert refs(response) == {waiting.reference}


def _world(city, designer, reviewer, size: int):
    """``size`` submissions over three procedures, several residents and assignees."""
    department = DepartmentFactory(municipality=city)
    procedures = [
        published(city, designer, f"p{n}", f"手続{n}", department=department) for n in range(3)
    ]
    colleague = staff_member(city, Role.REVIEWER)
    with tenant_scope(city):
        ProcedureWorkflow.objects.create(municipality=city, procedure=procedures[0], target_days=2)
        for number in range(size):
            submission = make_submission(
                procedures[number % 3], resident=f"R{number % 7}", name=f"住民{number % 7}"
            )
            if number % 4 == 1:
                case_assign(actor=reviewer, submission=submission, assignee=reviewer)
            if number % 4 == 2:
                case_assign(actor=reviewer, submission=submission, assignee=colleague)
            if number % 5 == 3:
                case_transition(actor=reviewer, submission=submission, to="in_review")


# Session, user, memberships and their departments, vendors (the console's context),
# colleagues, procedures, the counts of every queue, the page's total, the page's rows
# (procedure, workflow, resident, assignee joined in), whether there are report categories
# (the link to the report map), and the session's save.
INBOX_QUERIES = 14


@pytest.mark.parametrize("size", [5, 60])
def test_a_page_costs_the_same_queries_whatever_the_data(
    client, city, designer, reviewer, size, django_assert_num_queries
):
    _world(city, designer, reviewer, size)
    client.force_login(reviewer)
    get(client, queue="all")  # sessions and caches warm
    with django_assert_num_queries(INBOX_QUERIES):
        response = get(client, queue="all", sort="due")
    assert len(response.context["rows"]) == min(size, 50)
    filtered = {"queue": "mine", "q": "山田", "assignee": reviewer.pk, "sort": "activity"}
    with django_assert_num_queries(INBOX_QUERIES):
        response = get(client, **filtered, submitted_from="2026-11-01", channel="line")
    assert response.context["rows"]


# --- bulk actions --------------------------------------------------------------------------


def bulk(client, data):
    return client.post(INBOX, data)


def test_bulk_assign_to_me_and_to_a_colleague(client, city, reviewer, dogs, city_scope):
    one, two = make_submission(dogs, resident="A"), make_submission(dogs, resident="B")
    colleague = staff_member(city, Role.REVIEWER)
    client.force_login(reviewer)
    response = bulk(client, {"action": "assign_me", "ids": [one.pk, two.pk]})
    assert response.status_code == 302
    assert set(Submission.objects.values_list("assignee", flat=True)) == {reviewer.pk}
    bulk(client, {"action": "assign", "ids": [two.pk], "assignee": colleague.pk})
    two.refresh_from_db()
    assert two.assignee == colleague
    assert CaseEvent.objects.filter(kind="assigned").count() == 3


def test_bulk_move_does_the_allowed_and_lists_the_refused(client, city, reviewer, dogs, city_scope):
    fresh = make_submission(dogs, resident="A")
    finished = make_submission(dogs, resident="B")
    case_transition(actor=reviewer, submission=finished, to="rejected", reason="重複")
    client.force_login(reviewer)
    response = client.post(
        INBOX,
        {
            "action": "move",
            "to": "in_review",
            "ids": [fresh.pk, finished.pk],
            f"seen_{fresh.pk}": "submitted",
            f"seen_{finished.pk}": "rejected",
        },
        follow=True,
    )
    fresh.refresh_from_db()
    finished.refresh_from_db()
    assert (fresh.status, finished.status) == ("in_review", "rejected")
    shown = list(response.context["messages"])
    warnings = [str(m) for m in shown if m.level_tag == "warning"]
    assert len(warnings) == 1
    assert finished.reference in warnings[0] and fresh.reference not in warnings[0]
    assert "1件を処理しました。" in [str(m) for m in shown if m.level_tag == "success"]


def test_bulk_never_touches_submissions_the_reviewer_does_not_review(
    client, city, reviewer, dogs, city_scope
):
    roads = DepartmentFactory(municipality=city, code="roads")
    parks = DepartmentFactory(municipality=city, code="parks")
    theirs = published(city, reviewer, "roads-x", "道路", department=roads)
    mine = published(city, reviewer, "parks-x", "公園", department=parks)
    staff_set_roles(
        actor=None, municipality=city, user=reviewer, roles=[Role.REVIEWER], departments=[parks]
    )
    other = make_submission(theirs, resident="A")
    own = make_submission(mine, resident="B")
    client.force_login(reviewer)
    bulk(client, {"action": "assign_me", "ids": [other.pk, own.pk]})
    other.refresh_from_db()
    own.refresh_from_db()
    assert other.assignee is None and own.assignee == reviewer


def test_a_bulk_double_click_moves_and_tells_once(client, city, reviewer, dogs, city_scope):
    submission = make_submission(dogs, resident="A")
    client.force_login(reviewer)
    data = {"action": "move", "to": "accepted", "ids": [submission.pk]}
    data[f"seen_{submission.pk}"] = "submitted"
    bulk(client, data)
    bulk(client, data)
    assert CaseEvent.objects.filter(kind="status").count() == 1
    assert Notice.objects.count() == 1
