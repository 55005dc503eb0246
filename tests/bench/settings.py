"""Settings of the servers ``make bench`` starts: the product's, plus a bare view to compare.

Everything comes from ``govtech.settings`` (and so from the environment the bench sets:
GOVTECH_ENV=local, DATABASE_URL, REDIS_URL, DEBUG off). Only the URLconf differs, so no
product setting exists for the bench. When the bench asks for it (``BENCH_COUNTERS_DIR``,
``BENCH_PROFILE_DIR`` in a server's environment), the server counts its SQL statements
and profiles its Celery tasks (tests.bench.instrument) — bench code, not the product's.
"""

import os

from govtech.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.urls"

if os.environ.get("BENCH_COUNTERS_DIR"):
    from tests.bench import instrument

    instrument.install(os.environ["BENCH_COUNTERS_DIR"])
    if os.environ.get("BENCH_PROFILE_DIR"):
        instrument.install_profiler(os.environ["BENCH_PROFILE_DIR"])
