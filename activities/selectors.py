"""Reads of activities: lists in the actor's scope, invitees, scheduling warnings, quorum, attendance.

Who is invited to an activity (DOMAIN.md §2–4) is decided here and only here:
- members whose formal branch lies in the subtree of the host branch or of a co-hosting branch;
- members with an affiliation (functional, building, host for a mobile member with an activity card)
  to a branch in those subtrees, active on the activity's date;
- people invited by name (ActivityInvite).
Only members in normal standing are invited. Two forms of the rule exist, one for "the invitees of this
activity" (path prefixes known in Python, index-friendly) and one for "the activities of this member" and
"who is busy then" (correlated subqueries); tests/activities/test_selectors.py checks that they agree.
"""

import datetime
import uuid
from dataclasses import dataclass, field
from math import ceil

import chinese_calendar
from django.conf import settings
from django.db.models import (
    Aggregate,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import StartsWith
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from activities.choices import QUORUM_KINDS, ActivityKind, ActivityMode, ActivityStatus, AttendanceMethod
from activities.models import Activity, ActivityInvite, ActivitySeries, Attendance, LeaveRequest
from branches.models import Branch, CommitteeSeat
from members.choices import MemberStatus
from members.filters import MemberFilter
from members.models import Affiliation, Member
from members.selectors import member_list


#
# Lists
#
def _count(queryset) -> Coalesce:
    """COUNT(*) of a correlated queryset, as an annotation (0 when empty)."""
    counted = queryset.order_by().annotate(_one=Value(1, output_field=IntegerField())).values("_one")
    return Coalesce(Subquery(counted.annotate(n=Count("*")).values("n")[:1]), 0, output_field=IntegerField())


def _seats_on_day(branch_ref, day_ref):
    return CommitteeSeat.objects.filter(branch_id=branch_ref, started_on__lte=day_ref).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=day_ref)
    )


def with_quorum_figures(queryset: QuerySet) -> QuerySet:
    """Annotate the figures behind `activity_quorum` (voting members and committee seats, and who of them
    attended), so a list shows the quorum of every row without a query per row."""
    present = Attendance.objects.filter(activity_id=OuterRef("pk")).exclude(method=AttendanceMethod.MAKEUP)
    voters = Member.objects.filter(branch_id=OuterRef("branch_id")).voting(OuterRef("local_day"))
    voters_inner = Member.objects.filter(branch_id=OuterRef(OuterRef("branch_id"))).voting(
        OuterRef(OuterRef("local_day"))
    )
    seat_users = _seats_on_day(OuterRef(OuterRef("branch_id")), OuterRef(OuterRef("local_day"))).filter(
        user__isnull=False
    )
    return queryset.annotate(local_day=TruncDate("starts_at")).annotate(
        q_voting=_count(voters),
        q_voting_present=_count(present.filter(member__in=voters_inner.values("pk"))),
        q_committee=_count(_seats_on_day(OuterRef("branch_id"), OuterRef("local_day"))),
        q_committee_present=_count(present.filter(member__user_id__in=seat_users.values("user_id"))),
    )


class _JoinedIds(Aggregate):
    """The ids of a group as one comma-joined text (GROUP_CONCAT on SQLite, STRING_AGG on PostgreSQL), so a
    short list rides on each row of a list as a column instead of costing a query per page."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s((%(expressions)s)::text, ',')",
            **extra_context,
        )


def with_named_invitee_ids(queryset: QuerySet) -> QuerySet:
    """Annotate `named_invitee_ids` (comma-joined member ids of the named invitations, or NULL)."""
    ids = (
        ActivityInvite.objects.filter(activity_id=OuterRef("pk"))
        .order_by()
        .values("activity_id")
        .annotate(ids=_JoinedIds("member_id"))
        .values("ids")
    )
    return queryset.annotate(named_invitee_ids=Subquery(ids[:1], output_field=CharField()))


def activity_named_invitee_ids(*, activity: Activity) -> list[uuid.UUID]:
    """Ids of the members invited to `activity` by name, sorted (from the list annotation when present)."""
    if hasattr(activity, "named_invitee_ids"):
        text = activity.named_invitee_ids or ""
        return sorted(uuid.UUID(part) for part in text.split(",") if part)
    return sorted(ActivityInvite.objects.filter(activity_id=activity.pk).values_list("member_id", flat=True))


def activity_list(*, actor, perm: str = "activities.view") -> QuerySet:
    """Activities hosted or co-hosted in the actor's scope, ready for lists: host branch, organiser and
    co-hosts loaded, quorum figures and named invitees annotated (three queries for a page, whatever its size)."""
    return with_named_invitee_ids(
        with_quorum_figures(
            Activity.objects.for_actor(actor, perm)
            .select_related("branch", "organiser", "series")
            .prefetch_related("co_hosts")
        )
    )


def activity_get(*, actor, pk, perm: str = "activities.view") -> Activity:
    """One activity in the actor's scope; Activity.DoesNotExist otherwise (a 404 for the caller)."""
    return activity_list(actor=actor, perm=perm).get(pk=pk)


