"""Reads of party dues: payments in scope, a member's dues, arrears, and the yearly publication report.

A month counts as unpaid once it is over: arrears run back from last month to the latest paid month
(never before the month the member joined). Each list costs a fixed number of queries.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone

from core.pagination import KeysetPage, keyset_paginate
from members.choices import MemberStatus
from members.models import DuesAssessment, DuesPaidMonth, DuesPayment, Member

#: How far back arrears are looked for; beyond the 6-month line it no longer matters how far.
LOOKBACK_MONTHS = 24


def dues_payment_list(*, actor, perm: str = "dues.view"):
    """Payments collected by, or credited to members of, branches in the actor's scope."""
    return DuesPayment.objects.for_actor(actor, perm).select_related("member", "branch", "recorded_by")


def dues_payment_get(*, actor, pk) -> DuesPayment:
    return dues_payment_list(actor=actor).get(pk=pk)


def dues_member_list(*, actor, perm: str = "dues.view"):
    """Members whose dues the actor keeps (formal branch in the actor's dues scope)."""
    return Member.objects.for_actor(actor, perm).select_related("branch")


def member_assessments(*, member: Member):
    return DuesAssessment.objects.filter(member=member).select_related("reduction_decided_by").order_by("-year")


def member_payments(*, member: Member):
    return DuesPayment.objects.filter(member=member).select_related("branch").order_by("-period_from")


def _count_unpaid(paid: set, *, since: datetime.date, today: datetime.date) -> tuple[int, datetime.date | None]:
    month = today.replace(day=1) - relativedelta(months=1)
    since = since.replace(day=1)
    count, first = 0, None
    for _i in range(LOOKBACK_MONTHS):
        if month < since or month in paid:
            break
        count, first = count + 1, month
        month -= relativedelta(months=1)
    return count, first


def member_arrears(*, member: Member, today: datetime.date | None = None) -> tuple[int, datetime.date | None]:
    """(consecutive unpaid months up to last month, the first of them), for one member."""
    today = today or timezone.localdate()
    window = today.replace(day=1) - relativedelta(months=LOOKBACK_MONTHS)
    paid = set(DuesPaidMonth.objects.filter(member=member, month__gte=window).values_list("month", flat=True))
    return _count_unpaid(paid, since=member.joined_on, today=today)


@dataclass
class Arrears:
    member: Member
    unpaid: int
    first_unpaid: datetime.date | None


#
# Arrears in SQL
#
def _last_month(today: datetime.date) -> datetime.date:
    return today.replace(day=1) - relativedelta(months=1)


def _unpaid_for_at_least(months: int, *, today: datetime.date) -> Q:
    """Members with `months`+ consecutive unpaid months up to last month, as `_count_unpaid` counts them.

    ⇔ no paid month among the last `months` months (a NOT EXISTS probe on the (member, month) unique
    index) and joined no later than the first of them (a member counts the month they joined in).
    `months` must lie in 1..LOOKBACK_MONTHS (the count is capped there).
    """
    last = _last_month(today)
    first = last - relativedelta(months=months - 1)
    paid = DuesPaidMonth.objects.filter(member_id=OuterRef("pk"), month__gte=first, month__lte=last)
    return Q(~Exists(paid), joined_on__lt=first + relativedelta(months=1))


def arrears_band_bounds(band: str) -> tuple[int, int | None]:
    """(fewest, first excluded) unpaid months of a dashboard arrears band (members.stats.ARREARS_BANDS)."""
    from members.actions.dues import ARREARS_LIMIT, ARREARS_WARNINGS

    warn = min(ARREARS_WARNINGS)
    bounds = {"owing": (1, warn), "warned": (warn, ARREARS_LIMIT), "over_limit": (ARREARS_LIMIT, None)}
    if band not in bounds:
        raise ValueError(f"Unknown arrears band {band!r}.")
    return bounds[band]


def dues_arrears_list(
    *,
    actor,
    branch=None,
    today: datetime.date | None = None,
    minimum: int = 1,
    below: int | None = None,
):
    """Members in scope (normal standing, at branches that collect dues) with `minimum` or more, and fewer
    than `below` (if given), consecutive unpaid months up to last month: a QuerySet, filtered in SQL.

    `branch` narrows to its subtree (the caller checks it is in scope). The exact count per member is
    left to `_with_arrears`, for the rows actually shown.
    """
    today = today or timezone.localdate()
    members = dues_member_list(actor=actor).filter(status=MemberStatus.NORMAL, branch__is_temporary=False)
    if branch is not None:
        members = members.filter(branch__path__startswith=branch.path)
    if minimum > LOOKBACK_MONTHS or (below is not None and below <= max(minimum, 0)):
        return members.none()
    if minimum >= 1:  # 0 or less: everyone, as `_count_unpaid` never counts below 0
        members = members.filter(_unpaid_for_at_least(minimum, today=today))
    if below is not None and below <= LOOKBACK_MONTHS:
        members = members.exclude(_unpaid_for_at_least(below, today=today))
    return members


def _with_arrears(members: list[Member], *, today: datetime.date) -> list[Arrears]:
    """Each member with the exact unpaid count and first unpaid month; one query for all their paid months."""
    window = today.replace(day=1) - relativedelta(months=LOOKBACK_MONTHS)
    paid: dict = defaultdict(set)
    if members:
        for member_id, month in DuesPaidMonth.objects.filter(
            member_id__in=[m.pk for m in members], month__gte=window
        ).values_list("member_id", "month"):
            paid[member_id].add(month)
    return [Arrears(m, *_count_unpaid(paid[m.pk], since=m.joined_on, today=today)) for m in members]


