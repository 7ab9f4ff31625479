"""A small tree with members, dues, contacts, study, meetings, transfers and cases for the dashboard tests.

district ─┬─ delivery ─┬─ station_a: A1 rider (22, meituan+sf, committee seat), A2 courier (40, probationary,
          │            │             sf), A3 removed (never counted)
          │            └─ station_b: B1 ride-hailing driver (60, no platform)
          └─ building:  C1 internet worker (30)
"""

import datetime
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from activities.models import Activity, Attendance
from branches.choices import Role
from branches.models import CommitteeSeat
from members.actions import transfers as transfer_actions
from members.actions.mobility import member_contact_touch
from members.models import DuesPaidMonth, DuesPayment, LostContactCase, Member, Platform
from services.models import Case, CaseBreach
from tests.activities.factories import ActivityFactory
from tests.branches.factories import UserFactory
from tests.members.factories import MemberFactory, make_citizen_id
from tests.services.factories import make_case

_n = iter(range(5000, 10**6))


def born(years: int) -> datetime.date:
    """A birth date making the person `years` old today (their birthday was a month ago)."""
    return timezone.localdate() - relativedelta(years=years, months=1)


def make_member(branch, *, age: int = 35, **fields):
    return MemberFactory(branch=branch, citizen_id=make_citizen_id(next(_n), birth=born(age)), **fields)


def local(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone())


def held(branch, kind: str, when: datetime.datetime, **fields) -> Activity:
    activity = ActivityFactory(branch=branch, kind=kind, starts_at=when, ends_at=when + datetime.timedelta(hours=2))
    Activity.objects.filter(pk=activity.pk).update(status="held", **fields)
    activity.refresh_from_db()
    return activity


def attend(activity, member, method: str = "manual", minutes=None) -> None:
    Attendance.objects.create(
        branch=activity.branch,
        activity=activity,
        member=member,
        method=method,
        checked_in_at=activity.starts_at,
        duration_minutes=minutes,
    )


def pay(member, *, upto: datetime.date, paid_on: datetime.date) -> None:
    """Dues paid for the three months up to `upto` (first days of months), as the payment action records them
    (the action's own rules, assessments and receipts, are tested in tests/members)."""
    months = [upto - relativedelta(months=n) for n in (2, 1, 0)]
    payment = DuesPayment.objects.create(
        member=member,
        branch=member.branch,
        period_from=months[0],
        period_to=upto,
        amount=Decimal("3.00"),
        method="cash",
        receipt_number=f"R{next(_n)}",
        receipt_year=paid_on.year,
        paid_on=paid_on,
    )
    DuesPaidMonth.objects.bulk_create(DuesPaidMonth(member=member, month=m, payment=payment) for m in months)
    member_contact_touch(member=member, on=paid_on, kind="dues")


def age_created(member, *, months: int) -> None:
    """Make the record look entered `months` ago (last contact falls back to that date)."""
    Member.objects.filter(pk=member.pk).update(created_at=timezone.now() - relativedelta(months=months))


@pytest.fixture
def world(branch_tree, role_at):
    tree = branch_tree
    today = timezone.localdate()
    this_month = today.replace(day=1)
    meituan, sf = Platform.objects.get(code="meituan"), Platform.objects.get(code="sf")
    a1 = make_member(
        tree["station_a"], age=22, occupation="delivery_rider", platforms=[meituan, sf], user=UserFactory()
    )
    a2 = make_member(tree["station_a"], age=40, occupation="courier", category="probationary", platforms=[sf])
    a3 = make_member(tree["station_a"], age=50, occupation="delivery_rider", status="removed")
    b1 = make_member(tree["station_b"], age=60, occupation="ride_hailing_driver")
    c1 = make_member(tree["building"], age=30, occupation="internet_worker")
    # Dues: A1 paid up to last month; A2 up to four months ago (3 unpaid); B1 never (over the limit);
    # C1 up to two months ago (1 unpaid).
    pay(a1, upto=this_month - relativedelta(months=1), paid_on=today)
    pay(a2, upto=this_month - relativedelta(months=4), paid_on=today - relativedelta(months=5))
    pay(c1, upto=this_month - relativedelta(months=2), paid_on=today)
    # Contact: A2 last paid five months ago (warning), B1 entered seven months ago (to flag), C1 flagged.
    for member in (a2, b1, c1):
        age_created(member, months=7 if member is b1 else 5)
    LostContactCase.objects.create(
        member=c1, status="flagged", last_contact_on=today - relativedelta(months=6), flagged_on=today
    )
    # Study hours this year: A1 (committee seat: 56 h) 60 h, A2 33 h, B1 a 45-minute make-up.
    CommitteeSeat.objects.create(
        branch=tree["station_a"],
        post="other",
        holder_name=a1.name,
        user=a1.user,
        started_on=today.replace(month=1, day=1),
    )
    jan = local(today.replace(month=1, day=1))
    attend(held(tree["station_a"], "study", jan, credited_hours=Decimal("60")), a1)
    attend(held(tree["station_a"], "study", jan + datetime.timedelta(hours=3), credited_hours=Decimal("33")), a2)
    attend(held(tree["station_b"], "party_lecture", jan), b1, method="makeup", minutes=45)
    # Meetings: a committee meeting at station A in January and February of this year.
    held(tree["station_a"], "committee_meeting", local(today.replace(month=1, day=10)))
    held(tree["station_a"], "committee_meeting", local(today.replace(month=2, day=10)))
    # Transfers: a draft from A (A2 → B), a letter issued from B (B1 → A) and already past its validity.
    sec_a, sec_b = role_at(tree["station_a"], Role.SECRETARY), role_at(tree["station_b"], Role.SECRETARY)
    transfer_actions.transfer_create(actor=sec_a, member=a2, to_branch=tree["station_b"])
    issued = transfer_actions.transfer_create(actor=sec_b, member=b1, to_branch=tree["station_a"])
    issued = transfer_actions.transfer_issue(actor=sec_b, transfer=issued)
    type(issued).objects.filter(pk=issued.pk).update(
        issued_on=today - datetime.timedelta(days=100), valid_until=today - datetime.timedelta(days=40)
    )
    # Cases at station A this month: two opened, one resolved and rated 4, one breached; spam never counts.
    now = timezone.now()
    resolved = make_case(tree["station_a"])
    Case.objects.filter(pk=resolved.pk).update(status="resolved", resolved_at=now, rating=4, rated_at=now)
    breached = make_case(tree["station_a"])
    CaseBreach.objects.create(case=breached, kind="resolution", due_at=now, at=now)
    spam = make_case(tree["station_b"])
    Case.objects.filter(pk=spam.pk).update(suspected_spam=True)
    return {"tree": tree, "members": {"a1": a1, "a2": a2, "a3": a3, "b1": b1, "c1": c1}, "today": today}
