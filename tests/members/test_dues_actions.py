"""Dues rules: brackets, bases, reductions with approval, payments and their refusals, arrears, reminders."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from branches.choices import Role
from core.exceptions import Conflict
from core.models import AuditEntry, Notification
from members.actions import (
    affiliation_add,
    dues_assess,
    dues_monthly_amount,
    dues_payment_record,
    dues_payment_void,
    dues_reduction_decide,
    dues_reduction_request,
    dues_reminder_send,
    member_update,
    monthly_income_record,
)
from members.models import DuesBracket, DuesPaidMonth, DuesPayment, DuesReminderLog, Member, MemberContact
from members.selectors_dues import (
    LOOKBACK_MONTHS,
    arrears_band_bounds,
    dues_arrears,
    dues_arrears_list,
    dues_reminders_due,
    dues_yearly_report,
    member_arrears,
)
from members.stats import ARREARS_BANDS
from tests.members.dev_helpers import seeded
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)


def months_ago(n: int) -> datetime.date:
    from dateutil.relativedelta import relativedelta

    return THIS_MONTH - relativedelta(months=n)


@pytest.fixture(autouse=True)
def _seed(db):
    seeded()


@pytest.fixture
def branch(branch_tree):
    return branch_tree["station_a"]


@pytest.fixture
def secretary(branch, role_at):
    return role_at(branch, Role.SECRETARY)


@pytest.fixture
def member(branch):
    return MemberFactory(branch=branch, joined_on=D(2015, 7, 1))


def assessed(member, secretary, amount="4000"):
    for year in {months_ago(7).year, TODAY.year, months_ago(-7).year}:
        dues_assess(actor=secretary, member=member, year=year, base_kind="salary", base_amount=Decimal(amount))


def pay(member, secretary, first, last=None, amount=None, receipt="R1", **kwargs):
    last = last or first
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    return dues_payment_record(
        actor=secretary,
        member=member,
        period_from=first,
        period_to=last,
        amount=amount if amount is not None else Decimal("40.00") * months,
        method="wechat",
        receipt_number=receipt,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("kind", "base", "expected"),
    [
        ("salary", "2999.99", "15.00"),
        ("salary", "3000", "15.00"),
        ("salary", "3000.01", "30.00"),
        ("salary", "5000", "50.00"),
        ("salary", "7777", "116.66"),
        ("salary", "10000", "150.00"),
        ("salary", "12345", "246.90"),
        ("pension", "5000", "25.00"),
        ("pension", "6000", "60.00"),
        ("variable", "4000", "40.00"),
        ("fixed_low", "0", "0.20"),
        ("salary", "0", "0.00"),
    ],
)
def test_dues_monthly_amount_brackets(kind, base, expected):
    assert dues_monthly_amount(base_kind=kind, base_amount=Decimal(base)) == Decimal(expected)


def test_dues_monthly_amount_follows_the_editable_table():
    DuesBracket.objects.filter(base_kind="salary", lower=0).update(rate=Decimal("0.01"))
    assert dues_monthly_amount(base_kind="salary", base_amount=Decimal("2000")) == Decimal("20.00")


def test_dues_assess_variable_uses_previous_quarter_average(member, secretary):
    as_of = D(2026, 5, 10)
    for month, amount in ((D(2026, 1, 1), "3000"), (D(2026, 2, 1), "6000"), (D(2026, 3, 1), "4500")):
        monthly_income_record(actor=secretary, member=member, month=month, amount=Decimal(amount))
    monthly_income_record(actor=secretary, member=member, month=D(2026, 4, 1), amount=Decimal("99999"))
    assessment = dues_assess(actor=secretary, member=member, year=2026, base_kind="variable", as_of=as_of)
    assert assessment.base_amount == Decimal("4500.00")
    assert assessment.monthly_amount == Decimal("45.00")


def test_dues_assess_variable_needs_all_three_months(member, secretary):
    monthly_income_record(actor=secretary, member=member, month=D(2026, 1, 1), amount=Decimal("3000"))
    with pytest.raises(ValidationError, match="2026-02"):
        dues_assess(actor=secretary, member=member, year=2026, base_kind="variable", as_of=D(2026, 4, 2))


def test_dues_assess_refuses_negative_base_and_fixed_low_is_flat(member, secretary):
    with pytest.raises(ValidationError):
        dues_assess(actor=secretary, member=member, year=TODAY.year, base_kind="salary", base_amount=Decimal("-1"))
    assessment = dues_assess(actor=secretary, member=member, year=TODAY.year, base_kind="fixed_low")
    assert assessment.monthly_amount == Decimal("0.20")
    assert AuditEntry.objects.filter(action="members.dues.assessed").count() == 1


def test_reduction_pending_until_upper_approves(member, secretary, branch_tree, role_at):
    assessment = dues_assess(
        actor=secretary, member=member, year=TODAY.year, base_kind="salary", base_amount=Decimal("4000")
    )
    assessment = dues_reduction_request(
        actor=secretary, assessment=assessment, reduced_amount=Decimal("5"), reason="Illness"
    )
    assert assessment.reduction_status == "pending"
    assert assessment.effective_amount == Decimal("40.00")
    with pytest.raises(PermissionDenied):
        dues_reduction_decide(actor=secretary, assessment=assessment, approve=True)
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    assessment = dues_reduction_decide(actor=officer, assessment=assessment, approve=True)
    assert assessment.effective_amount == Decimal("5")
    with pytest.raises(Conflict):
        dues_reduction_decide(actor=officer, assessment=assessment, approve=False)


def test_reduction_refuses_amount_not_below_dues(member, secretary):
    assessment = dues_assess(
        actor=secretary, member=member, year=TODAY.year, base_kind="salary", base_amount=Decimal("4000")
    )
    for bad in ("40", "-1"):
        with pytest.raises(ValidationError):
            dues_reduction_request(actor=secretary, assessment=assessment, reduced_amount=Decimal(bad), reason="x")


#
# Payments
#
def test_payment_records_months_and_audits(member, secretary):
    assessed(member, secretary)
    payment = pay(member, secretary, months_ago(1))
    assert payment.receipt_year == TODAY.year
    assert list(DuesPaidMonth.objects.filter(member=member).values_list("month", flat=True)) == [months_ago(1)]
    assert AuditEntry.objects.filter(action="members.dues_payment.recorded", object_id=str(payment.pk)).exists()
    # A payment is a contact with the member (lost-contact rules, DOMAIN.md §3).
    assert MemberContact.objects.get(member=member).last_paid_on == payment.paid_on


def test_payment_refuses_a_period_already_paid(member, secretary):
    assessed(member, secretary)
    pay(member, secretary, months_ago(2), months_ago(1), note="Back payment")
    with pytest.raises(ValidationError, match="Already paid"):
        pay(member, secretary, months_ago(1), THIS_MONTH, receipt="R2", note="two months")
    assert DuesPayment.objects.count() == 1
    assert DuesPaidMonth.objects.count() == 2


@pytest.mark.parametrize("amount", ["-40", "0", "100000.01", "40.001", "39.99"])
def test_payment_refuses_negative_absurd_or_short_amounts(member, secretary, amount):
    assessed(member, secretary)
    with pytest.raises(ValidationError) as exc:
        pay(member, secretary, THIS_MONTH, amount=Decimal(amount))
    assert "amount" in exc.value.message_dict
    assert not DuesPayment.objects.exists()


def test_payment_allows_more_than_due(member, secretary):
    assessed(member, secretary)
    assert pay(member, secretary, THIS_MONTH, amount=Decimal("100")).amount == Decimal("100")


def test_payment_back_or_advance_at_most_6_months(member, secretary):
    assessed(member, secretary)
    with pytest.raises(ValidationError) as exc:
        pay(member, secretary, months_ago(7), note="late")
    assert "period_from" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        pay(member, secretary, months_ago(-7), note="early")
    assert "period_to" in exc.value.message_dict
    pay(member, secretary, months_ago(6), receipt="R6")
    pay(member, secretary, months_ago(-6), receipt="R7")


def test_payment_several_months_need_a_reason_unless_mobile_quarter(member, secretary, branch_tree):
    assessed(member, secretary)
    with pytest.raises(ValidationError) as exc:
        pay(member, secretary, THIS_MONTH, months_ago(-2))
    assert "note" in exc.value.message_dict
    member = member_update(actor=secretary, member=member, is_mobile=True, mobile_destination="Shenzhen")
    pay(member, secretary, THIS_MONTH, months_ago(-2))
    with pytest.raises(ValidationError):
        pay(member, secretary, months_ago(-3), months_ago(-6), receipt="R2")


def test_payment_at_host_branch_for_mobile_member_only(member, secretary, branch_tree, role_at):
    assessed(member, secretary)
    host = branch_tree["building"]
    host_secretary = role_at(host, Role.SECRETARY)
    affiliation_add(actor=secretary, member=member, branch=host, kind="host", started_on=months_ago(2))
    with pytest.raises(ValidationError) as exc:
        pay(member, host_secretary, THIS_MONTH, branch=host)
    assert "branch" in exc.value.message_dict
    member = member_update(actor=secretary, member=member, is_mobile=True, mobile_destination="Building")
    payment = pay(member, host_secretary, THIS_MONTH, branch=host)
    assert payment.branch == host
    assert payment.member == member
    # paying this month at the host clears nothing before it: last month back to the 24-month look-back is owed
    assert member_arrears(member=member, today=TODAY)[0] == LOOKBACK_MONTHS
    assert DuesPaidMonth.objects.get(member=member).month == THIS_MONTH


def test_payment_receipt_unique_per_branch_and_year(member, secretary, branch):
    assessed(member, secretary)
    other = MemberFactory(branch=branch)
    assessed(other, secretary)
    pay(member, secretary, THIS_MONTH, receipt="A-1")
    with pytest.raises(ValidationError) as exc:
        pay(other, secretary, THIS_MONTH, receipt="A-1")
    assert "receipt_number" in exc.value.message_dict


def test_payment_needs_assessment_and_dues_scope(member, secretary, branch_tree, role_at):
    with pytest.raises(ValidationError, match="Assess"):
        pay(member, secretary, THIS_MONTH)
    assessed(member, secretary)
    organiser = role_at(branch_tree["station_a"], Role.ORGANISER)
    with pytest.raises(PermissionDenied):
        pay(member, organiser, THIS_MONTH)


def test_payment_refused_at_temporary_branch(member, secretary, branch):
    assessed(member, secretary)
    branch.is_temporary = True
    branch.save()
    member.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        pay(member, secretary, THIS_MONTH)
    assert "branch" in exc.value.message_dict


def test_payment_void_frees_the_months(member, secretary):
    assessed(member, secretary)
    payment = pay(member, secretary, THIS_MONTH)
    dues_payment_void(actor=secretary, payment=payment, reason="Typo")
    assert not DuesPaidMonth.objects.exists()
    pay(member, secretary, THIS_MONTH, receipt="R1")


#
# Arrears and reminders
#
def test_arrears_counts_consecutive_unpaid_months(member, secretary, branch):
    assessed(member, secretary)
    pay(member, secretary, months_ago(4))
    assert member_arrears(member=member, today=TODAY) == (3, months_ago(3))
    rows = dues_arrears(actor=secretary, branch=branch, today=TODAY)
    assert [(r.member, r.unpaid) for r in rows] == [(member, 3)]


def test_arrears_not_before_joining(branch, secretary):
    newcomer = MemberFactory(branch=branch, category="probationary", joined_on=months_ago(2))
    assert member_arrears(member=newcomer, today=TODAY)[0] == 2


def test_arrears_list_scoped(member, branch_tree, role_at):
    outsider = role_at(branch_tree["station_b"], Role.SECRETARY)
    assert dues_arrears(actor=outsider, today=TODAY) == []


def test_reminder_sent_exactly_once_per_stage(member, secretary):
    assessed(member, secretary)
    pay(member, secretary, months_ago(4))
    assert member.pk in dues_reminders_due(today=TODAY)
    assert dues_reminder_send(member_id=member.pk, today=TODAY) == 1
    assert dues_reminder_send(member_id=member.pk, today=TODAY) == 0
    assert Notification.objects.filter(recipient=secretary, kind="members.dues_arrears").count() == 1
    log = DuesReminderLog.objects.get()
    assert (log.stage, log.month) == (3, months_ago(3))
    assert len(mail.outbox) == (1 if secretary.email else 0)


def test_reminder_stage_five_sent_separately(member, secretary):
    assessed(member, secretary)
    pay(member, secretary, months_ago(6))
    assert dues_reminder_send(member_id=member.pk, today=TODAY) == 1
    assert DuesReminderLog.objects.get().stage == 5


def test_reminder_rechecks_at_send_time(member, secretary):
    assessed(member, secretary)
    pay(member, secretary, months_ago(4))
    due = dues_reminders_due(today=TODAY)
    pay(member, secretary, months_ago(3), months_ago(1), receipt="R2", note="Back payment")
    assert dues_reminder_send(member_id=due[0], today=TODAY) == 0
    assert not Notification.objects.exists()


def test_reminder_not_sent_past_the_six_month_line(member, secretary):
    """At 6 months unpaid the member is treated as having left: that is for the branch to decide, not a warning."""
    assert member_arrears(member=member, today=TODAY)[0] >= 6
    assert member.pk not in dues_reminders_due(today=TODAY)
    assert dues_reminder_send(member_id=member.pk, today=TODAY) == 0


def test_reminder_not_sent_below_three_months(member, secretary):
    assessed(member, secretary)
    pay(member, secretary, months_ago(2))
    assert member.pk not in dues_reminders_due(today=TODAY)
    assert dues_reminder_send(member_id=member.pk, today=TODAY) == 0


def test_yearly_report_sums_per_member(member, secretary, branch):
    assessed(member, secretary)
    other = MemberFactory(branch=branch)
    pay(member, secretary, THIS_MONTH)
    rows = dues_yearly_report(actor=secretary, branch=branch, year=TODAY.year)
    by_member = {r.member: (r.months_paid, r.amount) for r in rows}
    assert by_member[member] == (1, Decimal("40.00"))
    assert by_member[other] == (0, Decimal("0"))


def test_reminder_sweep_task_sends_once(member, secretary):
    from members.tasks import dues_reminders_sweep

    assessed(member, secretary)
    pay(member, secretary, months_ago(4))
    assert dues_reminders_sweep() == 1
    assert dues_reminders_sweep() == 1
    assert Notification.objects.filter(kind="members.dues_arrears").count() == 1


def test_reminder_sweep_queues_one_task_per_batch(branch, secretary, monkeypatch):
    from members import tasks

    members = [MemberFactory(branch=branch, joined_on=datetime.date(2015, 7, 1)) for _i in range(5)]
    for n, member in enumerate(members):
        assessed(member, secretary)
        pay(member, secretary, months_ago(4), receipt=f"R{n}")
    monkeypatch.setattr(tasks, "DUES_REMINDER_BATCH", 2)
    queued = []
    monkeypatch.setattr(tasks.dues_reminders_send, "delay", queued.append)

    assert tasks.dues_reminders_sweep() == 5
    assert [len(batch) for batch in queued] == [2, 2, 1]
    assert sorted(pk for batch in queued for pk in batch) == sorted(str(m.pk) for m in members)
    assert tasks.dues_reminders_send(queued[0]) == 2  # one warning per member (to the secretary)
    assert tasks.dues_reminders_send(queued[0]) == 0  # a retried batch sends nothing twice


def test_reminder_not_sent_for_temporary_branch(member, secretary, branch):
    assessed(member, secretary)
    pay(member, secretary, months_ago(4))
    branch.is_temporary = True
    branch.save()
    assert member.pk not in dues_reminders_due(today=TODAY)
    assert dues_reminder_send(member_id=member.pk, today=TODAY) == 0


#
# Arrears in SQL (`dues_arrears_list`) against the count in Python (`_count_unpaid`)
#
_receipts = itertools.count(1)


def paid_months(member, *months) -> None:
    """Months marked paid directly (the payment rules, which refuse most of these months, are tested above)."""
    for month in months:
        payment = DuesPayment.objects.create(
            member=member,
            branch=member.branch,
            period_from=month,
            period_to=month,
            amount=Decimal("1.00"),
            method="cash",
            receipt_number=f"X{next(_receipts)}",
            receipt_year=TODAY.year,
            paid_on=TODAY,
        )
        DuesPaidMonth.objects.create(member=member, month=month, payment=payment)


@pytest.fixture
def arrears_cases(branch):
    """Members whose unpaid months (as `_count_unpaid` counts them) are known, keyed by what they show."""
    new = {
        "never_paid": MemberFactory(branch=branch, joined_on=D(2015, 7, 1)),
        "paid_last_month": MemberFactory(branch=branch, joined_on=D(2015, 7, 1)),
        "gap_of_three": MemberFactory(branch=branch, joined_on=D(2015, 7, 1)),
        "gap_then_older_gap": MemberFactory(branch=branch, joined_on=D(2015, 7, 1)),
        "paid_ahead_only": MemberFactory(branch=branch, joined_on=D(2015, 7, 1)),
        "joined_mid_last_month": MemberFactory(branch=branch, joined_on=months_ago(1) + datetime.timedelta(days=14)),
        "joined_this_month": MemberFactory(branch=branch, joined_on=THIS_MONTH),
        "joined_late_three_months_ago": MemberFactory(
            branch=branch, joined_on=months_ago(3) + datetime.timedelta(days=20)
        ),
        "joined_on_the_window_edge": MemberFactory(branch=branch, joined_on=months_ago(24)),
        "joined_inside_the_window": MemberFactory(branch=branch, joined_on=months_ago(23)),
        "paid_at_the_window_edge": MemberFactory(branch=branch, joined_on=D(2015, 7, 1)),
        "paid_beyond_the_window": MemberFactory(branch=branch, joined_on=D(2015, 7, 1)),
    }
    paid_months(new["paid_last_month"], months_ago(1))
    paid_months(new["gap_of_three"], months_ago(4), months_ago(5))
    paid_months(new["gap_then_older_gap"], months_ago(3), months_ago(9))
    paid_months(new["paid_ahead_only"], THIS_MONTH, months_ago(-2), months_ago(6))
    paid_months(new["paid_at_the_window_edge"], months_ago(24))
    paid_months(new["paid_beyond_the_window"], months_ago(25))
    return new


def test_arrears_cases_count_as_expected(arrears_cases):
    counted = {key: member_arrears(member=m, today=TODAY)[0] for key, m in arrears_cases.items()}
    assert counted == {
        "never_paid": 24,
        "paid_last_month": 0,
        "gap_of_three": 3,
        "gap_then_older_gap": 2,
        "paid_ahead_only": 5,
        "joined_mid_last_month": 1,
        "joined_this_month": 0,
        "joined_late_three_months_ago": 3,
        "joined_on_the_window_edge": 24,
        "joined_inside_the_window": 23,
        "paid_at_the_window_edge": 23,
        "paid_beyond_the_window": 24,
    }


def test_arrears_sql_filter_agrees_with_the_count_for_every_threshold(arrears_cases, secretary):
    counted = {m.pk: member_arrears(member=m, today=TODAY)[0] for m in arrears_cases.values()}
    for minimum in range(1, LOOKBACK_MONTHS + 2):
        listed = set(dues_arrears_list(actor=secretary, today=TODAY, minimum=minimum).values_list("pk", flat=True))
        assert listed == {pk for pk, n in counted.items() if n >= minimum}, minimum
        for below in (minimum + 1, minimum + 3, LOOKBACK_MONTHS + 1):
            listed = set(
                dues_arrears_list(actor=secretary, today=TODAY, minimum=minimum, below=below).values_list(
                    "pk", flat=True
                )
            )
            assert listed == {pk for pk, n in counted.items() if minimum <= n < below}, (minimum, below)


def test_arrears_full_list_matches_the_per_member_count(arrears_cases, secretary):
    rows = dues_arrears(actor=secretary, today=TODAY)
    expected = {m.pk: member_arrears(member=m, today=TODAY) for m in arrears_cases.values()}
    assert {r.member.pk: (r.unpaid, r.first_unpaid) for r in rows} == {
        pk: value for pk, value in expected.items() if value[0] >= 1
    }
    assert [r.unpaid for r in rows] == sorted((r.unpaid for r in rows), reverse=True)


def test_arrears_bands_split_the_list(arrears_cases, secretary):
    everyone = set(dues_arrears_list(actor=secretary, today=TODAY).values_list("pk", flat=True))
    bands = {}
    for band in ARREARS_BANDS:
        minimum, below = arrears_band_bounds(band)
        bands[band] = set(
            dues_arrears_list(actor=secretary, today=TODAY, minimum=minimum, below=below).values_list("pk", flat=True)
        )
    assert bands["owing"] == {arrears_cases[k].pk for k in ("gap_then_older_gap", "joined_mid_last_month")}
    assert bands["warned"] == {
        arrears_cases[k].pk for k in ("gap_of_three", "paid_ahead_only", "joined_late_three_months_ago")
    }
    assert bands["owing"] | bands["warned"] | bands["over_limit"] == everyone
    assert not (bands["owing"] & bands["warned"])
    assert not (bands["warned"] & bands["over_limit"])
    assert bands["over_limit"] == {
        pk for pk in everyone if member_arrears(member=Member.objects.get(pk=pk), today=TODAY)[0] >= 6
    }
    with pytest.raises(ValueError, match="Unknown arrears band"):
        arrears_band_bounds("late")


def test_arrears_list_only_normal_members_in_scope(arrears_cases, secretary, branch, branch_tree, role_at):
    sibling = MemberFactory(branch=branch_tree["station_b"], joined_on=D(2015, 7, 1))
    suspended = arrears_cases["never_paid"]
    Member.objects.filter(pk=suspended.pk).update(status="suspended")
    listed = set(dues_arrears_list(actor=secretary, today=TODAY).values_list("pk", flat=True))
    assert suspended.pk not in listed
    assert sibling.pk not in listed
    assert set(Member.objects.filter(pk__in=listed).values_list("branch", flat=True)) == {branch.pk}
    outsider = role_at(branch_tree["station_b"], Role.SECRETARY)
    assert set(dues_arrears_list(actor=outsider, today=TODAY).values_list("pk", flat=True)) == {sibling.pk}
