"""Reminders are sent exactly once per booking and rule: a duplicated task and a worker
restart (a real `celery -A govtech worker` on Redis, PostgreSQL) send nothing twice."""

import os
import subprocess
import sys
import time as clock
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled

from govtech.tenancy import tenant_scope
from procedures.reservations.models import ReminderDelivery, ReminderRule
from procedures.reservations.schedule import TOKYO
from procedures.reservations.services import BookingRequest, booking_cancel, booking_create
from procedures.reservations.tasks import reminders_plan, send_reminder
from procedures.residents.models import Notice
from tests.delivery.line_world import line_world  # noqa: F401 - fixture
from tests.factories import resident as resident_of
from tests.procedures.reservation_fixtures import make_resource

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _booking_tomorrow(city, resident, key: str = "kodomo-hiroba"):
    resource = make_resource(city, key=key, max_per_day_per_resident=2)
    now = timezone.now()
    tomorrow = (now.astimezone(TOKYO) + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    with tenant_scope(city):
        ReminderRule.objects.create(municipality=city, resource=resource, hours_before=72)
        request = BookingRequest(resource=resource, starts_at=tomorrow, resident=resident)
        return booking_create(request=request, now=now)


def test_a_cancelled_booking_gets_no_reminder_and_a_second_run_sends_nothing(city):
    booking = _booking_tomorrow(city, resident_of(city, "line:c:nobody"))
    with tenant_scope(city):
        pending = reminders_plan(now=timezone.now())
        assert reminders_plan(now=timezone.now()) == pending  # planning twice adds nothing
        booking_cancel(booking=booking)
    assert [send_reminder(pk, municipality_id=city.pk) for pk in pending] == ["skipped"]
    assert send_reminder(pending[0], municipality_id=city.pk) == "claimed-elsewhere"


def _worker(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "govtech", "worker", "-Q", "default",
         "--pool", "solo", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _wait_sent(pk: int, timeout: float = 60) -> str:
    """The reminder row's status once it and the notice it wrote are no longer pending
    (the row is marked sent when the notice is written; LINE is called after commit)."""
    deadline = clock.monotonic() + timeout
    while clock.monotonic() < deadline:
        with scopes_disabled():
            status = ReminderDelivery.objects.get(pk=pk).status
            waiting = Notice.objects.filter(status="pending").exists()
        if status != "pending" and not waiting:
            return status
        clock.sleep(0.3)
    return "pending"


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.postgres
def test_reminders_are_sent_once_across_a_duplicated_task_and_a_worker_restart(
    line_world,  # noqa: F811 - the fixture imported above
    city,
    tmp_path,
):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url or connection.vendor != "postgresql":
        pytest.skip("needs REDIS_URL and PostgreSQL (make test starts both)")
    from govtech.celery import app

    taro = line_world("U" + "c" * 32)
    taro.say("予約の確認")
    taro.received()
    from delivery.models import Friend

    with scopes_disabled():
        resident = Friend.objects.select_related("resident").get().resident
    booking = _booking_tomorrow(city, resident)
    app.conf.task_always_eager = False  # these go to the real worker (eager_celery restores)
    with tenant_scope(city):
        (pk, *others) = reminders_plan(now=timezone.now())
    settings_db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_SETTINGS_MODULE="govtech.settings",
        GOVTECH_ENV="local",
        GOVTECH_VAR_DIR=str(tmp_path),
        REDIS_URL=redis_url,
        DATABASE_URL=(
            f"postgres://{settings_db['USER']}@{settings_db['HOST']}:{settings_db['PORT']}/"
            f"{settings_db['NAME']}"
        ),
        LINE_API_BASE_URL=line_world.channel.webhook_url.split("/line/")[0] + "/simulator/api/line",
    )
    log = (tmp_path / "worker.log").open("w")
    worker = _worker(env, log)
    try:
        for _ in range(2):  # a duplicated task
            app.send_task(
                "procedures.reservations.send_reminder",
                args=[pk],
                kwargs={"municipality_id": city.pk},
                queue="default",
            )
        assert _wait_sent(pk) == "sent"
    finally:
        worker.kill()  # no graceful shutdown: a crash
        worker.wait(timeout=30)
    worker = _worker(env, log)
    try:  # as queued by the previous release, without municipality_id (TenantTask)
        app.send_task("procedures.reservations.send_reminder", args=[pk], queue="default")
        app.send_task("procedures.reservations.send_reminder", args=[pk], queue="default")
        clock.sleep(3)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    reminders = [m for m in taro.received() if "ご予約のお知らせ" in m.get("text", "")]
    assert len(reminders) == 1, (tmp_path / "worker.log").read_text()
    assert booking.pk and others == []
