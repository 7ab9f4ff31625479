"""The daily member-sized sweeps: the SQL selections agree with the rules they replace (edge cases at the
thresholds), and the queries of a sweep do not grow with the number of members it looks at."""

import datetime
import itertools
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from branches.choices import Role
from core.models import Notification
from members.actions import mobility as ma
from members.actions.dues import ARREARS_LIMIT, ARREARS_WARNINGS
from members.models import DuesPaidMonth, DuesPayment, LostContactCase, Member, MobilityReminderLog
from members.selectors_development import development_reminders_due
from members.selectors_dues import dues_reminders_due, member_arrears
from members.selectors_mobility import (
    last_contact_of,
    lost_contact_cases_resumed,
    lost_contact_sweep_due,
    report_in_reminders_due,
)
from tests.members.dev_helpers import new_applicant, seeded
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)
_receipts = itertools.count(1)


def months_ago(n: int) -> datetime.date:
    return THIS_MONTH - relativedelta(months=n)


def paid_months(member, *months) -> None:
    """Months marked paid directly (the payment rules are tested in test_dues_actions.py)."""
    for month in months:
        payment = DuesPayment.objects.create(
            member=member,
            branch=member.branch,
            period_from=month,
            period_to=month,
            amount=Decimal("1.00"),
            method="cash",
            receipt_number=f"S{next(_receipts)}",
            receipt_year=TODAY.year,
            paid_on=TODAY,
        )
        DuesPaidMonth.objects.create(member=member, month=month, payment=payment)


def count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx)


#
# Dues: `dues_reminders_due` (one query) against `member_arrears` (the count the send uses)
#
@pytest.fixture
def dues_cases(branch_tree):
    branch = branch_tree["station_a"]
    old = D(2015, 7, 1)

    def unpaid_for(n):  # exactly n unpaid months up to last month, paid before them
        member = MemberFactory(branch=branch, joined_on=old)
        paid_months(member, months_ago(n + 1))
        return member

    cases = {f"unpaid_{n}": unpaid_for(n) for n in (0, 1, 2, 3, 4, 5, 6, 7)}
    cases["never_paid"] = MemberFactory(branch=branch, joined_on=old)
    # Joined recently: the months before joining are not owed.
    cases["joined_3_months_ago_late_in_month"] = MemberFactory(
        branch=branch, joined_on=months_ago(3) + datetime.timedelta(days=27)
    )
    cases["joined_2_months_ago"] = MemberFactory(branch=branch, joined_on=months_ago(2))
    cases["joined_5_months_ago"] = MemberFactory(branch=branch, joined_on=months_ago(5))
    cases["joined_6_months_ago"] = MemberFactory(branch=branch, joined_on=months_ago(6) + datetime.timedelta(days=3))
    # Paid months after a gap, or only in advance.
    cases["paid_ahead_and_7_months_ago"] = MemberFactory(branch=branch, joined_on=old)
    paid_months(cases["paid_ahead_and_7_months_ago"], THIS_MONTH, months_ago(-1), months_ago(7))
    cases["gap_3_after_older_gap"] = MemberFactory(branch=branch, joined_on=old)
    paid_months(cases["gap_3_after_older_gap"], months_ago(4), months_ago(9))
    # Left out whatever they owe: not in normal standing, or at a temporary branch.
    cases["suspended_unpaid_4"] = unpaid_for(4)
    Member.objects.filter(pk=cases["suspended_unpaid_4"].pk).update(status="suspended")
    temporary = branch_tree["station_b"]
    type(temporary).objects.filter(pk=temporary.pk).update(is_temporary=True)
    cases["temporary_branch_unpaid_4"] = MemberFactory(branch=temporary, joined_on=old)
    paid_months(cases["temporary_branch_unpaid_4"], months_ago(5))
    return cases


def test_dues_cases_count_as_expected(dues_cases):
    counted = {key: member_arrears(member=m, today=TODAY)[0] for key, m in dues_cases.items()}
    assert counted["joined_3_months_ago_late_in_month"] == 3  # the month joined in counts
    assert counted["joined_2_months_ago"] == 2
    assert counted["joined_5_months_ago"] == 5
    assert counted["joined_6_months_ago"] == 6
    assert counted["paid_ahead_and_7_months_ago"] == 6
    assert counted["gap_3_after_older_gap"] == 3
    assert [counted[f"unpaid_{n}"] for n in range(8)] == list(range(8))


