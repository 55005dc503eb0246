"""Disaster mode's menu swap: ``--menu-friends`` friends (100,000), of whom
``--menu-linked`` (30,000) have a per-user (segment) menu, against the simulator served
by gunicorn, through the product's own code (``delivery.richmenus.linking``) and the
real SDK. Switching on sets the disaster menu as the default and bulk-links everyone with
a menu of their own to it (requests of 500); switching off restores each.

Timed: from the switch to the moment the simulator shows the new menu to every linked
friend (and the default changed), for on and for off. Next to it, the floor LINE's
documented rate limits allow, computed from the same run's request count: 1 default
request + ⌈linked / 500⌉ bulk link requests at 2,000 requests/s (the "other endpoints"
limit these endpoints fall under). The senders run as threads of this process (what
``richmenu_links_send`` tasks do on workers), ``linking.SENDERS`` of them.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import time
from pathlib import Path

from tests.bench import servers
from tests.bench.broadcast import LOGS, seed

SLUG = "bench-menus"
CHANNEL_ID = "2000002001"


def _world(site: str, friends: int, linked: int):
    from django_scopes import scopes_disabled

    from delivery.broadcasts.services import segment_save
    from delivery.models import Friend
    from delivery.richmenus import services
    from delivery.richmenus.models import (
        FriendRichMenu,
        RichMenuChannelState,
        RichMenuLinkChunk,
        RichMenuSet,
    )
    from delivery.richmenus.publishing import publication_run
    from delivery.simulator.models import SimulatorChannel
    from govtech.tenancy import tenant_scope

    city, channel = seed(friends, site, slug=SLUG, channel_id=CHANNEL_ID, vacuum=False)
    SimulatorChannel.objects.filter(channel_id=CHANNEL_ID).update(
        rate_limits={"richmenu_write": [1000, 3600], "default": [2000, 1], "bulk_link": [2000, 1]}
    )
    with tenant_scope(city):  # an earlier run's menus, records and requests go first
        FriendRichMenu.objects.all().delete()
        RichMenuLinkChunk.objects.all().delete()
        RichMenuChannelState.objects.all().delete()
        RichMenuSet.objects.all().delete()
        segment = segment_save(actor=None, municipality=city, name="子育て", rules={})
        ids = {}
        for name, options in (
            ("normal", {"is_default": True}),
            ("kids", {"segment": segment, "priority": 1}),
            ("disaster", {"purpose": "disaster"}),
        ):
            menu_set = services.menu_set_save(
                actor=None, municipality=city, channel=channel, name=name, **options
            )
            services.menu_tab_save(
                actor=None,
                menu_set=menu_set,
                key="main",
                title=name,
                chat_bar_text="メニュー",
                size="compact",
                layout="compact-1",
                areas=[{"kind": "text", "value": "こんにちは", "label": name}],
            )
            publication = services.menu_set_publish(actor=None, menu_set=menu_set)
            assert publication_run(publication_id=publication.pk) == "live"
            publication.refresh_from_db()
            ids[name] = (menu_set, publication.first_line_id)
        friend_ids = list(
            Friend.objects.filter(channel=channel).order_by("pk").values_list("pk", flat=True)
        )[:linked]
        kids_set, kids_id = ids["kids"]
        FriendRichMenu.objects.bulk_create(
            [
                FriendRichMenu(
                    municipality=city,
                    friend_id=f,
                    menu_set=kids_set,
                    planned_line_id=kids_id,
                    linked_line_id=kids_id,
                )
                for f in friend_ids
            ],
            batch_size=5000,
        )
    with scopes_disabled():
        user_ids = list(
            Friend.objects.filter(pk__in=friend_ids).values_list("line_user_id", flat=True)
        )
    return city, channel, {k: v[1] for k, v in ids.items()}, user_ids


def _switch(city, channel, *, active: bool) -> tuple[float, int]:
    """Seconds from the switch until LINE has every menu, and the requests sent."""
    from delivery.richmenus import linking
    from govtech.tenancy import tenant_scope

    with tenant_scope(city):
        begun = time.perf_counter()
        linking.disaster_mode_record(channel=channel, active=active)
        requests = int(linking.default_apply(channel=channel))
        requests += linking.links_plan(channel=channel)
    sent: list[int] = []

    def sender() -> None:
        with tenant_scope(city):
            while True:
                count, again_in = linking.link_chunks_send(channel=channel)
                sent.append(count)
                if again_in is None:
                    return
                time.sleep(again_in)

    threads = [threading.Thread(target=sender) for _ in range(linking.SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - begun, requests


def _shown(user_ids: list[str], expected: str) -> int:
    from delivery.simulator.models import SimulatorRichMenuLink

    links = SimulatorRichMenuLink.objects.filter(
        channel__channel_id=CHANNEL_ID, user__user_id__in=user_ids
    )
    return links.filter(rich_menu__rich_menu_id=expected).count()


def run_menus_bench(
    *, friends: int, linked: int, database_url: str, redis_url: str, logs: Path = LOGS
) -> dict:
    """Seed, serve the simulator, switch disaster mode on and off; the figures."""
    from django.conf import settings

    from delivery.richmenus.linking import BULK_LINK_PER_SECOND
    from delivery.simulator.models import SimulatorChannel

    port = servers.free_port()
    site = f"http://127.0.0.1:{port}"
    env = servers.bench_env(
        database_url=database_url,
        redis_url=redis_url,
        site_url=site,
        line_api=f"{site}/simulator/api/line",
        var_dir=Path(tempfile.mkdtemp(prefix="bench-menus-")),
    )
    os.environ.update({k: env[k] for k in ("LINE_API_BASE_URL", "SITE_URL")})
    settings.LINE_API_BASE_URL = settings.LINE_API_DATA_BASE_URL = env["LINE_API_BASE_URL"]
    settings.SITE_URL = site
    web_cmd = servers.gunicorn_command(port=port, workers=4, threads=4)
    with servers.process("menus-simulator", web_cmd, env=env, logs=logs) as web:
        servers.wait_for_http(f"{site}/simulator/api/channels/", web, timeout=60)
        began = time.monotonic()
        city, channel, ids, user_ids = _world(site, friends, linked)
        seeded = time.monotonic() - began
        on_seconds, on_requests = _switch(city, channel, active=True)
        on_shown = _shown(user_ids, ids["disaster"])
        default_on = SimulatorChannel.objects.get(channel_id=CHANNEL_ID).default_rich_menu
        off_seconds, off_requests = _switch(city, channel, active=False)
        off_shown = _shown(user_ids, ids["kids"])
        default_off = SimulatorChannel.objects.get(channel_id=CHANNEL_ID).default_rich_menu
    floor_requests = 1 + math.ceil(linked / 500)
    return {
        "friends": friends,
        "linked": linked,
        "seed_seconds": round(seeded, 1),
        "on_seconds": round(on_seconds, 2),
        "on_requests": on_requests,
        "on_linked_to_disaster": on_shown,
        "on_default_is_disaster": default_on is not None
        and default_on.rich_menu_id == ids["disaster"],
        "off_seconds": round(off_seconds, 2),
        "off_requests": off_requests,
        "off_restored": off_shown,
        "off_default_restored": default_off is not None
        and default_off.rich_menu_id == ids["normal"],
        "floor_requests": floor_requests,
        "floor_seconds": round(floor_requests / BULK_LINK_PER_SECOND, 4),
    }


def healthy(figures: dict) -> bool:
    return (
        figures["on_linked_to_disaster"] == figures["linked"] == figures["off_restored"]
        and figures["on_default_is_disaster"]
        and figures["off_default_restored"]
    )


def table(figures: dict) -> str:
    on = figures["on_linked_to_disaster"] == figures["linked"] and figures["on_default_is_disaster"]
    off = figures["off_restored"] == figures["linked"] and figures["off_default_restored"]
    return "\n".join(
        [
            f"disaster mode menus: {figures['friends']:,} friends, {figures['linked']:,} with a"
            f" menu of their own (seeded in {figures['seed_seconds']} s)",
            f"{'':18}{'seconds':>10}{'requests':>10}{'floor s':>10}  all switched",
            f"{'switch on':18}{figures['on_seconds']:>10}{figures['on_requests']:>10}"
            f"{figures['floor_seconds']:>10}  {on}",
            f"{'switch off':18}{figures['off_seconds']:>10}{figures['off_requests']:>10}"
            f"{figures['floor_seconds']:>10}  {off}",
            f"floor: {figures['floor_requests']} requests (1 default + bulk links of 500) at"
            " LINE's 2,000 requests/s",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.bench.richmenus``: this bench alone (PostgreSQL in DATABASE_URL)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m tests.bench.richmenus")
    parser.add_argument("--friends", type=int, default=100_000)
    parser.add_argument("--linked", type=int, default=30_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--json", type=Path, default=None, help="where the figures go")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("PostgreSQL is needed: set DATABASE_URL")
    os.environ.update(
        servers.bench_env(
            database_url=args.database_url,
            redis_url=args.redis_url or "redis://127.0.0.1:1/0",
            site_url="http://127.0.0.1",
            line_api="http://127.0.0.1",
            var_dir=Path(tempfile.mkdtemp(prefix="bench-menus-")),
        )
    )
    servers.database_ensure(args.database_url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    figures = run_menus_bench(
        friends=args.friends,
        linked=args.linked,
        database_url=args.database_url,
        redis_url=args.redis_url or "redis://127.0.0.1:1/0",
    )
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if healthy(figures) else 1


if __name__ == "__main__":
    import sys

    sys.exit(main())
