"""Study hours (DOMAIN.md §4, issue 5 part 8): per member and year, from attendance and make-ups, against
the yearly targets (32 hours; 56 for secretaries and committee members).

What counts for one attendance at a held or planned (not cancelled) activity in the year of its start:
- make-up credit: its own duration;
- otherwise the activity's credited study hours when the organiser set them (> 0);
- otherwise the recorded duration (online attendance keeps it), else the activity's length.
Who has the higher target: a member whose login (Member.user) holds a committee seat at any time in the year.
A report is three queries whatever the number of members: members, their attendances, committee seats.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from activities.choices import ActivityStatus, AttendanceMethod
from activities.models import Attendance
from branches.models import Branch, CommitteeSeat
from members.choices import MemberStatus
from members.models import Member

HOUR = Decimal(60)


@dataclass
class StudyHours:
    member: Member
    hours: Decimal
    makeup_hours: Decimal
    target: int
    sessions: int

    @property
    def met(self) -> bool:
        return self.hours >= self.target

    @property
    def percent(self) -> int:
        return min(100, int(self.hours * 100 / self.target)) if self.target else 100


def _year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    zone = timezone.get_current_timezone()
    return datetime.datetime(year, 1, 1, tzinfo=zone), datetime.datetime(year + 1, 1, 1, tzinfo=zone)


def _credit(method, duration, credited, starts_at, ends_at) -> Decimal:
    if method == AttendanceMethod.MAKEUP:
        return Decimal(duration or 0) / HOUR
    if credited and credited > 0:
        return Decimal(credited)
    if duration:
        return Decimal(duration) / HOUR
    return Decimal(int((ends_at - starts_at).total_seconds() // 60)) / HOUR


def study_hours_for(*, members, year: int) -> list[StudyHours]:
    """Study hours of `members` (a list or queryset) in `year`, in their order."""
    members = list(members)
    first, after = _year_bounds(year)
    rows = (
        Attendance.objects.filter(
            member__in=[m.pk for m in members], activity__starts_at__gte=first, activity__starts_at__lt=after
        )
        .exclude(activity__status=ActivityStatus.CANCELLED)
        .filter(activity__deleted_at__isnull=True)
        .values_list(
            "member_id",
            "method",
            "duration_minutes",
            "activity__credited_hours",
            "activity__starts_at",
            "activity__ends_at",
        )
    )
    totals: dict = {}
    for member_id, method, duration, credited, starts_at, ends_at in rows:
        hours, makeup, sessions = totals.get(member_id, (Decimal(0), Decimal(0), 0))
        credit = _credit(method, duration, credited, starts_at, ends_at)
        if method == AttendanceMethod.MAKEUP:
            makeup += credit
        totals[member_id] = (hours + credit, makeup, sessions + 1)
    user_ids = [m.user_id for m in members if m.user_id]
    committee = set()
    if user_ids:
        committee = set(
            CommitteeSeat.objects.filter(user_id__in=user_ids, started_on__lt=after.date())
            .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=first.date()))
            .values_list("user_id", flat=True)
        )
    result = []
    for member in members:
        hours, makeup, sessions = totals.get(member.pk, (Decimal(0), Decimal(0), 0))
        target = (
            settings.ACTIVITIES_STUDY_HOURS_TARGET_COMMITTEE
            if member.user_id in committee
            else settings.ACTIVITIES_STUDY_HOURS_TARGET
        )
        result.append(
            StudyHours(member, hours.quantize(Decimal("0.01")), makeup.quantize(Decimal("0.01")), target, sessions)
        )
    return result


def branch_study_hours(*, branch: Branch, year: int) -> list[StudyHours]:
    """Every member in normal standing of `branch`'s subtree, by name."""
    members = (
        Member.objects.filter(branch__path__startswith=branch.path, status=MemberStatus.NORMAL)
        .select_related("branch")
        .order_by("name", "pk")
    )
    return study_hours_for(members=members, year=year)


def member_attendances(*, member: Member, year: int) -> list[tuple[Attendance, Decimal]]:
    """The member's counted attendances of `year` with the hours each gave (one query)."""
    first, after = _year_bounds(year)
    rows = (
        Attendance.objects.filter(member=member, activity__starts_at__gte=first, activity__starts_at__lt=after)
        .exclude(activity__status=ActivityStatus.CANCELLED)
        .filter(activity__deleted_at__isnull=True)
        .select_related("activity")
        .order_by("activity__starts_at")
    )
    return [
        (
            a,
            _credit(
                a.method, a.duration_minutes, a.activity.credited_hours, a.activity.starts_at, a.activity.ends_at
            ).quantize(Decimal("0.01")),
        )
        for a in rows
    ]


def study_hours_xlsx(*, rows: list[StudyHours], branch: Branch, year: int):
    """The branch report as an XLSX download."""
    from django.http import HttpResponse
    from django.utils.translation import gettext as _
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(year))
    sheet.append([_("Name"), _("Organisation"), _("Hours"), _("of which make-up"), _("Target"), _("Met")])
    for row in rows:
        sheet.append(
            [
                row.member.name,
                row.member.branch.name,
                float(row.hours),
                float(row.makeup_hours),
                row.target,
                _("yes") if row.met else _("no"),
            ]
        )
    response = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="study-hours-{year}.xlsx"'
    book.save(response)
    return response
