"""pytest's settings: the test kind of govtech.settings (see that module's docstring)."""

import os

os.environ.setdefault("GOVTECH_ENV", "test")

from govtech.settings import *  # noqa: F403
