"""Figures of the members app for the dashboard: reads, plus the writing of its own `BranchStat` rows.

Member-sized figures (category, occupation, age band, platform, dues arrears, lost contact) are never
counted per request. `member_stats_count` runs a handful of set-based GROUP BY queries over the whole
member table (from the beat task every 15 minutes and `manage.py refresh_stats`), `branch_stats_write`
rolls the per-branch counts up the tree and replaces the rows in one transaction, and `branch_stats`
reads the rows of one branch (one indexed query, whatever the size of its subtree).

Transfers are few (a handful per branch and year), so `transfer_counts` is a live query on the subtree.
The numbers follow the rules of the app's own pages: selectors_dues (arrears), selectors_mobility
(lost contact), the member list (current members: normal, suspended or reserved).
"""

import datetime
from collections import defaultdict

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Case, CharField, Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear, Greatest
from django.utils import timezone

from branches.models import Branch
from members.choices import CURRENT_STATUSES, MemberStatus
from members.models import BranchStat, DuesPaidMonth, LostContactCase, Member, Transfer
from members.models.mobility import LOST_CONTACT_OPEN
from members.models.transfers import TransferStatus

#
# Dimensions and keys of the stored figures
#
DIM_MEMBERS = "members"  # key "total": current members
DIM_CATEGORY = "category"  # MemberCategory values
DIM_OCCUPATION = "occupation"  # Occupation values, "" when not given
DIM_AGE = "age"  # AGE_BANDS keys
DIM_PLATFORM = "platform"  # Platform codes, "" for members with none
DIM_ARREARS = "arrears"  # ARREARS_BANDS keys
DIM_LOST_CONTACT = "lost_contact"  # LOST_CONTACT_STAGES
MEMBER_DIMENSIONS = (DIM_MEMBERS, DIM_CATEGORY, DIM_OCCUPATION, DIM_AGE, DIM_PLATFORM, DIM_ARREARS, DIM_LOST_CONTACT)

#: Age bands: (key, first age past the band); the last band has no upper end.
AGE_BANDS = (("lt25", 25), ("25_34", 35), ("35_44", 45), ("45_54", 55), ("55plus", None))
#: Arrears bands: some months unpaid, warned (from the first warning), at or past the six-month limit.
ARREARS_BANDS = ("owing", "warned", "over_limit")
#: Lost-contact stages, as `lost_contact_stage` names them.
LOST_CONTACT_STAGES = ("warning", "flag_due", "flagged", "proposed", "suspended")


def _age_band(today: datetime.date) -> Case:
    """The age band of a birth date on `today`, in SQL (age < 25 ⟺ born after today minus 25 years)."""
    whens = [
        When(birth_date__gt=today - relativedelta(years=limit), then=Value(key))
        for key, limit in AGE_BANDS
        if limit is not None
    ]
    return Case(*whens, default=Value(AGE_BANDS[-1][0]), output_field=CharField())


def _month_index(field) -> F:
    return ExtractYear(field) * 12 + ExtractMonth(field)


def _arrears_counts(today: datetime.date) -> list[dict]:
    """Per branch and band, members in normal standing at branches that collect dues with unpaid months.

    Same count as `dues_arrears`: months from the later of the month after the last paid month (up to
    last month) and the joining month, through last month.
    """
    from members.actions.dues import ARREARS_LIMIT, ARREARS_WARNINGS

    last_month = today.replace(day=1) - relativedelta(months=1)
    last_paid = DuesPaidMonth.objects.filter(member_id=OuterRef("pk"), month__lte=last_month).order_by("-month")
    last_index = last_month.year * 12 + last_month.month
    members = (
        Member.objects.filter(status=MemberStatus.NORMAL, branch__is_temporary=False)
        .annotate(last_paid=Subquery(last_paid.values("month")[:1]))
        .annotate(
            first_unpaid=Greatest(
                Coalesce(_month_index("last_paid") + 1, _month_index("joined_on")),
                _month_index("joined_on"),
                output_field=IntegerField(),
            )
        )
        .annotate(unpaid=Value(last_index + 1) - F("first_unpaid"))
        .filter(unpaid__gte=1)
        .annotate(
            band=Case(
                When(unpaid__gte=ARREARS_LIMIT, then=Value("over_limit")),
                When(unpaid__gte=min(ARREARS_WARNINGS), then=Value("warned")),
                default=Value("owing"),
                output_field=CharField(),
            )
        )
    )
    return list(members.values("branch_id", "band").annotate(n=Count("id")).order_by())


def _lost_contact_counts(today: datetime.date) -> list[dict]:
    """Per branch and stage, the rows of `lost_contact_report` (current members with a warning, a flag or a case)."""
    from members.actions.mobility import mobility_rules
    from members.selectors_mobility import with_last_contact

    rules = mobility_rules()
    warn_cutoff = today - relativedelta(months=rules["warn_months"])
    flag_cutoff = today - relativedelta(months=rules["flag_months"])
    open_case = LostContactCase.objects.filter(member_id=OuterRef("pk"), status__in=LOST_CONTACT_OPEN)
    members = (
        with_last_contact(Member.objects.filter(status__in=CURRENT_STATUSES))
        .annotate(case_status=Subquery(open_case.values("status")[:1]))
        .filter(Q(last_contact_on__lte=warn_cutoff) | Q(case_status__isnull=False) | Q(lost_contact=True))
        .annotate(
            stage=Case(
                When(case_status__isnull=False, then=F("case_status")),
                When(last_contact_on__lte=flag_cutoff, then=Value("flag_due")),
                default=Value("warning"),
                output_field=CharField(),
            )
        )
    )
    return list(members.values("branch_id", "stage").annotate(n=Count("id")).order_by())


