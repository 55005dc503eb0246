"""The hand-counted city of the dashboard tests (tests.reports.dashboards.fixtures)."""

from tests.reports.dashboards.fixtures import *  # noqa: F403
