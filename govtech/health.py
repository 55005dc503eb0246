"""/healthz: is this installation able to serve residents right now?"""

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from govtech.celery import app as celery_app
from govtech.tasks import HEARTBEAT_KEY


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "vendor": connection.vendor}


def _check_cache() -> dict:
    cache.set("govtech:healthz", "1", timeout=10)
    if cache.get("govtech:healthz") != "1":
        return {"status": "error", "error": "cache did not return the value written"}
    return {"status": "ok"}


def _check_broker() -> dict:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return {"status": "ok", "transport": conn.transport_cls}


def _check_worker() -> dict:
    raw = cache.get(HEARTBEAT_KEY)
    if not raw:
        return {"status": "stale", "last_heartbeat": None}
    last = datetime.fromisoformat(raw)
    age = (timezone.now() - last).total_seconds()
    fresh = age <= settings.CELERY_HEARTBEAT_MAX_AGE.total_seconds()
    return {"status": "ok" if fresh else "stale", "last_heartbeat": raw, "age_seconds": round(age)}


# Checks other apps add (delivery: the webhook inbox), registered in their ready(): the
# core does not import them. Each returns a dict with a "status" like the ones above.
_registered: dict[str, Callable[[], dict]] = {}


def health_check_register(name: str, check: Callable[[], dict]) -> None:
    """Add a non-essential check: when not "ok" it makes the status "degraded" (200)."""
    _registered[name] = check


def _run(check) -> dict:
    try:
        return check()
    except Exception as exc:
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, cache and broker answer; 503 when one of them fails.

    A stale worker, or a webhook inbox nobody drains, makes the status "degraded" but
    keeps 200: taking the web out of a load balancer would not bring a worker back, and
    residents can still be answered.
    """
    checks = {
        "database": _run(_check_database),
        "cache": _run(_check_cache),
        "broker": _run(_check_broker),
        "celery_worker": _run(_check_worker),
        **{name: _run(check) for name, check in _registered.items()},
    }
    essential = ("database", "cache", "broker")
    if not all(checks[name]["status"] == "ok" for name in essential):
        status, code = "error", 503
    elif any(check["status"] != "ok" for check in checks.values()):
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, "checks": checks}, status=code)
