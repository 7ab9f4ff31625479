"""Reads for mobile and lost-contact members: activity cards, report-ins, last contact and the lost-contact report.

Last contact is one SQL expression (`LAST_CONTACT`), so the per-branch report is one query whatever
the number of members: the latest of last attendance, last dues paid and last report-in, or the date the
record was entered when none is known yet.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.db.models import CharField, Exists, F, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Cast, Coalesce, Greatest, TruncDate
from django.utils import timezone

from branches.choices import Role
from branches.models import RoleAssignment
from members.actions.mobility import mobility_rules
from members.choices import CURRENT_STATUSES, MemberStatus
from members.models import ActivityCard, LostContactCase, Member, MobilityReminderLog, ReportIn
from members.models.mobility import LOST_CONTACT_OPEN, LostContactStatus


def _last_report_in(member_ref: str = "pk"):
    return Subquery(
        ReportIn.objects.filter(member_id=OuterRef(member_ref)).order_by("-reported_on").values("reported_on")[:1]
    )


def _last_contact(prefix: str = "", member_ref: str = "pk"):
    """The last-contact expression of the member reached through `prefix` ("" on Member, "member__" on a case)."""
    entered = TruncDate(f"{prefix}created_at")
    return Greatest(
        Coalesce(F(f"{prefix}contact__last_attended_on"), entered),
        Coalesce(F(f"{prefix}contact__last_paid_on"), entered),
        Coalesce(_last_report_in(member_ref), entered),
    )


def with_last_contact(queryset):
    """Annotate members with `last_contact_on` (see the module docstring)."""
    return queryset.annotate(last_contact_on=_last_contact())


def last_contact_of(member: Member) -> datetime.date | None:
    value = with_last_contact(Member.objects.filter(pk=member.pk)).values_list("last_contact_on", flat=True).first()
    if isinstance(value, str):  # SQLite returns the GREATEST of dates as text
        value = datetime.date.fromisoformat(value)
    return value


def _cutoffs(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    rules = mobility_rules()
    return today - relativedelta(months=rules["warn_months"]), today - relativedelta(months=rules["flag_months"])


def lost_contact_candidates(*, today: datetime.date | None = None):
    """Members in normal standing whose last contact is at least the warning period ago (whole system)."""
    today = today or timezone.localdate()
    warn_cutoff, _flag = _cutoffs(today)
    return (
        with_last_contact(Member.objects.filter(status=MemberStatus.NORMAL))
        .filter(last_contact_on__lte=warn_cutoff)
        .order_by("pk")
    )


def _keeper_not_told(*, kind: str, period) -> Exists:
    """EXISTS a keeper of the (outer) member's branch (`members.actions.transfers.branch_keepers`: its
    secretaries and its parent's officers, active accounts) without a sent `kind` reminder for `period`.

    `period` is a value, or an OuterRef to an annotation of the member query. When it is false, the
    reminder's `_send_once` sends nothing (every log row is already claimed), so the member can be left out.
    """
    told = MobilityReminderLog.objects.filter(
        kind=kind,
        member_id=OuterRef(OuterRef("pk")),
        period=period,
        recipient_id=OuterRef("user_id"),
        sent_at__isnull=False,
    )
    keepers = RoleAssignment.objects.filter(user__is_active=True).filter(
        Q(branch_id=OuterRef("branch_id"), role=Role.SECRETARY)
        | Q(branch_id=OuterRef("branch__parent_id"), role=Role.OFFICER)
    )
    return Exists(keepers.filter(~Exists(told)))


def lost_contact_cases_resumed():
    """Flagged and proposed lost-contact cases whose member has been in contact since the case's date
    (the sweep closes them). One query: last contact is computed in SQL, not per case."""
    return (
        LostContactCase.objects.filter(status__in=(LostContactStatus.FLAGGED, LostContactStatus.PROPOSED))
        .annotate(current_contact_on=_last_contact("member__", "member_id"))
        .filter(current_contact_on__gt=F("last_contact_on"))
        .order_by("pk")
    )


def lost_contact_sweep_due(*, today: datetime.date | None = None):
    """The members the daily lost-contact sweep acts on: `lost_contact_candidates` not flagged yet, less
    those at the warning stage whose keepers have all been warned for this last-contact date already
    (the sweep would send them nothing). Annotated with `last_contact_on`; ordered by id, for chunks."""
    today = today or timezone.localdate()
    _warn, flag_cutoff = _cutoffs(today)
    not_told = _keeper_not_told(kind="lost_contact_warning", period=OuterRef(OuterRef("contact_period")))
    return (
        lost_contact_candidates(today=today)
        .filter(lost_contact=False)
        .annotate(contact_period=Cast("last_contact_on", CharField()))
        .filter(Q(last_contact_on__lte=flag_cutoff) | not_told)
    )


def lost_contact_report(*, actor, branch=None, today: datetime.date | None = None):
    """Members of the actor's scope (or `branch`'s subtree) with a warning, a flag or a suspension for lost contact.

    Each row has `last_contact_on` and its open case prefetched (`open_cases`); two queries in all.
    """
    today = today or timezone.localdate()
    warn_cutoff, _flag = _cutoffs(today)
    members = Member.objects.for_actor(actor, "members.view").filter(status__in=CURRENT_STATUSES)
    if branch is not None:
        members = members.filter(branch__path__startswith=branch.path)
    open_case = LostContactCase.objects.filter(member_id=OuterRef("pk"), status__in=LOST_CONTACT_OPEN)
    return (
        with_last_contact(members)
        .annotate(has_case=Exists(open_case))
        .filter(Q(last_contact_on__lte=warn_cutoff) | Q(has_case=True) | Q(lost_contact=True))
        .select_related("branch")
        .prefetch_related(
            Prefetch(
                "lost_contact_cases",
                queryset=LostContactCase.objects.filter(status__in=LOST_CONTACT_OPEN),
                to_attr="open_cases",
            )
        )
        .order_by("last_contact_on", "pk")
    )


def lost_contact_stage(member: Member, today: datetime.date | None = None) -> str:
    """ "suspended", "proposed", "flagged", "flag_due" or "warning" for a row of `lost_contact_report`."""
    today = today or timezone.localdate()
    cases = getattr(member, "open_cases", None) or []
    if cases:
        return cases[0].status
    last = member.last_contact_on
    if isinstance(last, str):
        last = datetime.date.fromisoformat(last)
    _warn, flag_cutoff = _cutoffs(today)
    return "flag_due" if last <= flag_cutoff else "warning"


def activity_card_list(*, actor):
    """Activity cards of members in the actor's scope, newest first."""
    return (
        ActivityCard.objects.filter(member__in=Member.objects.for_actor(actor, "members.view"))
        .select_related("member", "member__branch", "host_branch")
        .order_by("ended_on", "-starts_on", "-created_at")
    )


def report_in_list(*, actor, year: int | None = None):
    """Report-ins of members in the actor's scope, newest first (one year when given)."""
    rows = ReportIn.objects.filter(member__in=Member.objects.for_actor(actor, "members.view")).select_related(
        "member", "member__branch"
    )
    if year:
        rows = rows.filter(reported_on__year=year)
    return rows.order_by("-reported_on", "-created_at")


def report_in_missing(*, year: int, actor=None):
    """Mobile members (current) without a report-in in `year`; the actor's scope when given, else all."""
    members = Member.objects.all() if actor is None else Member.objects.for_actor(actor, "members.view")
    reported = ReportIn.objects.filter(member_id=OuterRef("pk"), reported_on__year=year)
    return members.filter(is_mobile=True, status__in=CURRENT_STATUSES).filter(~Exists(reported)).order_by("name", "pk")


def report_in_reminders_due(*, year: int):
    """`report_in_missing` (all members) less those whose keepers have all been reminded for `year`
    already (the sweep would send them nothing); ordered by id, for chunks."""
    return (
        report_in_missing(year=year)
        .filter(_keeper_not_told(kind="report_in_missing", period=str(year)))
        .order_by("pk")
    )
