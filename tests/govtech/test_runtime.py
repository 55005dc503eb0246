"""Settings refuse unsafe production starts; health reports; Celery runs tasks for real."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery
from django.core.cache import cache
from django.urls import reverse

from govtech.tasks import HEARTBEAT_KEY, worker_heartbeat

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "GOVTECH_ENV": "production",
    "SECRET_KEY": "a" * 60 + "-production-secret-key-for-the-check",
    "FIELD_ENCRYPTION_KEY": "ZGV2LW9ubHktZmllbGQta2V5LWdvdnRlY2gtMDEyMzQ=",
    "ALLOWED_HOSTS": "govtech.example.jp",
    "DATABASE_URL": "postgres://govtech@127.0.0.1:5432/govtech",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        # Only what a production process would have: not the test run's own switches.
        if k not in PRODUCTION_ENV
        and k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "GOVTECH_ENV"}
    }
    return subprocess.run(
        [sys.executable, *code.split()]
        if code.startswith("manage.py")
        else [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "govtech.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_secret(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_python("import django; django.setup()", env)
    assert result.returncode != 0
    assert f"{missing} is not set" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = run_python("manage.py check --deploy --fail-level WARNING", PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_fails_on_a_malformed_encryption_key():
    env = {**PRODUCTION_ENV, "FIELD_ENCRYPTION_KEY": "not-a-fernet-key"}
    result = run_python("manage.py check --deploy", env)
    assert result.returncode != 0
    assert "govtech.E010" in result.stderr and "Fernet" in result.stderr


def test_production_has_no_simulator():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/simulator/'); print('found')\n"
        "except Resolver404:\n    print('absent')\n"
        "print(settings.SIMULATOR_ENABLED)"
    )
    result = run_python(code, PRODUCTION_ENV)
    assert result.stdout.split() == ["absent", "False"], result.stderr


def test_japanese_and_tokyo_are_the_defaults(settings):
    assert settings.LANGUAGE_CODE == "ja"
    assert settings.TIME_ZONE == "Asia/Tokyo"
    assert [code for code, _name in settings.LANGUAGES] == ["ja", "en"]


@pytest.mark.django_db
def test_healthz_reports_each_part(client):
    worker_heartbeat()
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "celery_worker", "webhook_inbox"}


@pytest.mark.django_db
def test_healthz_says_degraded_when_no_worker_reported(client):
    cache.delete(HEARTBEAT_KEY)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["celery_worker"]["status"] == "stale"


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_fails(client, monkeypatch):
    from govtech import health

    def broken():
        raise RuntimeError("database is gone")

    monkeypatch.setattr(health, "_check_database", broken)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["database"]["status"] == "error"


def _run_ping_through_worker(worker_env: dict[str, str], client_app: Celery, log: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({"DJANGO_SETTINGS_MODULE": "govtech.settings", "GOVTECH_ENV": "local", **worker_env})
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "govtech",
                "worker",
                "-Q",
                "default",
                "--pool",
                "solo",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            result = client_app.send_task("govtech.tasks.ping", args=["hello"], queue="default")
            # Another test may have run an in-process worker, which flags this process
            # as a worker; this process is a client here.
            return result.get(timeout=60, disable_sync_subtasks=False)
        finally:
            worker.terminate()
            worker.wait(timeout=30)


@pytest.mark.slow
def test_celery_runs_a_task_on_the_embedded_filesystem_transport(tmp_path):
    queue = tmp_path / "celery" / "queue"
    results = tmp_path / "celery" / "results"
    control = tmp_path / "celery" / "control"
    for folder in (queue, results, control, tmp_path / "celery" / "processed"):
        folder.mkdir(parents=True)
    client_app = Celery("test-client", broker="filesystem://", backend=f"file://{results}")
    client_app.conf.broker_transport_options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "control_folder": str(control),
    }
    worker_env = {"GOVTECH_VAR_DIR": str(tmp_path), "REDIS_URL": "", "DATABASE_URL": ""}
    assert _run_ping_through_worker(worker_env, client_app, tmp_path / "worker.log") == "pong:hello"


@pytest.mark.slow
@pytest.mark.redis
def test_celery_runs_a_task_on_redis(tmp_path):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL is not set (make test starts Redis)")
    client_app = Celery("test-client", broker=redis_url, backend=redis_url)
    worker_env = {"GOVTECH_VAR_DIR": str(tmp_path), "REDIS_URL": redis_url, "DATABASE_URL": ""}
    assert _run_ping_through_worker(worker_env, client_app, tmp_path / "worker.log") == "pong:hello"


def test_the_embedded_default_migrates_on_a_fresh_clone_without_var(tmp_path):
    """`make demo` on a fresh clone: var/ does not exist yet (it is not in git)."""
    var = tmp_path / "fresh" / "var"
    env = {"GOVTECH_VAR_DIR": str(var), "DATABASE_URL": "", "REDIS_URL": ""}
    migrated = run_python("manage.py migrate --noinput -v 0", env)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    assert (var / "govtech.sqlite3").stat().st_size > 0