def test_dues_reminders_due_selects_the_members_the_rule_selects(dues_cases):
    def rule(member):
        if member.status != "normal" or member.branch.is_temporary:
            return False
        return min(ARREARS_WARNINGS) <= member_arrears(member=member, today=TODAY)[0] < ARREARS_LIMIT

    members = Member.objects.filter(pk__in=[m.pk for m in dues_cases.values()]).select_related("branch")
    expected = {m.pk for m in members if rule(m)}
    names = {m.pk: key for key, m in dues_cases.items()}
    assert sorted(names[pk] for pk in dues_reminders_due(today=TODAY)) == sorted(names[pk] for pk in expected)
    assert sorted(names[pk] for pk in expected) == [
        "gap_3_after_older_gap",
        "joined_3_months_ago_late_in_month",
        "joined_5_months_ago",
        "unpaid_3",
        "unpaid_4",
        "unpaid_5",
    ]


def test_dues_reminders_due_one_query_whatever_the_number_due(branch_tree, django_assert_num_queries):
    branch = branch_tree["station_a"]
    for n in (3, 30):
        while len(dues_reminders_due(today=TODAY)) < n:
            paid_months(MemberFactory(branch=branch, joined_on=D(2015, 7, 1)), months_ago(5))  # 4 unpaid
        with django_assert_num_queries(1):
            assert len(dues_reminders_due(today=TODAY)) == n


#
# Lost contact
#
@pytest.fixture
def station(branch_tree, role_at):
    a = branch_tree["station_a"]
    return {"a": a, "sec": role_at(a, Role.SECRETARY), "parent": branch_tree["delivery"]}


def _aged(branch, days: int, n: int = 1) -> list:
    """`n` members of `branch` entered `days` ago, with no contact known since."""
    members = [MemberFactory(branch=branch) for _i in range(n)]
    Member.objects.filter(pk__in=[m.pk for m in members]).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )
    return members


def test_lost_contact_sweep_due_at_the_thresholds(station):
    warn_day = TODAY - relativedelta(months=3)
    flag_day = TODAY - relativedelta(months=6)
    ages = {
        "just_before_warning": (TODAY - warn_day).days - 1,
        "at_warning": (TODAY - warn_day).days,
        "before_flag": (TODAY - flag_day).days - 1,
        "at_flag": (TODAY - flag_day).days,
    }
    members = {key: _aged(station["a"], days)[0] for key, days in ages.items()}
    flagged = _aged(station["a"], 400)[0]
    Member.objects.filter(pk=flagged.pk).update(lost_contact=True, lost_contact_since=TODAY - relativedelta(years=1))
    names = {m.pk: key for key, m in members.items()}
    names[flagged.pk] = "already_flagged"
    due = {names[pk] for pk in lost_contact_sweep_due(today=TODAY).values_list("pk", flat=True)}
    assert due == {"at_warning", "before_flag", "at_flag"}


def test_lost_contact_sweep_due_leaves_out_members_warned_to_every_keeper(station, role_at):
    member = _aged(station["a"], 100)[0]
    assert list(lost_contact_sweep_due().values_list("pk", flat=True)) == [member.pk]
    assert ma.lost_contact_sweep() == 1
    assert not lost_contact_sweep_due().exists()  # the sweep would send nothing: left out
    officer = role_at(station["parent"], Role.OFFICER)  # a keeper not told yet: back in
    assert list(lost_contact_sweep_due().values_list("pk", flat=True)) == [member.pk]
    assert ma.lost_contact_sweep() == 1
    assert Notification.objects.filter(recipient=officer, kind="members.lost_contact_warning").count() == 1
    assert ma.lost_contact_sweep() == 0


def test_lost_contact_sweep_due_new_contact_date_is_a_new_warning(station):
    member = _aged(station["a"], 100)[0]
    assert ma.lost_contact_sweep() == 1
    ma.member_contact_touch(member=member, on=TODAY - datetime.timedelta(days=95))  # still over three months
    assert list(lost_contact_sweep_due().values_list("pk", flat=True)) == [member.pk]
    assert ma.lost_contact_sweep() == 1
    periods = set(MobilityReminderLog.objects.values_list("period", flat=True))
    assert periods == {str(last_contact_of(member)), str(TODAY - datetime.timedelta(days=100))}


def test_lost_contact_flag_stage_is_selected_even_without_keepers(branch_tree):
    member = _aged(branch_tree["station_b"], 200)[0]  # no secretary there: flagged, nobody told
    assert list(lost_contact_sweep_due().values_list("pk", flat=True)) == [member.pk]
    assert ma.lost_contact_sweep() == 0
    assert Member.objects.get(pk=member.pk).lost_contact


