"""Fill the dashboards' daily aggregates for a range of days (a backfill, or a day to redo).

    python manage.py compute_dashboards --from 2026-04-01 --to 2026-11-30 [--municipality SLUG]

Without dates: the nightly run's range (the last days up to yesterday). Each day's rows
are replaced, so running it again changes nothing; long ranges go by months so that one
transaction stays short.
"""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from govtech.models import Municipality
from reports.dashboards.aggregation import SETTLE_DAYS, aggregates_compute, tokyo_today

STRETCH_DAYS = 31


class Command(BaseCommand):
    help = "Compute the dashboards' daily aggregates of a range of days (Asia/Tokyo)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", type=date.fromisoformat)
        parser.add_argument("--to", dest="last", type=date.fromisoformat)
        parser.add_argument("--municipality", help="its slug; every municipality when left out")

    def handle(self, *args, first=None, last=None, municipality=None, **options):
        last = last or tokyo_today() - timedelta(days=1)
        first = first or last - timedelta(days=SETTLE_DAYS - 1)
        if first > last:
            raise CommandError("--from must not be after --to")
        municipalities = Municipality.objects.order_by("pk")
        if municipality:
            municipalities = municipalities.filter(slug=municipality)
            if not municipalities.exists():
                raise CommandError(f"no municipality {municipality!r}")
        for city in municipalities:
            start = first
            while start <= last:
                end = min(start + timedelta(days=STRETCH_DAYS - 1), last)
                counts = aggregates_compute(municipality=city, first=start, last=end)
                self.stdout.write(f"{city.slug} {start}..{end}: {counts}")
                start = end + timedelta(days=1)
