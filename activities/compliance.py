"""三会一课 compliance (DOMAIN.md §4, issue 5 part 7): required kinds and frequencies (ComplianceRule,
edited in the admin) against the activities held, per branch and period, and the secretary's reminder.

Counting rule: an activity counts for its host branch in the period of its local start date, once it is
marked held. Costs: a grid is three queries (rules, branches, one GROUP BY over held activities) whatever
the size of the subtree.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import ExtractMonth
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from activities.choices import ActivityKind, ActivityStatus, CompliancePeriod
from activities.models import Activity, ComplianceReminderLog, ComplianceRule
from branches.choices import BranchKind, CommitteePost
from branches.models import Branch, CommitteeSeat
from core.notifications import deliver

logger = logging.getLogger(__name__)
KIND_COMPLIANCE = "activities.compliance"


#
# Periods
#
def period_bounds(period: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """First day of the period containing `day` and first day after it."""
    if period == CompliancePeriod.MONTH:
        start = day.replace(day=1)
    elif period == CompliancePeriod.QUARTER:
        start = datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    else:
        start = datetime.date(day.year, 1, 1)
    months = {CompliancePeriod.MONTH: 1, CompliancePeriod.QUARTER: 3, CompliancePeriod.YEAR: 12}[period]
    month = start.month - 1 + months
    return start, datetime.date(start.year + month // 12, month % 12 + 1, 1)


def periods_of_year(period: str, year: int) -> list[tuple[datetime.date, datetime.date]]:
    step = {CompliancePeriod.MONTH: 1, CompliancePeriod.QUARTER: 3, CompliancePeriod.YEAR: 12}[period]
    return [period_bounds(period, datetime.date(year, month, 1)) for month in range(1, 13, step)]


def _aware(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_current_timezone())


#
# Grids
#
@dataclass
class PeriodStatus:
    kind: str
    period: str
    start: datetime.date
    end: datetime.date  # first day after the period
    held: int
    required: int

    @property
    def kind_label(self) -> str:
        return ActivityKind(self.kind).label

    @property
    def status(self) -> str:
        """met / missing (period over) / due (period running) / upcoming, as of today."""
        today = timezone.localdate()
        if self.held >= self.required:
            return "met"
        if self.end <= today:
            return "missing"
        return "due" if self.start <= today else "upcoming"


@dataclass
class BranchCompliance:
    branch: Branch
    #: months[m - 1][kind] = activities of that kind held in month m
    months: list[dict[str, int]]
    periods: list[PeriodStatus] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return sum(1 for p in self.periods if p.status == "missing")

    @property
    def due(self) -> int:
        return sum(1 for p in self.periods if p.status == "due")


def active_rules() -> list[ComplianceRule]:
    return list(ComplianceRule.objects.filter(active=True).order_by("kind", "period"))


def compliance_grid(*, branches, year: int, rules: list[ComplianceRule] | None = None) -> list[BranchCompliance]:
    """For each branch: a month × kind grid of held activities in `year` and the status of every period
    of every rule that applies to its kind. One GROUP BY query (plus the rules when not given)."""
    rules = active_rules() if rules is None else rules
    branches = list(branches)
    counts: dict = {}
    rows = (
        Activity.objects.filter(
            status=ActivityStatus.HELD,
            branch__in=[b.pk for b in branches],
            starts_at__gte=_aware(datetime.date(year, 1, 1)),
            starts_at__lt=_aware(datetime.date(year + 1, 1, 1)),
        )
        .annotate(month=ExtractMonth("starts_at"))
        .values("branch_id", "month", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[(row["branch_id"], row["month"], row["kind"])] = row["n"]
    result = []
    for branch in branches:
        months = [
            {kind: counts.get((branch.pk, month, kind), 0) for kind in ActivityKind.values} for month in range(1, 13)
        ]
        item = BranchCompliance(branch=branch, months=months)
        for rule in rules:
            if branch.kind not in rule.branch_kinds:
                continue
            for start, end in periods_of_year(rule.period, year):
                held = sum(months[m - 1][rule.kind] for m in range(start.month, start.month + _months(rule.period)))
                item.periods.append(PeriodStatus(rule.kind, rule.period, start, end, held, rule.min_count))
        result.append(item)
    return result


def _months(period: str) -> int:
    return {CompliancePeriod.MONTH: 1, CompliancePeriod.QUARTER: 3, CompliancePeriod.YEAR: 12}[period]


def compliance_subtree(*, branch: Branch, year: int) -> tuple[list[BranchCompliance], list[dict[str, int]]]:
    """The grids of every branch in `branch`'s subtree and their month × kind sum (three queries)."""
    branches = Branch.objects.filter(path__startswith=branch.path).order_by("path")
    grids = compliance_grid(branches=branches, year=year)
    total = [{kind: sum(g.months[m][kind] for g in grids) for kind in ActivityKind.values} for m in range(12)]
    return grids, total