def attendance_list(*, actor, perm: str = "activities.view") -> QuerySet:
    """Attendances of activities hosted in the actor's scope."""
    return Attendance.objects.for_actor(actor, perm).select_related("member", "activity")


def activity_month(*, actor, year: int, month: int) -> dict[datetime.date, list[Activity]]:
    """The actor's activities of one month (local dates), grouped by day, for the calendar grid."""
    zone = timezone.get_current_timezone()
    first = datetime.datetime(year, month, 1, tzinfo=zone)
    after = datetime.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    days: dict[datetime.date, list[Activity]] = {}
    rows = (
        Activity.objects.for_actor(actor, "activities.view")
        .filter(starts_at__gte=first, starts_at__lt=after)
        .select_related("branch")
        .order_by("starts_at", "id")
    )
    for activity in rows:
        days.setdefault(timezone.localtime(activity.starts_at).date(), []).append(activity)
    return days


#
# Invitees
#
def _hosts(activity: Activity) -> list[Branch]:
    """Host and co-hosting branches (co-hosts from the prefetch cache when there is one)."""
    return [activity.branch, *activity.co_hosts.all()]


def _active_on(day) -> Q:
    return Q(started_on__lte=day) & (Q(ended_on__isnull=True) | Q(ended_on__gte=day))


def invitees_for(
    *, host_paths: list[str], on_date: datetime.date, activity_pk=None, named_member_ids=()
) -> QuerySet[Member]:
    """Members invited to an activity hosted by the branches with `host_paths`, on `on_date`: one query.

    `activity_pk` adds the activity's named invitations; `named_member_ids` names people for an
    activity not saved yet (the form's warnings).
    """
    if not host_paths:
        return Member.objects.none()
    in_subtree = Q()
    affiliated_to = Q()
    for path in host_paths:
        in_subtree |= Q(branch__path__startswith=path)
        affiliated_to |= Q(branch__path__startswith=path)
    affiliated = Affiliation.objects.filter(member_id=OuterRef("pk")).filter(_active_on(on_date)).filter(affiliated_to)
    condition = in_subtree | Exists(affiliated)
    if activity_pk is not None:
        condition |= Exists(ActivityInvite.objects.filter(activity_id=activity_pk, member_id=OuterRef("pk")))
    named = [pk for pk in named_member_ids if pk]
    if named:
        condition |= Q(pk__in=named)
    return Member.objects.filter(status=MemberStatus.NORMAL).filter(condition)


def activity_invitees(*, activity: Activity) -> QuerySet[Member]:
    """Members invited to `activity` (see the module docstring); one query once co-hosts are loaded."""
    return invitees_for(
        host_paths=[b.path for b in _hosts(activity)], on_date=activity.local_date, activity_pk=activity.pk
    )


def activity_named_invites(*, activity: Activity) -> QuerySet[ActivityInvite]:
    """The named invitations of `activity` with their members, by name (for the detail page)."""
    return activity.invites.select_related("member", "member__branch").order_by("member__name", "member_id")


def activity_attachments(*, activity: Activity) -> QuerySet:
    """Files of `activity`, oldest first; fetch the activity through a selector first (that is the check)."""
    return activity.attachments.order_by("uploaded_at", "id")


def invite_candidates(*, actor, activity: Activity, search: str) -> QuerySet[Member]:
    """Members the actor may invite by name: in their members.view scope, matching `search` (name, pinyin,
    initials, last digits, as the member list's search), live, and not invited by name already."""
    filterset = MemberFilter({"search": search}, queryset=member_list(actor=actor))
    if not search.strip() or not filterset.is_valid():
        return Member.objects.none()
    return (
        filterset.qs.filter(status=MemberStatus.NORMAL)
        .exclude(Exists(ActivityInvite.objects.filter(activity_id=activity.pk, member_id=OuterRef("pk"))))
        .order_by("name", "pk")
    )


