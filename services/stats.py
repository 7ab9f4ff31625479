"""Figures of the services app for the dashboard: cases opened, resolved and breached per month, and satisfaction.

Cases are counted for their responsible branch's subtree (the `?branch=` of the case filters), suspected
spam left out as on the reports page (`case_report`). `case_months` and `case_ratings` count live, one
GROUP BY query each on the subtree and period. The dashboard calls `case_figures`, which for a subtree of
several organisations sums the per-day rows that the refresh stores (`case_stats_write` → `CaseDayStat`:
opened, resolved, ratings), so any period is exact to the day; only the breaches, a case counted once per
month however many deadlines it missed, stay a live query.
"""

import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from branches.models import Branch
from branches.stats import subtree_rollup
from services.models import Case, CaseBreach, CaseDayStat

RATINGS = range(1, 6)


def _bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    zone = timezone.get_current_timezone()
    first = datetime.datetime.combine(start, datetime.time(), tzinfo=zone)
    after = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), tzinfo=zone)
    return first, after


def _month(value) -> datetime.date:
    """TruncMonth gives a local datetime (PostgreSQL) or a date (SQLite): the first day of the month either way."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def _per_month(queryset, field: str) -> dict[datetime.date, int]:
    rows = queryset.annotate(month=TruncMonth(field)).values("month").annotate(n=Count("id")).order_by()
    return {_month(row["month"]): row["n"] for row in rows}


def case_months(*, branch: Branch, start: datetime.date, end: datetime.date) -> list[dict]:
    """Per month of the period: cases opened, resolved (first resolution time in the month) and breached (cases
    with a deadline breach recorded in the month, each counted once per month). Three queries."""
    first, after = _bounds(start, end)
    cases = Case.objects.filter(branch__path__startswith=branch.path, suspected_spam=False)
    opened = _per_month(cases.filter(opened_at__gte=first, opened_at__lt=after), "opened_at")
    resolved = _per_month(cases.filter(resolved_at__gte=first, resolved_at__lt=after), "resolved_at")
    return _month_list(start, end, opened, resolved, _breached(branch=branch, start=start, end=end))


def _breached(*, branch: Branch, start: datetime.date, end: datetime.date) -> dict[datetime.date, int]:
    """{month: cases with a deadline breach recorded in it}, each case once per month. One query."""
    first, after = _bounds(start, end)
    breach_rows = (
        CaseBreach.objects.filter(
            case__branch__path__startswith=branch.path,
            case__suspected_spam=False,
            case__deleted_at__isnull=True,
            at__gte=first,
            at__lt=after,
        )
        .annotate(month=TruncMonth("at"))
        .values("month")
        .annotate(n=Count("case_id", distinct=True))
        .order_by()
    )
    return {_month(row["month"]): row["n"] for row in breach_rows}


def _month_list(start, end, opened: dict, resolved: dict, breached: dict) -> list[dict]:
    months = []
    day = start.replace(day=1)
    while day <= end:
        months.append(
            {
                "month": day,
                "opened": opened.get(day, 0),
                "resolved": resolved.get(day, 0),
                "breached": breached.get(day, 0),
            }
        )
        day = (day + datetime.timedelta(days=32)).replace(day=1)
    return months


def case_ratings(*, branch: Branch, start: datetime.date, end: datetime.date) -> dict[int, int]:
    """Ratings (1–5) given in the period to the subtree's cases: {rating: cases}, every rating present. One query."""
    first, after = _bounds(start, end)
    rows = (
        Case.objects.filter(
            branch__path__startswith=branch.path,
            suspected_spam=False,
            rating__isnull=False,
            rated_at__gte=first,
            rated_at__lt=after,
        )
        .values("rating")
        .annotate(n=Count("id"))
        .order_by()
    )
    found = {row["rating"]: row["n"] for row in rows}
    return {rating: found.get(rating, 0) for rating in range(1, 6)}


#
# Stored per day for subtrees of several organisations
#
def case_stats_write(*, refreshed_at: datetime.datetime) -> int:
    """Replace the stored case rows: for every branch with sub-organisations, per local day, the cases of its
    subtree opened, resolved and rated (by rating), suspected spam left out, plus one marker row (`day` empty)
    per such branch. Three GROUP BY queries over the whole case table, rolled up in Python; one transaction."""
    rollup = subtree_rollup()
    stored = {ancestor for ancestors in rollup.values() for ancestor in ancestors}
    cases = Case.objects.filter(suspected_spam=False)
    totals: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(queryset, field: str, column):
        rows = queryset.annotate(day=TruncDate(field)).values("branch_id", "day", *([column] if column else []))
        for row in rows.annotate(n=Count("id")).order_by():
            name = f"rated_{row['rating']}" if column else field.removesuffix("_at")
            for ancestor in rollup.get(row["branch_id"], ()):
                totals[(ancestor, row["day"])][name] += row["n"]

    add(cases.filter(opened_at__isnull=False), "opened_at", None)
    add(cases.filter(resolved_at__isnull=False), "resolved_at", None)
    add(cases.filter(rating__in=list(RATINGS), rated_at__isnull=False), "rated_at", "rating")
    rows = [CaseDayStat(branch_id=pk, day=None, refreshed_at=refreshed_at) for pk in stored]
    rows += [
        CaseDayStat(branch_id=pk, day=day, refreshed_at=refreshed_at, **counts) for (pk, day), counts in totals.items()
    ]
    with transaction.atomic():
        CaseDayStat.objects.all().delete()
        CaseDayStat.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def case_figures(*, branch: Branch, start: datetime.date, end: datetime.date) -> dict:
    """The dashboard's case figures of the subtree over [start, end]: {"months": as case_months, "ratings": as
    case_ratings, "as_of": when the stored rows were computed, None when counted live}.

    Two queries for a subtree with stored rows (the rows of the period, the breaches), four otherwise.
    """
    rows = list(CaseDayStat.objects.filter(branch=branch).filter(Q(day__isnull=True) | Q(day__range=(start, end))))
    marker = next((row for row in rows if row.day is None), None)
    if marker is None:
        return {
            "months": case_months(branch=branch, start=start, end=end),
            "ratings": case_ratings(branch=branch, start=start, end=end),
            "as_of": None,
        }
    opened: dict[datetime.date, int] = defaultdict(int)
    resolved: dict[datetime.date, int] = defaultdict(int)
    ratings = dict.fromkeys(RATINGS, 0)
    for row in rows:
        if row.day is None:
            continue
        month = row.day.replace(day=1)
        opened[month] += row.opened
        resolved[month] += row.resolved
        for rating in RATINGS:
            ratings[rating] += getattr(row, f"rated_{rating}")
    months = _month_list(start, end, opened, resolved, _breached(branch=branch, start=start, end=end))
    return {"months": months, "ratings": ratings, "as_of": marker.refreshed_at}
