"""Reads of the services app; every list starts from the actor's scope."""

import datetime

from django.conf import settings
from django.db.models import Avg, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum
from django.db.models.functions import ExtractYear, TruncMonth
from django.utils import timezone

from services.choices import OPEN_STATUSES, AidStatus
from services.models import Case, CaseBreach, CaseEvent, HardshipAid, Station, Worker


def worker_list(*, actor, perm: str = "services.view"):
    return Worker.objects.for_actor(actor, perm).select_related("branch").prefetch_related("platforms")


def case_list(*, actor, perm: str = "services.view"):
    return (
        Case.objects.for_actor(actor, perm)
        .select_related("branch", "case_type", "worker", "assignee", "station")
        .prefetch_related("breaches")
    )


def station_list(*, actor, perm: str = "services.view"):
    return Station.objects.for_actor(actor, perm).select_related("branch").annotate(visit_count=Count("visits"))


def case_inbox(*, actor, tab: str):
    """Cases of one inbox tab: mine, unassigned, due_soon, breached, review (suspected spam)."""
    qs = case_list(actor=actor)
    genuine = qs.filter(suspected_spam=False)
    if tab == "mine":
        return genuine.filter(assignee=actor, status__in=OPEN_STATUSES)
    if tab == "unassigned":
        return genuine.filter(assignee__isnull=True, status__in=OPEN_STATUSES)
    if tab == "due_soon":
        horizon = timezone.now() + datetime.timedelta(hours=settings.SERVICES_DUE_SOON_HOURS)
        return genuine.filter(status__in=OPEN_STATUSES, paused_since__isnull=True, resolution_due__lte=horizon)
    if tab == "breached":
        return genuine.filter(Exists(CaseBreach.objects.filter(case=OuterRef("pk"))), status__in=OPEN_STATUSES)
    if tab == "review":
        return qs.filter(suspected_spam=True)
    raise ValueError(tab)


def case_timeline(*, case: Case, public_only: bool = False):
    events = CaseEvent.objects.filter(case=case).select_related("actor")
    return events.filter(is_public=True) if public_only else events


def case_for_tracking(*, code: str, last4: str) -> Case | None:
    """The case with this tracking code whose worker's phone ends in `last4`, or None (either wrong)."""
    if not code or len(last4) != 4:
        return None
    return (
        Case.objects.filter(tracking_code=code, worker__phone_last4=last4)
        .select_related("case_type", "worker")
        .first()
    )


#
# Reports
#
def case_report(*, actor, year: int) -> dict:
    """Figures for the reports page: counts by type, status, platform and month; median days to resolve;
    breach rate; satisfaction. Aggregates in the database, one query each."""
    cases = Case.objects.for_actor(actor, "services.view").filter(opened_at__year=year, suspected_spam=False)
    total = cases.count()
    by_type = list(cases.values("case_type__name").annotate(n=Count("id")).order_by("-n", "case_type__name"))
    by_status = list(cases.values("status").annotate(n=Count("id")).order_by("status"))
    by_platform = list(
        cases.filter(worker__platforms__isnull=False)
        .values("worker__platforms__name")
        .annotate(n=Count("id", distinct=True))
        .order_by("-n")
    )
    by_month = list(
        cases.annotate(month=TruncMonth("opened_at")).values("month").annotate(n=Count("id")).order_by("month")
    )
    median = _median_duration(cases.filter(resolved_at__isnull=False))
    breached = cases.filter(Exists(CaseBreach.objects.filter(case=OuterRef("pk")))).count()
    rating = cases.filter(rating__isnull=False).aggregate(avg=Avg("rating"), n=Count("id"))
    return {
        "year": year,
        "total": total,
        "by_type": by_type,
        "by_status": by_status,
        "by_platform": by_platform,
        "by_month": by_month,
        "median_days_to_resolve": round(median.total_seconds() / 86400, 1) if median is not None else None,
        "breach_rate": round(100 * breached / total, 1) if total else None,
        "rating_avg": round(rating["avg"], 2) if rating["avg"] is not None else None,
        "rating_count": rating["n"],
    }


def _median_duration(resolved) -> datetime.timedelta | None:
    """Median of resolved_at - opened_at, sorted by the database: one count and one query for the middle
    one or two rows, whatever the number of cases."""
    n = resolved.count()
    if not n:
        return None
    duration = ExpressionWrapper(F("resolved_at") - F("opened_at"), output_field=DurationField())
    middle = list(
        resolved.annotate(duration=duration)
        .order_by("duration", "id")
        .values_list("duration", flat=True)[(n - 1) // 2 : n // 2 + 1]
    )
    return sum(middle, datetime.timedelta()) / len(middle)


def aid_list(*, actor, perm: str = "services.view"):
    return HardshipAid.objects.for_actor(actor, perm).select_related("branch", "worker", "member", "approved_by")


def aid_totals(*, actor):
    """Approved aid per branch and year: total amount and number of grants (one GROUP BY query)."""
    return list(
        aid_list(actor=actor)
        .filter(status=AidStatus.APPROVED)
        .annotate(year=ExtractYear("granted_on"))
        .values("branch__name", "year")
        .annotate(total=Sum("amount"), grants=Count("id"))
        .order_by("-year", "branch__name")
    )


def station_counts(*, station: Station) -> dict:
    since = timezone.now() - datetime.timedelta(days=30)
    return station.visits.aggregate(total=Count("id"), last_30_days=Count("id", filter=Q(at__gte=since)))
