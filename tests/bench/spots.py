"""Spot search bench: the nearest 10 of N spots (100,000 by default) on PostgreSQL, next
to a full scan (every spot of the kinds read, the distance computed for each, sorted) in
the same run, both answering the same random places.

``run_spots_bench(spots=…)`` returns the figures (Django set up on PostgreSQL);
``python -m tests.bench.spots`` runs it alone. The spots are seeded once per database:
a dense city (35.6–35.8 N, 139.6–139.9 E) and 5 % spread over the country, four
datasets. Each answer is checked equal to the full scan's, so a fast wrong answer
cannot pass. Figures: p50/p95 milliseconds and SQL statements per search.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import servers

CITY = "bench-spots"
SEED_BATCH = 5000
KINDS = ("facility", "shelter", "aed", "toilet")


def seed(count: int):
    from delivery.spots.models import Spot
    from govtech.models import Municipality
    from govtech.tenancy import tenant_scope

    city, _ = Municipality.objects.get_or_create(
        slug=CITY, defaults={"name": "ベンチスポット市", "prefecture": "東京都"}
    )
    rng = random.Random(17)
    with tenant_scope(city):
        have = Spot.objects.count()
        for offset in range(have, count, SEED_BATCH):
            rows = []
            for n in range(offset, min(count, offset + SEED_BATCH)):
                far = n % 20 == 0
                rows.append(
                    Spot(
                        municipality=city,
                        kind=KINDS[n % len(KINDS)],
                        source_id=f"B{n:07d}",
                        name=f"スポット{n}",
                        latitude=rng.uniform(31.0, 43.0) if far else rng.uniform(35.6, 35.8),
                        longitude=rng.uniform(130.0, 145.0) if far else rng.uniform(139.6, 139.9),
                    )
                )
            Spot.objects.bulk_create(rows)
    return city


def _full_scan(latitude: float, longitude: float, kinds, limit: int):
    from delivery.spots.models import Spot
    from delivery.spots.selectors import haversine_m

    everything = Spot.objects.filter(kind__in=list(kinds), is_active=True).only(
        "pk", "latitude", "longitude"
    )
    return sorted(
        (haversine_m(latitude, longitude, s.latitude, s.longitude), s.pk) for s in everything
    )[:limit]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_spots_bench(*, spots: int, searches: int = 200, scans: int = 20) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from delivery.spots.selectors import nearest_spots
    from govtech.tenancy import tenant_scope

    started = time.monotonic()
    city = seed(spots)
    seeded = round(time.monotonic() - started, 1)
    rng = random.Random(5)
    places = [
        (rng.uniform(35.6, 35.8), rng.uniform(139.6, 139.9))
        if rng.random() < 0.9
        else (rng.uniform(31.0, 43.0), rng.uniform(130.0, 145.0))
        for _ in range(searches)
    ]
    kinds = [rng.choice([("shelter",), ("aed",), ("facility", "toilet")]) for _ in places]
    indexed_ms, statements, scan_ms = [], [], []
    wrong = 0
    with tenant_scope(city):
        for number, ((lat, lon), wanted) in enumerate(zip(places, kinds, strict=True)):
            with CaptureQueriesContext(connection) as queries:
                begun = time.perf_counter()
                found = nearest_spots(latitude=lat, longitude=lon, kinds=wanted, limit=10)
                indexed_ms.append((time.perf_counter() - begun) * 1000)
            statements.append(len(queries))
            if number < scans:
                begun = time.perf_counter()
                expected = _full_scan(lat, lon, wanted, 10)
                scan_ms.append((time.perf_counter() - begun) * 1000)
                wrong += [(n.metres, n.spot.pk) for n in found] != expected
    return {
        "spots": spots,
        "seed_seconds": seeded,
        "searches": searches,
        "nearest_p50_ms": round(statistics.median(indexed_ms), 2),
        "nearest_p95_ms": round(_percentile(indexed_ms, 0.95), 2),
        "statements_per_search": round(statistics.mean(statements), 2),
        "full_scan_searches": scans,
        "full_scan_p50_ms": round(statistics.median(scan_ms), 1),
        "full_scan_p95_ms": round(_percentile(scan_ms, 0.95), 1),
        "answers_differing_from_full_scan": wrong,
    }


def healthy(figures: dict) -> bool:
    return figures["answers_differing_from_full_scan"] == 0


def table(figures: dict) -> str:
    return "\n".join(
        [
            f"nearest 10 of {figures['spots']:,} spots, {figures['searches']} searches "
            f"(seeded in {figures['seed_seconds']} s)",
            f"{'':22}{'p50 ms':>10}{'p95 ms':>10}{'SQL/search':>12}",
            f"{'banded (the product)':22}{figures['nearest_p50_ms']:>10}"
            f"{figures['nearest_p95_ms']:>10}{figures['statements_per_search']:>12}",
            f"{'full scan (baseline)':22}{figures['full_scan_p50_ms']:>10}"
            f"{figures['full_scan_p95_ms']:>10}{1:>12}",
            f"answers differing from the full scan: {figures['answers_differing_from_full_scan']}"
            f" of {figures['full_scan_searches']}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.spots")
    parser.add_argument("--spots", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--json", type=Path, default=None, help="where the figures go")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("PostgreSQL is needed: set DATABASE_URL")
    os.environ.update(
        servers.bench_env(
            database_url=args.database_url,
            redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:1/0"),
            site_url="http://127.0.0.1",
            line_api="http://127.0.0.1",
            var_dir=Path(tempfile.mkdtemp(prefix="bench-spots-")),
        )
    )
    servers.database_ensure(args.database_url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    figures = run_spots_bench(spots=args.spots)
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if healthy(figures) else 1


if __name__ == "__main__":
    sys.exit(main())
