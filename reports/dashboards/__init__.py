"""Dashboards: daily aggregates (friends, broadcasts, procedures and their funnels,
reservations) filled nightly by a beat task, and the console pages that read only them."""
