"""The daily member-sized sweeps at 1,000,000 members: times what each one selects, read-only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_dash_bench .venv/bin/python bench/sweeps.py
    ... --runs 3 --only dues,lost_contact_close

Runs against an existing bench database (the one `bench/dashboard.py` generates) and never writes to it:
the session is set read-only (`default_transaction_read_only`) with a statement timeout, and only the
selection part of each sweep runs (no claims, no notifications). Prints, per sweep, the median / fastest
/ slowest of the runs, the rows selected, the queries of one run and the peak memory of the process.
No assertions: it measures.
"""

import argparse
import os
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _configure() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    warnings.filterwarnings("ignore", message="No directory at")

    import django

    django.setup()


_configure()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from activities.choices import ActivityStatus  # noqa: E402
from activities.compliance import _aware, active_rules, period_bounds  # noqa: E402
from branches.models import Branch  # noqa: E402
from members.actions.transfers import transfer_alerts_due  # noqa: E402
from members.selectors_development import development_reminders_due  # noqa: E402
from members.selectors_dues import dues_reminders_due  # noqa: E402
from members.selectors_mobility import (  # noqa: E402
    lost_contact_cases_resumed,
    lost_contact_sweep_due,
    report_in_reminders_due,
)


def _dues(today):
    return len(dues_reminders_due(today=today))


def _lost_contact_close(today):
    return len(list(lost_contact_cases_resumed().values_list("pk", flat=True)))


def _lost_contact_due(today):
    return len(list(lost_contact_sweep_due(today=today).values_list("pk", flat=True)))


def _report_in(today):
    return len(list(report_in_reminders_due(year=today.year).values_list("pk", flat=True)))


def _transfers(today):
    return len(transfer_alerts_due(today=today))


def _development(today):
    return len(development_reminders_due(today=today))


def _compliance(today):
    """The branches each active rule finds short (what `compliance_reminders_send` selects), for every rule
    whatever the reminder window: the figure is the cost of the selection, not of one day's."""
    rows = 0
    for rule in active_rules():
        start, end = period_bounds(rule.period, today)
        held = Count(
            "activities",
            filter=Q(
                activities__kind=rule.kind,
                activities__status=ActivityStatus.HELD,
                activities__deleted_at__isnull=True,
                activities__starts_at__gte=_aware(start),
                activities__starts_at__lt=_aware(end),
            ),
        )
        short = Branch.objects.filter(kind__in=rule.branch_kinds).annotate(held=held).filter(held__lt=rule.min_count)
        rows += len(list(short))
    return rows


SWEEPS = {
    "dues": ("dues_reminders_sweep: dues_reminders_due()", _dues),
    "lost_contact_close": ("lost_contact_sweep: cases whose contact resumed", _lost_contact_close),
    "lost_contact_due": ("lost_contact_sweep: members to warn or flag", _lost_contact_due),
    "report_in": ("report_in_reminders_send: members to remind", _report_in),
    "transfers": ("transfer_alerts_send: transfer_alerts_due()", _transfers),
    "development": ("development_reminders_sweep: development_reminders_due()", _development),
    "compliance": ("compliance_reminders: branches short, every rule", _compliance),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(SWEEPS))
    parser.add_argument("--timeout", type=int, default=300, help="statement timeout, seconds")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only: point DATABASE_URL at a bench database (see bench/README.md).")
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")
        cursor.execute(f"SET statement_timeout = '{int(args.timeout)}s'")
    today = timezone.localdate()
    names = [n for n in args.only.split(",") if n] or list(SWEEPS)
    print(f"{settings.DATABASES['default']['NAME']}, today {today}, {args.runs} runs, times in ms")
    print(f"{'sweep':62s} {'median':>9s} {'fastest':>9s} {'slowest':>9s} {'rows':>8s} {'queries':>7s} {'peak MB':>7s}")
    for name in names:
        label, fn = SWEEPS[name]
        times = []
        for i in range(args.runs):
            connection.queries_log.clear()
            started = time.perf_counter()
            if i == 0:
                with CaptureQueriesContext(connection) as ctx:
                    rows = fn(today)
                queries = len(ctx)
            else:
                rows = fn(today)
            times.append((time.perf_counter() - started) * 1000)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{label:62s} {statistics.median(times):9.1f} {min(times):9.1f} {max(times):9.1f} "
            f"{rows:8d} {queries:7d} {peak:7.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
