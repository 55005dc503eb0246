"""The simulator is an optional app (docs/decisions/0012): where it is not installed no
simulator table is created, no simulator module is loaded, and the product's adapter
answers "no" or refuses clearly; a database migrated when its models were delivery's
keeps its rows."""

import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from psycopg import sql

from delivery import simulator_adapter
from delivery.broadcasts.testers import SimulatorTrialResidents, simulator_channel_for
from delivery.services import line_channel_bind_simulator
from delivery.simulator_adapter import SimulatorUnavailable
from govtech.services import ServiceError
from tests.govtech.test_runtime import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[2]
# What a process of the test run has that a deployment of another kind must not inherit.
RUN_SWITCHES = {
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "GOVTECH_ENV",
    "GOVTECH_VAR_DIR",
    "DATABASE_URL",
    "REDIS_URL",
    "SIMULATOR_ENABLED",
    *PRODUCTION_ENV,
}
WITHOUT_SIMULATOR = [app for app in settings.INSTALLED_APPS if app != "delivery.simulator"]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in RUN_SWITCHES}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**clean, "DJANGO_SETTINGS_MODULE": "govtech.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def sqlite_tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def embedded(var_dir: Path, *, simulator: bool) -> dict[str, str]:
    """The embedded default (SQLite under ``var_dir``), with or without the simulator."""
    return {
        "GOVTECH_ENV": "local",
        "GOVTECH_VAR_DIR": str(var_dir),
        "SIMULATOR_ENABLED": str(int(simulator)),
    }


# --- no tables, no modules where it is not installed -------------------------------------


def test_a_migrate_without_the_simulator_creates_none_of_its_tables(tmp_path):
    manage("migrate", "-v", "0", env=embedded(tmp_path, simulator=False))

    tables = sqlite_tables(tmp_path / "govtech.sqlite3")
    assert "delivery_linechannel" in tables
    assert sorted(name for name in tables if "simulator" in name) == []


@pytest.mark.postgres
def test_production_migrations_create_no_simulator_table():
    """Production settings, a fresh PostgreSQL database, `manage.py migrate`."""
    if connection.vendor != "postgresql":
        pytest.skip("production runs on PostgreSQL")
    db = connection.settings_dict
    name = f"govtech_production_{uuid.uuid4().hex[:8]}"
    server = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"]}
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"
        manage("migrate", "-v", "0", env={**PRODUCTION_ENV, "DATABASE_URL": url})
        with psycopg.connect(**server, dbname=name) as production:
            rows = production.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
            tables = {table for (table,) in rows}
    finally:
        with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    assert "delivery_linechannel" in tables
    assert sorted(table for table in tables if "simulator" in table) == []


