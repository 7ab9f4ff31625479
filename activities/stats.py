"""Figures of the activities app for the dashboard: study-hour completion (stored) and 三会一课 compliance (live).

Study hours are member-sized (every attendance of the year), so `study_stats_count` computes, in one
set-based query, each member's credited minutes (the rules of activities/study.py, in SQL) and counts
per branch the members in normal standing who reached their target; the edge writes the counts into
`members.BranchStat` with the other stored figures.

Compliance of a subtree of several organisations is read from `ComplianceStat` rows written by the same
refresh (`compliance_stats_write`: per ancestor, rule and period, the organisations that met the rule), so
any period of the last five years is summed from stored rows in one query. A single organisation, a rule
edited or added since the refresh, or a period the rows do not cover is counted live from the held
activities, at most two GROUP BY queries per rule.
"""

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, DecimalField, F, Func, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce, ExtractMonth, ExtractQuarter, ExtractYear
from django.utils import timezone

from activities.choices import ActivityStatus, AttendanceMethod, CompliancePeriod
from activities.compliance import active_rules, period_bounds
from activities.models import Activity, Attendance, ComplianceStat
from branches.models import Branch, CommitteeSeat
from branches.stats import subtree_rollup
from members.choices import MemberStatus
from members.models import Member

DIM_STUDY = "study"  # keys "members" (in normal standing) and "met" (reached the year's target)
STUDY_DIMENSIONS = (DIM_STUDY,)


class MinutesBetween(Func):
    """Whole minutes from the second datetime to the first, rounded down (as study.py's activity length)."""

    arity = 2
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        end, start = (compiler.compile(e) for e in self.get_source_expressions())
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({end[0]} - {start[0]})) / 60) AS integer)", (*end[1], *start[1])

    def as_sqlite(self, compiler, connection, **extra_context):
        end, start = (compiler.compile(e) for e in self.get_source_expressions())
        sql = f"(CAST(ROUND((julianday({end[0]}) - julianday({start[0]})) * 86400) AS integer) / 60)"
        return sql, (*end[1], *start[1])