def activity_invitee_count(*, activity: Activity) -> int:
    return activity_invitees(activity=activity).count()


def activity_is_invited(*, activity: Activity, member: Member) -> bool:
    return activity_invitees(activity=activity).filter(pk=member.pk).exists()


def _member_invited(member_path, member_pk) -> Q:
    """Over Activity rows annotated with `local_day`: the member (expressions as seen from a subquery one
    level below the Activity query) is invited. The same rule as `invitees_for`."""
    hosts = Branch.objects.filter(Q(pk=OuterRef("branch_id")) | Q(cohosted_activities=OuterRef("pk")))
    formal = Exists(hosts.filter(StartsWith(member_path, F("path"))))
    aff_hosts = Branch.objects.filter(
        Q(pk=OuterRef(OuterRef("branch_id"))) | Q(cohosted_activities=OuterRef(OuterRef("pk")))
    ).filter(StartsWith(OuterRef("branch__path"), F("path")))
    affiliated = Exists(
        Affiliation.objects.filter(member_id=member_pk)
        .filter(_active_on(OuterRef("local_day")))
        .filter(Exists(aff_hosts))
    )
    named = Exists(ActivityInvite.objects.filter(activity_id=OuterRef("pk"), member_id=member_pk))
    return Q(formal) | Q(affiliated) | Q(named)


def member_activity_list(*, member: Member) -> QuerySet[Activity]:
    """Activities `member` is invited to (any host, in scope or not: it is the member's own view)."""
    if member.status != MemberStatus.NORMAL:
        return Activity.objects.none()
    path = Value(member.branch.path, output_field=CharField())
    return (
        Activity.objects.annotate(local_day=TruncDate("starts_at"))
        .filter(_member_invited(path, member.pk))
        .select_related("branch")
    )


def member_of_user(*, user) -> Member | None:
    """The member record of a logged-in user (Member.user), for check-in and "my activities"."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Member.objects.select_related("branch").filter(user_id=user.pk).first()


#
# Scheduling help
#
@dataclass
class ScheduleWarning:
    code: str
    message: str
    data: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "details": self.data}


def _parse_clock(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def peak_overlaps(*, starts_at: datetime.datetime, ends_at: datetime.datetime) -> list[tuple[str, str]]:
    """The peak windows (settings, local time) that [starts_at, ends_at) touches."""
    zone = timezone.get_current_timezone()
    start, end = timezone.localtime(starts_at, zone), timezone.localtime(ends_at, zone)
    hits = []
    day = start.date()
    while day <= end.date():
        for first, last in settings.ACTIVITIES_PEAK_WINDOWS:
            w_start = datetime.datetime.combine(day, _parse_clock(first), tzinfo=zone)
            w_end = datetime.datetime.combine(day, _parse_clock(last), tzinfo=zone)
            if start < w_end and w_start < end and (first, last) not in hits:
                hits.append((first, last))
        day += datetime.timedelta(days=1)
    return hits


def public_holiday(day: datetime.date) -> str | None:
    """The name of the statutory holiday on `day`, or None (weekends and make-up working days are not
    holidays here; years the calendar does not know yet give None)."""
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return name if is_holiday and name else None


def busy_invitees(
    *, invitees: QuerySet[Member], starts_at, ends_at, exclude_pk=None, limit: int = 5
) -> tuple[int, list[str]]:
    """How many of `invitees` are invited to another planned or held activity overlapping the time, and
    the first few names: one query (the total rides on each row as a window count)."""
    others = (
        Activity.objects.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exclude(status=ActivityStatus.CANCELLED)
        .annotate(local_day=TruncDate("starts_at"))
    )
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    member_path = OuterRef(OuterRef("branch__path"))
    member_pk = OuterRef(OuterRef("pk"))
    busy = invitees.filter(Exists(others.filter(_member_invited(member_path, member_pk))))
    rows = list(
        busy.annotate(total=Window(expression=Count("pk"))).order_by("name", "pk").values_list("name", "total")[:limit]
    )
    if not rows:
        return 0, []
    return rows[0][1], [name for name, _total in rows]


def schedule_warnings(
    *,
    branch: Branch,
    co_hosts=(),
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    mode: str,
    activity_pk=None,
    named_member_ids=(),
) -> list[ScheduleWarning]:
    """Warnings for a planned time (never a refusal): riders' peak hours, public holidays, busy invitees."""
    warnings: list[ScheduleWarning] = []
    if not (starts_at and ends_at) or ends_at <= starts_at:
        return warnings
    if mode in (ActivityMode.OFFLINE, ActivityMode.HYBRID):
        windows = peak_overlaps(starts_at=starts_at, ends_at=ends_at)
        if windows:
            spans = ", ".join(f"{a}–{b}" for a, b in windows)
            warnings.append(
                ScheduleWarning(
                    "peak_hours",
                    _("This meets in person during riders' peak hours (%(spans)s); many cannot come then.")
                    % {"spans": spans},
                    {"windows": [f"{a}-{b}" for a, b in windows]},
                )
            )
    day = timezone.localtime(starts_at).date()
    last_day = timezone.localtime(ends_at).date()
    while day <= last_day:
        name = public_holiday(day)
        if name:
            warnings.append(
                ScheduleWarning(
                    "public_holiday",
                    _("%(date)s is a public holiday (%(name)s).") % {"date": day.isoformat(), "name": name},
                    {"date": day.isoformat(), "holiday": name},
                )
            )
            break
        day += datetime.timedelta(days=1)
    paths = [branch.path, *(b.path for b in co_hosts)]
    invitees = invitees_for(
        host_paths=paths,
        on_date=timezone.localtime(starts_at).date(),
        activity_pk=activity_pk,
        named_member_ids=named_member_ids,
    )
    count, names = busy_invitees(invitees=invitees, starts_at=starts_at, ends_at=ends_at, exclude_pk=activity_pk)
    if count:
        shown = "、".join(names) + ("…" if count > len(names) else "")
        warnings.append(
            ScheduleWarning(
                "invitees_busy",
                ngettext(
                    "%(count)d invitee already has an activity at this time: %(names)s.",
                    "%(count)d invitees already have an activity at this time: %(names)s.",
                    count,
                )
                % {"count": count, "names": shown},
                {"count": count, "names": names},
            )
        )
    return warnings