def test_lost_contact_cases_resumed_matches_the_per_case_rule(station):
    members = _aged(station["a"], 200, n=4)
    ma.lost_contact_sweep()
    cases = {c.member_id: c for c in LostContactCase.objects.all()}
    assert len(cases) == 4
    resumed, same_day, nothing, proposed = members
    ma.member_contact_touch(member=resumed, on=TODAY)
    ma.member_contact_touch(member=same_day, on=cases[same_day.pk].last_contact_on)  # not later: still lost
    ma.member_contact_touch(member=proposed, on=TODAY, kind="dues")
    ma.lost_contact_propose(actor=station["sec"], case=cases[proposed.pk])
    expected = {
        c.pk
        for c in LostContactCase.objects.filter(status__in=("flagged", "proposed"))
        if last_contact_of(c.member) > c.last_contact_on
    }
    assert set(lost_contact_cases_resumed().values_list("pk", flat=True)) == expected
    assert expected == {cases[resumed.pk].pk, cases[proposed.pk].pk}
    ma.lost_contact_sweep()
    closed = set(LostContactCase.objects.filter(status="closed").values_list("member_id", flat=True))
    assert closed == {resumed.pk, proposed.pk}


def test_lost_contact_sweep_queries_do_not_grow_with_members_already_warned(station, django_assert_num_queries):
    _aged(station["a"], 100, n=3)
    assert ma.lost_contact_sweep() == 3
    few = count_queries(ma.lost_contact_sweep)
    _aged(station["a"], 100, n=27)
    assert ma.lost_contact_sweep() == 27
    with django_assert_num_queries(few):
        assert ma.lost_contact_sweep() == 0
    assert few == 3  # the cases whose contact resumed, the members due (none), the removals due


#
# Report-in reminders
#
def _mobile(branch, n: int) -> list:
    members = [MemberFactory(branch=branch) for _i in range(n)]
    Member.objects.filter(pk__in=[m.pk for m in members]).update(is_mobile=True, mobile_destination="Shenzhen")
    return members


def test_report_in_reminders_due_matches_the_rule_and_leaves_out_those_told(station, role_at, settings):
    settings.MEMBERS_MOBILITY = {"report_in_month": 1}
    reported, missing, back_home = _mobile(station["a"], 3)
    Member.objects.filter(pk=back_home.pk).update(is_mobile=False, mobile_destination="")
    ma.report_in_record(actor=station["sec"], member=reported, reported_on=TODAY, channel="phone")
    assert list(report_in_reminders_due(year=TODAY.year).values_list("pk", flat=True)) == [missing.pk]
    assert ma.report_in_reminders_send() == 1
    assert not report_in_reminders_due(year=TODAY.year).exists()
    next_year = set(report_in_reminders_due(year=TODAY.year + 1).values_list("pk", flat=True))
    assert next_year == {reported.pk, missing.pk}  # a new year, a new reminder
    role_at(station["parent"], Role.OFFICER)
    assert list(report_in_reminders_due(year=TODAY.year).values_list("pk", flat=True)) == [missing.pk]
    assert ma.report_in_reminders_send() == 1


def test_report_in_reminders_queries_do_not_grow_with_members_told(station, settings, django_assert_num_queries):
    settings.MEMBERS_MOBILITY = {"report_in_month": 1}
    _mobile(station["a"], 3)
    assert ma.report_in_reminders_send() == 3
    few = count_queries(ma.report_in_reminders_send)
    _mobile(station["a"], 27)
    assert ma.report_in_reminders_send() == 27
    with django_assert_num_queries(few):
        assert ma.report_in_reminders_send() == 0
    assert few == 1


#
# Development deadlines: walked in chunks, a fixed number of queries
#
def test_development_reminders_due_queries_do_not_grow(station, django_assert_num_queries):
    seeded()
    applied = TODAY - datetime.timedelta(days=40)
    for n in (3, 30):
        for i in range(len(development_reminders_due()), n):
            new_applicant(actor=station["sec"], branch=station["a"], n=i + 1, applied_on=applied)
        with django_assert_num_queries(3):  # the interval table, the applicants (with member), their steps
            assert len(development_reminders_due()) == n


def test_lost_contact_sweep_walks_every_chunk(station, monkeypatch):
    monkeypatch.setattr(ma, "SWEEP_CHUNK", 2)
    _aged(station["a"], 100, n=5)
    _aged(station["a"], 200, n=2)
    assert ma.lost_contact_sweep() == 7
    assert Member.objects.filter(lost_contact=True).count() == 2
    assert ma.lost_contact_sweep() == 0


def test_lost_contact_sweep_rechecks_the_rule_when_a_chunk_is_loaded(station, monkeypatch):
    member = _aged(station["a"], 100)[0]
    real = ma._in_chunks

    def contact_after_the_ids_were_read(ids, rows):
        ids = list(ids)
        assert ids == [member.pk]
        ma.member_contact_touch(member=member, on=TODAY)
        return real(ids, rows)

    monkeypatch.setattr(ma, "_in_chunks", contact_after_the_ids_were_read)
    assert ma.lost_contact_sweep() == 0
    assert not MobilityReminderLog.objects.exists()