def test_production_code_loads_no_simulator_module():
    """Every module of the project imported in a production process: none of the simulator
    comes along (its models could not even load there)."""
    code = (
        "import django, importlib, pkgutil, sys; django.setup()\n"
        "def walk(name):\n"
        "    package = importlib.import_module(name)\n"
        "    for child in pkgutil.iter_modules(getattr(package, '__path__', [])):\n"
        "        if f'{name}.{child.name}' != 'delivery.simulator':\n"
        "            walk(f'{name}.{child.name}')\n"
        "for name in ('govtech', 'procedures', 'delivery', 'reports'):\n"
        "    walk(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('delivery.simulator')))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in RUN_SWITCHES}
    env = {**clean, "DJANGO_SETTINGS_MODULE": "govtech.settings", **PRODUCTION_ENV}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['delivery.simulator_adapter']"


# --- the adapter where the simulator is not installed ---------------------------------


@pytest.fixture
def bound_channel(city):
    """A channel the simulator serves: only the app's absence makes the difference below."""
    return line_channel_bind_simulator(
        actor=None, municipality=city, channel_id="2000000001", name="市"
    )


def test_without_the_simulator_the_adapter_says_no(city, bound_channel):
    with override_settings(INSTALLED_APPS=WITHOUT_SIMULATOR):
        assert simulator_adapter.simulator_enabled() is False
        assert simulator_adapter.simulator_serves(channel_id="2000000001") is False
        assert simulator_adapter.simulator_chat_url(channel_id="2000000001", user_id="U1") is None
        assert simulator_channel_for(municipality=city) is None
    assert simulator_channel_for(municipality=city) == bound_channel


def test_without_the_simulator_binding_a_channel_refuses_clearly(city, bound_channel):
    with override_settings(INSTALLED_APPS=WITHOUT_SIMULATOR):
        with pytest.raises(SimulatorUnavailable, match="有効になっていません"):
            line_channel_bind_simulator(
                actor=None, municipality=city, channel_id="2000000001", name="市"
            )
        with pytest.raises(SimulatorUnavailable, match="有効になっていません"):
            simulator_adapter.simulator_friend_ensure(
                channel_id="2000000001", user_id="U" + "0" * 32, display_name="住民"
            )


def test_without_the_simulator_try_it_refuses_with_a_message_for_staff(
    city, designer, bound_channel
):
    with (
        override_settings(INSTALLED_APPS=WITHOUT_SIMULATOR),
        pytest.raises(ServiceError, match="チャネルが接続されていません"),
    ):
        SimulatorTrialResidents().trial_resident(actor=designer, municipality=city)


def test_the_adapter_binds_and_befriends_where_the_simulator_runs(bound_channel):
    from delivery.simulator.models import SimulatorFriendship

    channel = bound_channel
    simulator_adapter.simulator_friend_ensure(
        channel_id=channel.channel_id, user_id="U" + "0" * 32, display_name="住民"
    )

    assert simulator_adapter.simulator_serves(channel_id=channel.channel_id) is True
    assert simulator_adapter.simulator_serves(channel_id="2999999999") is False
    friendship = SimulatorFriendship.objects.get(user__user_id="U" + "0" * 32)
    assert friendship.channel.channel_access_token == channel.access_token
    with pytest.raises(SimulatorUnavailable, match="つながっていません"):
        simulator_adapter.simulator_friend_ensure(
            channel_id="2999999999", user_id="U" + "0" * 32, display_name="住民"
        )


# --- a database migrated when the simulator's models were delivery's ----------------------


@pytest.mark.slow
def test_a_database_migrated_before_the_move_keeps_its_simulator_rows(tmp_path):
    """The layout delivery's migrations left (``delivery_simulator*`` tables, delivery's
    content types, no simulator migration recorded) is rebuilt from a fresh database;
    migrate renames the tables, rows and references intact."""
    env = embedded(tmp_path, simulator=True)
    manage("migrate", "-v", "0", env=env)
    database = tmp_path / "govtech.sqlite3"
    with closing(sqlite3.connect(database)) as db, db:  # closed, after a commit
        db.execute(
            "INSERT INTO simulator_simulatoruser (user_id, display_name, picture_url,"
            " status_message, language, created_at) VALUES ('U1', '古い住民', '', '', 'ja', 0)"
        )
        for table in sorted(t for t in sqlite_tables(database) if t.startswith("simulator_")):
            db.execute(f'ALTER TABLE "{table}" RENAME TO "delivery_{table[len("simulator_") :]}"')
        db.execute("DELETE FROM django_migrations WHERE app = 'simulator'")
        db.execute(
            "UPDATE django_content_type SET app_label='delivery' WHERE app_label='simulator'"
        )

    manage("migrate", "-v", "0", env=env)

    tables = sqlite_tables(database)
    assert sorted(t for t in tables if t.startswith("delivery_simulator")) == []
    with closing(sqlite3.connect(database)) as db:
        users = db.execute("SELECT user_id, display_name FROM simulator_simulatoruser").fetchall()
        labels = db.execute(
            "SELECT DISTINCT app_label FROM django_content_type WHERE model LIKE 'simulator%'"
        ).fetchall()
        friendship = db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'simulator_simulatorfriendship'"
        ).fetchone()[0]
    assert users == [("U1", "古い住民")]
    assert labels == [("simulator",)]
    assert 'REFERENCES "simulator_simulatoruser"' in friendship
