"""pytest's settings: the test kind of govtech.settings (see that module's docstring)."""

import os

os.environ.setdefault("GOVTECH_ENV", "test")

from govtech.settings import *  # noqa: F403

# Live-server tests answer each request in a thread of its own: a persistent connection
# would outlive the thread and keep the test database from being dropped at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
