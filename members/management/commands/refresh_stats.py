"""Recompute the dashboard's stored figures now, as the beat task does every 15 minutes.

    manage.py refresh_stats [--date YYYY-MM-DD]

Run it once after deploying (the dashboard shows "not computed yet" until then) or after a large import.
The figures of every app are refreshed together, so this entry point calls the dashboard edge
(config/dashboard/refresh.py), the one place that may gather from every app.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Recompute the dashboard's per-organisation figures (members, dues, lost contact, study hours)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Count as of this day (YYYY-MM-DD); default: today.")

    def handle(self, *args, **options):
        from config.dashboard.refresh import stats_refresh

        today = None
        if options.get("date"):
            try:
                today = datetime.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date: {exc}") from exc
        rows = stats_refresh(today=today)
        self.stdout.write(self.style.SUCCESS(f"Dashboard figures refreshed: {rows} rows."))
