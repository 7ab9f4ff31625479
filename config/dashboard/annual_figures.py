"""Figures of one organisation's subtree over one year that no app's selectors give yet.

Each function is a fixed number of aggregate queries, whatever the number of members, activities or
cases (the counting happens in the database). They take a branch that the caller has already checked
against the user's scope: a role held at a branch covers its whole subtree, so the subtree is in scope too.

Members on a given day are reconstructed from today's records, since no history table keeps them:
- a record counts on day D when the person had joined by D, was not yet soft-deleted (an outgoing
  transfer or a correction deletes the record), and is not marked removed or deceased now (those
  statuses carry no date, so they are treated as having left before D);
- the category on D is "full" once `full_member_on` is reached (a full member without that date counts
  as full throughout);
- the formal branch on D is today's branch, corrected by the transfers accepted after D: a member
  moved into the subtree after D is taken off, one moved out of it after D is added back.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.db.models import Avg, Case, Count, DateField, Exists, F, OuterRef, Q, Sum, When
from django.utils import timezone

from branches.models import Branch
from members.choices import CURRENT_STATUSES, MemberCategory, MemberStatus
from members.models import DevelopmentStep, DuesPaidMonth, DuesPayment, LostContactCase, Member, Transfer
from members.models.development import StepCode
from members.models.mobility import LostContactStatus
from members.models.transfers import TransferKind, TransferStatus

#: Transfers whose member has moved: accepted (the formal branch moves then) and everything after.
MOVED_STATUSES = (TransferStatus.ACCEPTED, TransferStatus.RECEIPT_RETURNED, TransferStatus.COMPLETED)
#: Arrears thresholds shown (months unpaid in a row up to the month before the reference day).
ARREARS_STEPS = (1, 3, 6)


def _aware(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_current_timezone())


def year_bounds(year: int) -> tuple[datetime.date, datetime.date]:
    """First day of the year and the last day counted: 31 December, or today for the running year."""
    return datetime.date(year, 1, 1), min(datetime.date(year, 12, 31), timezone.localdate())


def _in_subtree(prefix: str, branch: Branch) -> Q:
    return Q(**{f"{prefix}path__startswith": branch.path})


def _moved_on():
    """The day a transfer moved the member: acceptance, or completion for a person coming in from outside."""
    return Case(
        When(kind=TransferKind.INCOMING, then=F("completed_on")), default=F("accepted_on"), output_field=DateField()
    )


def _present_on(day: datetime.date, prefix: str = "") -> Q:
    """Members (or, with a prefix, a related member) who belonged to the party on `day`."""
    p = prefix
    return (
        Q(**{f"{p}joined_on__lte": day})
        & (Q(**{f"{p}deleted_at__isnull": True}) | Q(**{f"{p}deleted_at__gte": _aware(day + datetime.timedelta(1))}))
        & (Q(**{f"{p}status__in": CURRENT_STATUSES}) | Q(**{f"{p}deleted_at__isnull": False}))
    )


def _full_on(day: datetime.date, prefix: str = "") -> Q:
    p = prefix
    return Q(**{f"{p}category": MemberCategory.FULL}) & (
        Q(**{f"{p}full_member_on__isnull": True}) | Q(**{f"{p}full_member_on__lte": day})
    )


def member_counts(*, branch: Branch, days: dict[str, datetime.date]) -> dict[str, dict[str, int]]:
    """{name: {"full": n, "probationary": n, "total": n}} of the subtree's members on each named day.

    Two queries: the members now in the subtree, and the transfers after the earliest day that moved
    someone across the subtree's edge.
    """
    aggregates = {}
    for name, day in days.items():
        present = _present_on(day)
        aggregates[f"{name}__total"] = Count("pk", filter=present)
        aggregates[f"{name}__full"] = Count("pk", filter=present & _full_on(day))
    base = Member.all_objects.filter(_in_subtree("branch__", branch)).aggregate(**aggregates)

    moved_in = _in_subtree("to_branch__", branch) & (
        Q(kind=TransferKind.INCOMING) | ~_in_subtree("from_branch__", branch)
    )
    moved_out = _in_subtree("from_branch__", branch) & (
        Q(kind=TransferKind.OUTGOING) | ~_in_subtree("to_branch__", branch)
    )
    transfers = Transfer.objects.filter(status__in=MOVED_STATUSES, member__isnull=False).annotate(moved_on=_moved_on())
    adjust = {}
    for name, day in days.items():
        later = Q(moved_on__gt=day) & _present_on(day, "member__")
        full = _full_on(day, "member__")
        adjust[f"{name}__in"] = Count("pk", filter=later & moved_in)
        adjust[f"{name}__in_full"] = Count("pk", filter=later & moved_in & full)
        adjust[f"{name}__out"] = Count("pk", filter=later & moved_out)
        adjust[f"{name}__out_full"] = Count("pk", filter=later & moved_out & full)
    earliest = min(days.values())
    moves = transfers.filter(moved_on__gt=earliest).filter(moved_in | moved_out).aggregate(**adjust)
    result = {}
    for name in days:
        total = base[f"{name}__total"] - moves[f"{name}__in"] + moves[f"{name}__out"]
        full = base[f"{name}__full"] - moves[f"{name}__in_full"] + moves[f"{name}__out_full"]
        result[name] = {"full": full, "probationary": total - full, "total": total}
    return result


def member_flows(*, branch: Branch, year: int) -> dict[str, int]:
    """Comings and goings of the year: applications, admissions, new full members, transfers in and out.

    Three queries: development (applications and the two approval steps), new full members, transfers.
    """
    first, last = year_bounds(year)
    steps = DevelopmentStep.objects.filter(_in_subtree("applicant__branch__", branch), done_on__range=(first, last))
    development = steps.aggregate(
        applications=Count("pk", filter=Q(code=StepCode.APPLICATION_SUBMITTED)),
        admitted=Count("pk", filter=Q(code=StepCode.ADMISSION_APPROVED)),
    )
    made_full = Member.objects.filter(_in_subtree("branch__", branch), full_member_on__range=(first, last)).count()
    moves = (
        Transfer.objects.filter(status__in=MOVED_STATUSES)
        .annotate(moved_on=_moved_on())
        .filter(moved_on__range=(first, last))
        .aggregate(
            transferred_in=Count(
                "pk",
                filter=_in_subtree("to_branch__", branch)
                & (Q(kind=TransferKind.INCOMING) | ~_in_subtree("from_branch__", branch)),
            ),
            transferred_out=Count(
                "pk",
                filter=_in_subtree("from_branch__", branch)
                & (Q(kind=TransferKind.OUTGOING) | ~_in_subtree("to_branch__", branch)),
            ),
        )
    )
    return {**development, "made_full": made_full, **moves}


def lost_contact_figures(*, branch: Branch, year: int) -> dict[str, int]:
    """Members flagged as lost contact now, and the lost-contact cases of the year (two queries)."""
    first, last = year_bounds(year)
    now = Member.objects.filter(
        _in_subtree("branch__", branch), status__in=CURRENT_STATUSES, lost_contact=True
    ).count()
    cases = LostContactCase.objects.filter(_in_subtree("member__branch__", branch)).aggregate(
        flagged=Count("pk", filter=Q(flagged_on__range=(first, last))),
        suspended=Count("pk", filter=Q(suspended_on__range=(first, last))),
        regained=Count("pk", filter=Q(status=LostContactStatus.CLOSED, closed_on__range=(first, last))),
    )
    return {"lost_contact_now": now, **cases}


def dues_figures(*, branch: Branch, year: int) -> dict:
    """Dues collected in the subtree with a receipt of `year`, and members in arrears at the year's end.

    Arrears follow members.selectors_dues: months unpaid in a row, counted back from the month before
    the reference day (1 January of the next year, or today for the running year), never before the
    month the member joined; members in normal standing at branches that collect dues (not temporary).
    Two queries.
    """
    collected = DuesPayment.objects.filter(_in_subtree("branch__", branch), receipt_year=year).aggregate(
        amount=Sum("amount"), payments=Count("pk"), payers=Count("member", distinct=True)
    )
    reference = min(datetime.date(year + 1, 1, 1), timezone.localdate())
    this_month = reference.replace(day=1)
    arrears = {}
    for months in ARREARS_STEPS:
        window_start = this_month - relativedelta(months=months)
        paid = DuesPaidMonth.objects.filter(member=OuterRef("pk"), month__gte=window_start, month__lt=this_month)
        # joined no later than the oldest month of the window, so each month of it counts as owed
        owed = Q(joined_on__lt=window_start + relativedelta(months=1))
        arrears[f"arrears_{months}"] = Count("pk", filter=owed & ~Exists(paid))
    members = Member.objects.filter(
        _in_subtree("branch__", branch), status=MemberStatus.NORMAL, branch__is_temporary=False
    ).aggregate(dues_members=Count("pk"), **arrears)
    return {
        "collected": collected["amount"] or 0,
        "payments": collected["payments"],
        "payers": collected["payers"],
        "reference": reference,
        **members,
    }


def case_figures(*, branch: Branch, year: int) -> dict:
    """Worker-service cases of the subtree opened in `year` (spam left out), like services.selectors.case_report
    but for one subtree: opened, resolved, still open, breached a deadline, satisfaction. One query."""
    from services.choices import OPEN_STATUSES
    from services.models import Case as ServiceCase
    from services.models import CaseBreach

    first, _last = year_bounds(year)
    cases = ServiceCase.objects.filter(
        _in_subtree("branch__", branch),
        suspected_spam=False,
        opened_at__gte=_aware(first),
        opened_at__lt=_aware(datetime.date(year + 1, 1, 1)),
    )
    breached = Exists(CaseBreach.objects.filter(case=OuterRef("pk")))
    figures = cases.aggregate(
        opened=Count("pk"),
        resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
        still_open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        breached=Count("pk", filter=Q(breached)),
        rating_avg=Avg("rating"),
        rating_count=Count("rating"),
    )
    opened = figures["opened"]
    figures["breach_rate"] = round(100 * figures["breached"] / opened, 1) if opened else None
    figures["rating_avg"] = round(figures["rating_avg"], 2) if figures["rating_avg"] is not None else None
    return figures


def station_figures(*, branch: Branch, year: int) -> dict[str, int]:
    """Service stations run by the subtree (open now) and their visits in `year` (two queries)."""
    from services.models import Station, StationVisit

    stations = Station.objects.filter(_in_subtree("branch__", branch), is_active=True).count()
    visits = StationVisit.objects.filter(
        _in_subtree("station__branch__", branch),
        station__deleted_at__isnull=True,
        at__gte=_aware(datetime.date(year, 1, 1)),
        at__lt=_aware(datetime.date(year + 1, 1, 1)),
    ).count()
    return {"stations": stations, "visits": visits}
