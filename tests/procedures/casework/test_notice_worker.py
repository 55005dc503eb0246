"""A status message reaches the resident exactly once, across a double click and a real
Celery worker killed while LINE was accepting the push (and started again)."""

import os
import signal
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled

from delivery.models import OutboundMessage
from delivery.services import line_channel_bind_simulator
from delivery.simulator import api as simulator_api
from govtech.celery import app as celery_app
from govtech.tenancy import tenant_scope
from procedures import engine
from procedures.casework.services import CaseRefused, case_transition
from procedures.residents import tasks as notice_tasks
from procedures.residents.models import Notice
from procedures.runtime import resident_input
from procedures.services import procedure_create, procedure_publish
from tests.delivery.broadcast_world import make_friends, received
from tests.procedures.docs import pet_registration
from tests.worker import celery_worker_start, celery_worker_stop, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def line_city(live_server, settings, city, designer, transactional_db):
    if not os.environ.get("REDIS_URL") or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and REDIS_URL (make test starts both)")
    settings.SITE_URL = live_server.url
    settings.LINE_API_BASE_URL = f"{live_server.url}/simulator/api/line"
    with celery_app.connection_for_write() as conn:  # only our queue: others share Redis
        conn.default_channel.queue_purge("default")
    channel = line_channel_bind_simulator(
        actor=None, municipality=city, channel_id="2000000131", name="デモ市公式LINE"
    )
    procedure = procedure_create(actor=designer, municipality=city, document=pet_registration())
    procedure_publish(actor=designer, procedure=procedure)
    return channel


def _submitted_by(friend_resident, city):
    reply = None
    for text in ("犬の届出", "山田太郎", "住所", "スキップ", "送信"):
        reply = resident_input(
            municipality=city, resident=friend_resident, inp=engine.TextInput(text)
        )
    return reply.submission


class HeldPush:
    """The simulator accepts the first push (it is in the resident's chat), then holds its
    answer until released: the worker that sent it is mid-send, waiting for LINE."""

    def __init__(self, monkeypatch):
        self.accepted, self.release = threading.Event(), threading.Event()
        original = simulator_api._send

        def send(*args, **kwargs):
            delivery = original(*args, **kwargs)
            if not self.accepted.is_set():
                self.accepted.set()
                self.release.wait(timeout=60)
            return delivery

        monkeypatch.setattr(simulator_api, "_send", send)


def test_a_status_message_is_sent_once_across_a_double_click_and_a_killed_worker(
    line_city, city, reviewer, live_server, monkeypatch, tmp_path
):
    (user_id,) = make_friends(line_city, "cw", 1)
    with scopes_disabled():
        friend_resident = line_city.friends.get(line_user_id=user_id).resident
    submission = _submitted_by(friend_resident, city)
    held = HeldPush(monkeypatch)
    log = tmp_path / "worker.log"
    worker = celery_worker_start(live_server_url=live_server.url, queues="default", log=log)
    try:
        with tenant_scope(city):
            case_transition(
                actor=reviewer, submission=submission, to="accepted", expected="submitted"
            )
            with pytest.raises(CaseRefused):  # the second click of a double click
                case_transition(
                    actor=reviewer, submission=submission, to="accepted", expected="submitted"
                )
        assert held.accepted.wait(timeout=60), "the worker never pushed:\n" + log.read_text()
        worker.send_signal(signal.SIGKILL)  # LINE has the message; the worker never hears back
        worker.wait(timeout=10)
        held.release.set()
        with scopes_disabled():
            assert Notice.objects.get().status == "pending"
            # The dead worker's lease on its outbound row runs out (CLAIM_LEASE later);
            # until then nobody else may send the row it was sending.
            leased = OutboundMessage.objects.filter(claimed_until__isnull=False)
            assert leased.count() == 1
            leased.update(claimed_until=timezone.now() - timedelta(seconds=1))

        worker = celery_worker_start(live_server_url=live_server.url, queues="default", log=log)
        # What beat does every minute: notices still pending a while later are sent again.
        monkeypatch.setattr(notice_tasks, "RESEND_AFTER", notice_tasks.timedelta(0))
        assert notice_tasks.send_stale_notices() == 1
        wait_until(lambda: _notice_status() == "sent", timeout=60, log=log)
    finally:
        celery_worker_stop(worker)

    assert received([user_id]) == {user_id: 1}
    with scopes_disabled():
        notice = Notice.objects.get()
    assert notice.attempts == 2  # the second attempt was answered 409: LINE had it already
    assert submission.reference in notice.prompts[0]["text"]


def _notice_status() -> str:
    with scopes_disabled():
        return Notice.objects.get().status
