"""Reads of party dues: payments in scope, a member's dues, arrears, and the yearly publication report.

A month counts as unpaid once it is over: arrears run back from last month to the latest paid month
(never before the month the member joined). Each list costs a fixed number of queries.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Sum
from django.utils import timezone

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


def dues_arrears(*, actor, branch=None, today: datetime.date | None = None, minimum: int = 1) -> list[Arrears]:
    """Members in scope (in normal standing, at branches that collect dues) with `minimum`+ unpaid months.

    Two queries: the members, then their paid months in the look-back window. Worst first.
    """
    today = today or timezone.localdate()
    members = dues_member_list(actor=actor).filter(status=MemberStatus.NORMAL, branch__is_temporary=False)
    if branch is not None:
        members = members.filter(branch__path__startswith=branch.path)
    members = list(members.order_by("branch__path", "name"))
    window = today.replace(day=1) - relativedelta(months=LOOKBACK_MONTHS)
    paid: dict = defaultdict(set)
    for member_id, month in DuesPaidMonth.objects.filter(
        member_id__in=[m.pk for m in members], month__gte=window
    ).values_list("member_id", "month"):
        paid[member_id].add(month)
    rows = []
    for member in members:
        unpaid, first = _count_unpaid(paid[member.pk], since=member.joined_on, today=today)
        if unpaid >= minimum:
            rows.append(Arrears(member, unpaid, first))
    rows.sort(key=lambda r: -r.unpaid)
    return rows


def dues_reminders_due(*, today: datetime.date | None = None) -> list:
    """Ids of members whose arrears reached a warning stage (checked again when each is sent)."""
    from members.actions.dues import ARREARS_LIMIT, ARREARS_WARNINGS

    today = today or timezone.localdate()
    members = Member.objects.filter(status=MemberStatus.NORMAL, branch__is_temporary=False).only("pk", "joined_on")
    window = today.replace(day=1) - relativedelta(months=LOOKBACK_MONTHS)
    paid: dict = defaultdict(set)
    for member_id, month in DuesPaidMonth.objects.filter(month__gte=window).values_list("member_id", "month"):
        paid[member_id].add(month)
    due = []
    for member in members.iterator(chunk_size=2000):
        unpaid, _first = _count_unpaid(paid[member.pk], since=member.joined_on, today=today)
        if min(ARREARS_WARNINGS) <= unpaid < ARREARS_LIMIT:
            due.append(member.pk)
    return due


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