def _credited_minutes():
    """Minutes one attendance gives: make-up → its duration; else the activity's credited hours (> 0); else the
    recorded duration; else the activity's length. Same order as `study._credit`."""
    return Case(
        When(method=AttendanceMethod.MAKEUP, then=Coalesce(F("duration_minutes"), 0)),
        When(activity__credited_hours__gt=0, then=F("activity__credited_hours") * 60),
        When(duration_minutes__gt=0, then=F("duration_minutes")),
        default=MinutesBetween(F("activity__ends_at"), F("activity__starts_at")),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def study_stats_count(*, today: datetime.date | None = None) -> dict[tuple, int]:
    """Own counts per branch for the year of `today`: {(branch id, "study", "members" | "met"): n}.

    One query: members in normal standing LEFT JOIN their summed minutes (GROUP BY member) LEFT JOIN the
    users holding a committee seat in the year, GROUP BY branch. A member meets the target when the hours,
    rounded to 0.01 as the study-hours page shows them, reach it.
    """
    today = today or timezone.localdate()
    zone = timezone.get_current_timezone()
    first = datetime.datetime(today.year, 1, 1, tzinfo=zone)
    after = datetime.datetime(today.year + 1, 1, 1, tzinfo=zone)
    minutes = (
        Attendance.objects.filter(activity__starts_at__gte=first, activity__starts_at__lt=after)
        .exclude(activity__status=ActivityStatus.CANCELLED)
        .filter(activity__deleted_at__isnull=True)
        .values("member_id")
        .annotate(minutes=Sum(_credited_minutes()))
        .order_by()
    )
    committee = (
        CommitteeSeat.objects.filter(user__isnull=False, started_on__lt=after.date())
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=first.date()))
        .values("user_id")
        .distinct()
        .order_by()
    )
    minutes_sql, minutes_params = minutes.query.sql_with_params()
    committee_sql, committee_params = committee.query.sql_with_params()
    q = connection.ops.quote_name
    member_table = q(Member._meta.db_table)
    # Hours are shown rounded to 0.01: 31.995 h (1919.7 min) already shows as 32.00 and counts as met.
    slack = 0.3
    sql = f"""
        SELECT m.{q("branch_id")}, COUNT(*),
               SUM(CASE WHEN COALESCE(h.{q("minutes")}, 0) >=
                        (CASE WHEN c.{q("user_id")} IS NULL THEN %s ELSE %s END) THEN 1 ELSE 0 END)
        FROM {member_table} m
        LEFT JOIN ({minutes_sql}) h ON h.{q("member_id")} = m.{q("id")}
        LEFT JOIN ({committee_sql}) c ON c.{q("user_id")} = m.{q("user_id")}
        WHERE m.{q("deleted_at")} IS NULL AND m.{q("status")} = %s
        GROUP BY m.{q("branch_id")}
    """
    params = (
        settings.ACTIVITIES_STUDY_HOURS_TARGET * 60 - slack,
        settings.ACTIVITIES_STUDY_HOURS_TARGET_COMMITTEE * 60 - slack,
        *minutes_params,
        *committee_params,
        MemberStatus.NORMAL.value,
    )
    counts: dict[tuple, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for branch_id, total, met in cursor.fetchall():
            branch_id = branch_id if isinstance(branch_id, uuid.UUID) else uuid.UUID(str(branch_id))
            counts[(branch_id, DIM_STUDY, "members")] = int(total)
            counts[(branch_id, DIM_STUDY, "met")] = int(met or 0)
    return counts


#
# 三会一课 compliance, live
#
@dataclass
class RuleCompliance:
    """One rule over the subtree and period: required (branch, period) slots met, missing, or due now."""

    kind: str
    period: str
    min_count: int
    branches: int
    met: int
    missing: int
    due: int
    #: When the stored rows were computed; None when counted live.
    as_of: datetime.datetime | None = None


def _period_starts(period: str, start: datetime.date, end: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    """The rule's periods from the one holding `start` to the one holding `end`."""
    periods = []
    day = period_bounds(period, start)[0]
    while day <= end:
        bounds = period_bounds(period, day)
        periods.append(bounds)
        day = bounds[1]
    return periods


def _aware(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_current_timezone())


def _bucket(period: str):
    if period == CompliancePeriod.MONTH:
        return ExtractMonth("starts_at")
    if period == CompliancePeriod.QUARTER:
        return ExtractQuarter("starts_at")
    return Value(0)


def _held_slots(*, rule, since: datetime.date, until: datetime.date, branch: Branch | None = None):
    """Held activities of the rule's kind in [since, until) grouped by (branch, year, bucket), kept where at least
    `min_count` were held: the (branch, period) slots that met the rule, over `branch`'s subtree or the whole tree."""
    activities = Activity.objects.filter(
        status=ActivityStatus.HELD,
        kind=rule.kind,
        branch__deleted_at__isnull=True,
        branch__kind__in=rule.branch_kinds,
        starts_at__gte=_aware(since),
        starts_at__lt=_aware(until),
    )
    if branch is not None:
        activities = activities.filter(branch__path__startswith=branch.path)
    return (
        activities.annotate(y=ExtractYear("starts_at"), b=_bucket(rule.period))
        .values("branch_id", "y", "b")
        .annotate(n=Count("id"))
        .filter(n__gte=rule.min_count)
        .order_by()
    )


def _met_slots(*, branch: Branch, rule, since: datetime.date, until: datetime.date) -> int:
    """(branch, period) pairs in [since, until) where the rule's kind was held at least `min_count` times."""
    if since >= until:
        return 0
    return _held_slots(rule=rule, since=since, until=until, branch=branch).count()


def _slot_start(period: str, year: int, bucket: int) -> datetime.date:
    if period == CompliancePeriod.MONTH:
        return datetime.date(year, bucket, 1)
    if period == CompliancePeriod.QUARTER:
        return datetime.date(year, 3 * (bucket - 1) + 1, 1)
    return datetime.date(year, 1, 1)


#: How far back the refresh stores compliance (the dashboard accepts periods of up to five years).
COMPLIANCE_STORED_YEARS = 5


def compliance_stats_write(*, today: datetime.date | None = None, refreshed_at: datetime.datetime) -> int:
    """Replace the stored compliance rows: for every branch with sub-organisations, every active rule and every
    period from January of five years ago to the running one, the organisations of its subtree that met the rule
    (rows only where some did), plus one marker row per branch and rule. One GROUP BY per rule over the whole
    tree, rolled up in Python like `members.stats.branch_stats_write`; one transaction. Returns the rows written.
    """
    today = today or timezone.localdate()
    since = datetime.date(today.year - COMPLIANCE_STORED_YEARS, 1, 1)
    rollup = subtree_rollup()
    stored = {ancestor for ancestors in rollup.values() for ancestor in ancestors}
    rows = []
    for rule in active_rules():
        until = period_bounds(rule.period, today)[1]
        met: dict[tuple, int] = defaultdict(int)
        for branch_id, year, bucket in _held_slots(rule=rule, since=since, until=until).values_list(
            "branch_id", "y", "b"
        ):
            start = _slot_start(rule.period, int(year), int(bucket))
            for ancestor in rollup.get(branch_id, ()):
                met[(ancestor, start)] += 1
        common = {"rule": rule, "min_count": rule.min_count, "branch_kinds": list(rule.branch_kinds)}
        rows += [
            ComplianceStat(branch_id=pk, since=since, until=today, refreshed_at=refreshed_at, **common)
            for pk in stored
        ]
        rows += [
            ComplianceStat(branch_id=pk, period_start=start, met=n, refreshed_at=refreshed_at, **common)
            for (pk, start), n in met.items()
        ]
    with transaction.atomic():
        ComplianceStat.objects.all().delete()
        ComplianceStat.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def _stored_compliance(*, branch: Branch, start: datetime.date, end: datetime.date) -> dict:
    """{rule id: {"marker": row, "met": {period start: met}}} of `branch` over [start, end]; one query."""
    first = period_bounds(CompliancePeriod.YEAR, start)[0]
    rows = ComplianceStat.objects.filter(branch=branch).filter(
        Q(period_start__isnull=True) | Q(period_start__gte=first, period_start__lte=end)
    )
    stored: dict = defaultdict(lambda: {"marker": None, "met": {}})
    for row in rows:
        if row.period_start is None:
            stored[row.rule_id]["marker"] = row
        else:
            stored[row.rule_id]["met"][row.period_start] = row.met
    return stored


def _stored_rule(stored: dict, rule, periods: list) -> dict | None:
    """The stored rows of `rule` when they answer for `periods`: counted with the rule as it is now, from before
    the first period, up to (at least) the start of the last one."""
    entry = stored.get(rule.pk)
    marker = entry and entry["marker"]
    if (
        marker is None
        or marker.min_count != rule.min_count
        or sorted(marker.branch_kinds) != sorted(rule.branch_kinds)
    ):
        return None
    if periods and (periods[0][0] < marker.since or periods[-1][0] > marker.until):
        return None
    return entry


def compliance_summary(
    *, branch: Branch, start: datetime.date, end: datetime.date, branch_kinds: dict[str, int], today=None
) -> list[RuleCompliance]:
    """Per active rule, over the subtree's branches of the kinds it applies to and the rule's periods from the
    one holding `start` to the one holding `end`: slots met, missing (period over, not met) and due (the
    running period, not met yet), as the compliance page counts them. Periods not begun are left out, and
    so are rules that apply to no organisation of the subtree.

    `branch_kinds` is {kind: branches of that kind in the subtree} (from branches.stats). Queries: the rules and
    the stored rows; then, for a rule the rows do not answer for, at most two counts.
    """
    today = today or timezone.localdate()
    stored = _stored_compliance(branch=branch, start=start, end=end)
    result = []
    for rule in active_rules():
        branches = sum(branch_kinds.get(kind, 0) for kind in rule.branch_kinds)
        if not branches:  # e.g. party-group meetings under a tree without groups
            continue
        periods = _period_starts(rule.period, start, end)
        ended = [p for p in periods if p[1] <= today]
        running = [p for p in periods if p[0] <= today < p[1]]
        entry = _stored_rule(stored, rule, ended + running)
        as_of = None
        if entry is not None:
            met_ended = sum(entry["met"].get(p[0], 0) for p in ended)
            met_running = sum(entry["met"].get(p[0], 0) for p in running)
            as_of = entry["marker"].refreshed_at
        else:
            met_ended = _met_slots(branch=branch, rule=rule, since=periods[0][0], until=ended[-1][1]) if ended else 0
            met_running = (
                _met_slots(branch=branch, rule=rule, since=running[0][0], until=running[0][1]) if running else 0
            )
        result.append(
            RuleCompliance(
                kind=rule.kind,
                period=rule.period,
                min_count=rule.min_count,
                branches=branches,
                met=met_ended + met_running,
                missing=branches * len(ended) - met_ended,
                due=(branches - met_running) if running else 0,
                as_of=as_of,
            )
        )
    return result
