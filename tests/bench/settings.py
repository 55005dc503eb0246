"""Settings of the servers ``make bench`` starts: the product's, plus a bare view to compare.

Everything comes from ``govtech.settings`` (and so from the environment the bench sets:
GOVTECH_ENV=local, DATABASE_URL, REDIS_URL, DEBUG off). Only the URLconf differs, so no
product setting exists for the bench.
"""

from govtech.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.urls"