def member_stats_count(*, today: datetime.date | None = None) -> dict[tuple, int]:
    """Own counts of every branch: {(branch id, dimension, key): members}, from five GROUP BY queries."""
    today = today or timezone.localdate()
    counts: dict[tuple, int] = defaultdict(int)
    current = Member.objects.filter(status__in=CURRENT_STATUSES)
    rows = (
        current.annotate(band=_age_band(today))
        .values("branch_id", "category", "occupation", "band")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        branch_id, n = row["branch_id"], row["n"]
        counts[(branch_id, DIM_MEMBERS, "total")] += n
        counts[(branch_id, DIM_CATEGORY, row["category"])] += n
        counts[(branch_id, DIM_OCCUPATION, row["occupation"])] += n
        counts[(branch_id, DIM_AGE, row["band"])] += n
    links = Member.platforms.through.objects.filter(
        member__status__in=CURRENT_STATUSES, member__deleted_at__isnull=True
    )
    for row in links.values("member__branch_id", "platform__code").annotate(n=Count("member_id")).order_by():
        counts[(row["member__branch_id"], DIM_PLATFORM, row["platform__code"])] += row["n"]
    without = current.filter(~Exists(Member.platforms.through.objects.filter(member_id=OuterRef("pk"))))
    for row in without.values("branch_id").annotate(n=Count("id")).order_by():
        counts[(row["branch_id"], DIM_PLATFORM, "")] += row["n"]
    for row in _arrears_counts(today):
        counts[(row["branch_id"], DIM_ARREARS, row["band"])] += row["n"]
    for row in _lost_contact_counts(today):
        counts[(row["branch_id"], DIM_LOST_CONTACT, row["stage"])] += row["n"]
    return dict(counts)


#
# Stored figures
#
def branch_stats_write(*, counts: dict[tuple, int], dimensions, refreshed_at: datetime.datetime) -> int:
    """Replace the rows of `dimensions` with `counts` (own counts per branch), each summed into every ancestor.

    One query for the tree, then a delete and a bulk insert in one transaction, so a reader sees either the
    old figures or the new ones. Returns the number of rows written.
    """
    paths = dict(Branch.objects.values_list("pk", "path"))
    by_hex = {pk.hex: pk for pk in paths}
    totals: dict[tuple, int] = defaultdict(int)
    for (branch_id, dimension, key), value in counts.items():
        path = paths.get(branch_id)
        if path is None or not value:
            continue
        for part in path.strip("/").split("/"):
            ancestor = by_hex.get(part)
            if ancestor is not None:
                totals[(ancestor, dimension, key or "")] += value
    rows = [
        BranchStat(branch_id=branch_id, dimension=dimension, key=key, value=value, refreshed_at=refreshed_at)
        for (branch_id, dimension, key), value in totals.items()
    ]
    with transaction.atomic():
        BranchStat.objects.filter(dimension__in=list(dimensions)).delete()
        BranchStat.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def member_stats_refresh(*, today: datetime.date | None = None) -> int:
    """Recount the members app's dimensions for every branch (the dashboard edge refreshes all apps at once)."""
    return branch_stats_write(
        counts=member_stats_count(today=today), dimensions=MEMBER_DIMENSIONS, refreshed_at=timezone.now()
    )


def branch_stats(*, branch: Branch) -> tuple[dict[str, dict[str, int]], datetime.datetime | None]:
    """The stored figures of `branch`'s subtree, {dimension: {key: value}}, and when they were computed (oldest).

    One query on the (branch, dimension, key) index.
    """
    figures: dict[str, dict[str, int]] = defaultdict(dict)
    oldest = None
    for dimension, key, value, refreshed_at in BranchStat.objects.filter(branch=branch).values_list(
        "dimension", "key", "value", "refreshed_at"
    ):
        figures[dimension][key] = value
        oldest = refreshed_at if oldest is None else min(oldest, refreshed_at)
    return dict(figures), oldest


#
# Live figures
#
def transfer_counts(*, branch: Branch, start: datetime.date, end: datetime.date, today=None) -> dict[str, int]:
    """Transfers owned by the subtree (the `?branch=` of the transfer list): open ones by status, the overdue
    (letter past its validity, receipt missing after `receipt_days`), expired letters, and the letters issued
    and transfers completed in the period. One query."""
    from members.actions.transfers import transfer_rules

    today = today or timezone.localdate()
    late = today - datetime.timedelta(days=transfer_rules()["receipt_days"])
    in_period = {"issued_on__gte": start, "issued_on__lte": end}
    return Transfer.objects.filter(branch__path__startswith=branch.path).aggregate(
        draft=Count("id", filter=Q(status=TransferStatus.DRAFT)),
        issued=Count("id", filter=Q(status=TransferStatus.ISSUED)),
        past_validity=Count("id", filter=Q(status=TransferStatus.ISSUED, valid_until__lt=today)),
        accepted=Count("id", filter=Q(status=TransferStatus.ACCEPTED)),
        receipt_missing=Count("id", filter=Q(status=TransferStatus.ACCEPTED, accepted_on__lte=late)),
        receipt_returned=Count("id", filter=Q(status=TransferStatus.RECEIPT_RETURNED)),
        expired=Count("id", filter=Q(status=TransferStatus.EXPIRED)),
        issued_in_period=Count("id", filter=Q(**in_period)),
        completed_in_period=Count(
            "id", filter=Q(status=TransferStatus.COMPLETED, completed_on__gte=start, completed_on__lte=end)
        ),
    )