def dues_arrears(*, actor, branch=None, today: datetime.date | None = None, minimum: int = 1) -> list[Arrears]:
    """Every member of `dues_arrears_list` with their unpaid months, worst first (then branch, name).

    Two queries: the members, then their paid months in the look-back window. For whole lists that are
    known to be small (a branch, a test); the page shows `dues_arrears_page`.
    """
    today = today or timezone.localdate()
    members = dues_arrears_list(actor=actor, branch=branch, today=today, minimum=minimum)
    rows = _with_arrears(list(members.order_by("branch__path", "name", "id")), today=today)
    rows.sort(key=lambda r: -r.unpaid)
    return rows


#: The arrears page's order: the member list's default (pinyin, then id), walked on the name_pinyin index.
ARREARS_PAGE_ORDERING = ("name_pinyin", "id")


def dues_arrears_page(
    *,
    actor,
    branch=None,
    today: datetime.date | None = None,
    minimum: int = 1,
    below: int | None = None,
    cursor: str | None = None,
    per_page: int = 50,
) -> KeysetPage:
    """One keyset page of `dues_arrears_list`, its rows as `Arrears`: two queries whatever the list's size.

    Raises InvalidCursor for a cursor that cannot be read (the view then shows the first page).
    """
    today = today or timezone.localdate()
    members = dues_arrears_list(actor=actor, branch=branch, today=today, minimum=minimum, below=below)
    page = keyset_paginate(members, ordering=ARREARS_PAGE_ORDERING, cursor=cursor, per_page=per_page)
    page.object_list = _with_arrears(page.object_list, today=today)
    return page


def dues_reminders_due_list(*, today: datetime.date | None = None):
    """Ids of members (system-wide, normal standing, at branches that collect dues) whose arrears reached a
    warning stage: at least min(ARREARS_WARNINGS) and fewer than ARREARS_LIMIT consecutive unpaid months up
    to last month, as `_count_unpaid` counts them. A values_list QuerySet filtered in SQL, ordered by id.

    "Fewer than the limit" is written as a union of two plain filters rather than as an exclude: among
    members with no paid month in the last `w` months, fewer than `l` unpaid ⇔ joined too late to owe `l`
    months, or a paid month in the `l - w` months before those (a semi-join on the (member, month) index).
    PostgreSQL runs the exclude (EXISTS … OR joined_on …) as one index probe per member; the union as two
    hash joins (5.5 s → 3 s at 1,000,000 members).
    """
    from members.actions.dues import ARREARS_LIMIT, ARREARS_WARNINGS

    today = today or timezone.localdate()
    warn = min(ARREARS_WARNINGS)
    last = _last_month(today)
    first_warned = last - relativedelta(months=warn - 1)
    first_limit = last - relativedelta(months=ARREARS_LIMIT - 1)
    warned = Member.objects.filter(status=MemberStatus.NORMAL, branch__is_temporary=False).filter(
        _unpaid_for_at_least(warn, today=today)
    )
    joined_late = warned.filter(joined_on__gte=first_limit + relativedelta(months=1))
    paid_before = DuesPaidMonth.objects.filter(
        member_id=OuterRef("pk"), month__gte=first_limit, month__lt=first_warned
    )
    paid_earlier = warned.filter(Exists(paid_before))
    ids = joined_late.values_list("pk", flat=True).order_by()
    return ids.union(paid_earlier.values_list("pk", flat=True).order_by()).order_by("pk")


def dues_reminders_due(*, today: datetime.date | None = None) -> list:
    """Ids of members whose arrears reached a warning stage (checked again when each is sent).

    One query; only the ids are kept (the exact count per member is left to the send).
    """
    return list(dues_reminders_due_list(today=today))


@dataclass
class ReportRow:
    member: Member
    months_paid: int
    amount: Decimal


def dues_yearly_report(*, actor, branch, year: int) -> list[ReportRow]:
    """Dues paid per member of `branch` in `year` (by month covered), for the yearly publication.

    Every current member of the branch appears, those who paid nothing with 0. Payments made at a
    host branch are credited to the member's formal branch here. Amounts of payments spanning two
    years are split by month in proportion.
    """
    members = list(
        dues_member_list(actor=actor)
        .filter(branch=branch, status__in=[MemberStatus.NORMAL, MemberStatus.SUSPENDED, MemberStatus.RESERVED])
        .order_by("name")
    )
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 1)
    totals: dict = defaultdict(lambda: [0, Decimal("0")])
    payments = DuesPayment.objects.filter(
        member_id__in=[m.pk for m in members], period_from__lte=end, period_to__gte=start
    ).only("member_id", "period_from", "period_to", "amount")
    for payment in payments:
        months = (payment.period_to.year - payment.period_from.year) * 12 + payment.period_to.month
        months = months - payment.period_from.month + 1
        first = max(payment.period_from, start)
        last = min(payment.period_to, end)
        inside = (last.year - first.year) * 12 + last.month - first.month + 1
        row = totals[payment.member_id]
        row[0] += inside
        row[1] += (payment.amount * inside / months).quantize(Decimal("0.01"))
    return [ReportRow(m, totals[m.pk][0], totals[m.pk][1]) for m in members]


def dues_report_total(rows: list[ReportRow]) -> Decimal:
    return sum((r.amount for r in rows), Decimal("0"))


def dues_collected_total(*, branch, year: int) -> Decimal:
    """Everything collected by `branch` (incl. from visiting mobile members) with a receipt of `year`."""
    return DuesPayment.objects.filter(branch=branch, receipt_year=year).aggregate(s=Sum("amount"))["s"] or Decimal("0")