#
# Reminding the secretary
#
def _secretaries(branch_ids, day: datetime.date) -> dict:
    seats = CommitteeSeat.objects.filter(
        branch_id__in=branch_ids, post=CommitteePost.SECRETARY, user__isnull=False, started_on__lte=day
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=day))
    found: dict = {}
    for seat in seats.select_related("user"):
        found.setdefault(seat.branch_id, []).append(seat.user)
    return found


def compliance_reminders_send(*, today: datetime.date | None = None) -> int:
    """Remind the secretary (in-app and e-mail) of each branch still missing a required meeting when its
    period ends within ACTIVITIES_COMPLIANCE_REMIND_DAYS; once per branch, rule and period (the log row
    is claimed before sending, like the activity reminders). A party group's reminder goes to the
    secretary of its parent branch. Returns how many reminders went out."""
    today = today or timezone.localdate()
    days = settings.ACTIVITIES_COMPLIANCE_REMIND_DAYS
    sent = 0
    for rule in active_rules():
        start, end = period_bounds(rule.period, today)
        if (end - today).days > days:
            continue
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
        short = list(
            Branch.objects.filter(kind__in=rule.branch_kinds).annotate(held=held).filter(held__lt=rule.min_count)
        )
        if not short:
            continue
        done = set(
            ComplianceReminderLog.objects.filter(
                rule=rule, period_start=start, branch__in=short, sent_at__isnull=False
            ).values_list("branch_id", flat=True)
        )
        short = [b for b in short if b.pk not in done]
        secretaries = _secretaries({b.parent_id if b.kind == BranchKind.GROUP else b.pk for b in short}, today)
        for branch in short:
            users = secretaries.get(branch.parent_id if branch.kind == BranchKind.GROUP else branch.pk, [])
            if users:
                sent += _remind_once(branch, rule, start, end, users)
    return sent


def _remind_once(branch: Branch, rule: ComplianceRule, start, end, users) -> int:
    ComplianceReminderLog.objects.bulk_create(
        [ComplianceReminderLog(branch=branch, rule=rule, period_start=start)], ignore_conflicts=True
    )
    now = timezone.now()
    lease = datetime.timedelta(seconds=settings.ACTIVITIES_REMINDER_LEASE_SECONDS)
    claim = uuid.uuid4()
    claimed = (
        ComplianceReminderLog.objects.filter(branch=branch, rule=rule, period_start=start, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease))
        .update(claim=claim, claimed_at=now)
    )
    if not claimed:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        title = _("%(branch)s: %(kind)s still missing") % {"branch": branch.name, "kind": rule.get_kind_display()}
        body = _(
            "%(branch)s has held %(held)s of the required %(required)s (%(kind)s) in the period ending %(end)s."
        ) % {
            "branch": branch.name,
            "held": getattr(branch, "held", 0),
            "required": rule.min_count,
            "kind": rule.get_kind_display(),
            "end": (end - datetime.timedelta(days=1)).isoformat(),
        }
    url = reverse("activities:compliance") + f"?branch={branch.pk}&year={start.year}"
    with transaction.atomic():  # e-mails first, then the in-app rows and the mark, as one
        deliver(recipients=users, kind=KIND_COMPLIANCE, title=title, body=body, url=url)
        ComplianceReminderLog.objects.filter(claim=claim).update(sent_at=now)
    return 1