def activity_warnings(*, activity: Activity) -> list[ScheduleWarning]:
    return schedule_warnings(
        branch=activity.branch,
        co_hosts=list(activity.co_hosts.all()),
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        mode=activity.mode,
        activity_pk=activity.pk,
    )


#
# Validity
#
@dataclass
class Quorum:
    """Whether enough of those who count were present (DOMAIN.md §4)."""

    basis: str  # "voting_members" or "committee"
    entitled: int
    required: int
    present: int

    @property
    def met(self) -> bool:
        return self.entitled > 0 and self.present >= self.required

    def as_dict(self) -> dict:
        return {
            "basis": self.basis,
            "entitled": self.entitled,
            "required": self.required,
            "present": self.present,
            "met": self.met,
        }


def quorum_required(kind: str, entitled: int) -> int:
    """Branch assembly: more than half of the voting members. Committee meeting: at least half of the committee."""
    if kind == ActivityKind.BRANCH_ASSEMBLY:
        return entitled // 2 + 1
    return ceil(entitled / 2)


def activity_quorum(*, activity: Activity) -> Quorum | None:
    """The quorum of a branch assembly or committee meeting; None for other kinds.

    Uses the annotations of `with_quorum_figures` when present (lists), else two small queries.
    Make-up credit is not presence.
    """
    if activity.kind not in QUORUM_KINDS:
        return None
    if not hasattr(activity, "q_voting"):
        activity = with_quorum_figures(Activity.objects.filter(pk=activity.pk)).get()
    if activity.kind == ActivityKind.BRANCH_ASSEMBLY:
        entitled, present, basis = activity.q_voting, activity.q_voting_present, "voting_members"
    else:
        entitled, present, basis = activity.q_committee, activity.q_committee_present, "committee"
    return Quorum(basis=basis, entitled=entitled, required=quorum_required(activity.kind, entitled), present=present)


#
# Attendance and leave
#
def activity_attendances(*, activity: Activity) -> QuerySet[Attendance]:
    return activity.attendances.select_related("member").order_by("checked_in_at", "id")


def activity_leave_requests(*, activity: Activity) -> QuerySet[LeaveRequest]:
    return activity.leave_requests.select_related("member", "decided_by").order_by("requested_at")


def activity_absentees(*, activity: Activity) -> QuerySet[Member]:
    """Invitees without an attendance (candidates for make-up credit)."""
    return activity_invitees(activity=activity).exclude(
        Exists(Attendance.objects.filter(activity_id=activity.pk, member_id=OuterRef("pk")))
    )


def series_occurrences(*, series: ActivitySeries) -> QuerySet[Activity]:
    return series.occurrences.order_by("starts_at")
