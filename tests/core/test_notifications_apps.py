"""Every app's reminders go through the notification centre and honour each recipient's preferences."""

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.utils import timezone

from activities import compliance, reminders
from activities.models import ComplianceRule, ReminderLog
from branches import actions as branch_actions
from branches.choices import Role
from branches.models import CommitteeSeat
from core import sms
from core.models import Notification, NotificationPreference
from members import actions as member_actions
from members.actions import mobility as mobility_actions
from services import actions as service_actions
from services.models import CaseType, SlaPolicy
from services.tasks import breaches_sweep
from tests.activities.factories import ActivityFactory, at
from tests.branches.factories import UserFactory
from tests.members.dev_helpers import seeded
from tests.members.factories import MemberFactory
from tests.services.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def prefer(user, kind, *, in_app=True, email=True, sms=False):
    return NotificationPreference.objects.create(user=user, kind=kind, in_app=in_app, email=email, sms=sms)


#
# activities
#
def test_activity_reminder_follows_each_invitees_channels(branch_tree):
    station = branch_tree["station_a"]
    quiet, keen = UserFactory(), UserFactory()
    prefer(quiet, reminders.KIND_REMINDER, email=False, sms=False)
    quiet_member = MemberFactory(branch=station, user=quiet)
    keen_member = MemberFactory(branch=station, user=keen)
    no_login = MemberFactory(branch=station)
    activity = ActivityFactory(branch=station, starts_at=at(days=2, hour=9))
    assert reminders.reminders_sweep(now=activity.starts_at - datetime.timedelta(minutes=1440)) == 3
    assert [m.to for m in mail.outbox] == [[keen.email]]
    assert sorted(t.to for t in sms.outbox) == sorted([keen_member.phone, no_login.phone])
    assert set(Notification.objects.values_list("recipient_id", flat=True)) == {quiet.pk, keen.pk}
    channels = dict(ReminderLog.objects.values_list("member_id", "channels"))
    assert channels == {quiet_member.pk: "inapp", keen_member.pk: "inapp,email,sms", no_login.pk: "sms"}


def test_activity_reminder_email_switched_on_reaches_the_outbox(branch_tree, settings):
    settings.ACTIVITIES_REMINDER_CHANNELS = ["inapp", "email"]  # the site setting still limits every channel
    user = UserFactory()
    prefer(user, reminders.KIND_REMINDER, email=True, sms=True)
    member = MemberFactory(branch=branch_tree["station_a"], user=user)
    activity = ActivityFactory(branch=member.branch, starts_at=at(days=2, hour=9))
    reminders.reminders_sweep(now=activity.starts_at - datetime.timedelta(minutes=1440))
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert sms.outbox == []


def test_compliance_reminder_email_off_keeps_the_mandatory_in_app_notice(branch_tree):
    station = branch_tree["station_a"]
    secretary = UserFactory()
    prefer(secretary, compliance.KIND_COMPLIANCE, in_app=False, email=False)
    CommitteeSeat.objects.create(
        branch=station, post="secretary", holder_name="Li", user=secretary, started_on=datetime.date(2024, 1, 1)
    )
    ComplianceRule.objects.exclude(kind="committee_meeting").update(active=False)
    assert compliance.compliance_reminders_send(today=datetime.date(2026, 3, 25)) == 1
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=secretary, kind=compliance.KIND_COMPLIANCE).count() == 1


#
# branches
#
def test_term_reminder_goes_in_app_and_honours_email_off(branch_tree):
    station = branch_actions.branch_update(
        actor=None, branch=branch_tree["station_a"], elected_on=datetime.date(2024, 6, 30)
    )
    secretary, mailed = UserFactory(), UserFactory()
    branch_actions.role_grant(actor=None, user=secretary, role=Role.SECRETARY, branch=station)
    branch_actions.role_grant(actor=None, user=mailed, role=Role.SECRETARY, branch=station)
    prefer(secretary, "branches.term_reminder", email=False)
    assert branch_actions.term_reminders_send(today=station.term_expires_on - relativedelta(months=6)) == 2
    assert [m.to for m in mail.outbox] == [[mailed.email]]
    notes = Notification.objects.filter(kind="branches.term_reminder")
    assert set(notes.values_list("recipient_id", flat=True)) == {secretary.pk, mailed.pk}
    assert notes.first().url == f"/branches/{station.pk}/"


#
# members
#
def _arrears_setup(branch_tree, role_at):
    seeded()
    branch = branch_tree["station_a"]
    secretary = role_at(branch, Role.SECRETARY)
    member = MemberFactory(branch=branch, joined_on=datetime.date(2015, 7, 1))
    this_month = timezone.localdate().replace(day=1)
    for year in {
        (this_month - relativedelta(months=7)).year,
        this_month.year,
        (this_month + relativedelta(months=7)).year,
    }:
        member_actions.dues_assess(
            actor=secretary, member=member, year=year, base_kind="salary", base_amount=Decimal("4000")
        )
    paid = this_month - relativedelta(months=4)
    member_actions.dues_payment_record(
        actor=secretary,
        member=member,
        period_from=paid,
        period_to=paid,
        amount=Decimal("40.00"),
        method="wechat",
        receipt_number="R1",
    )
    return secretary, member


def test_dues_arrears_notice_with_in_app_off_writes_no_row(branch_tree, role_at):
    secretary, member = _arrears_setup(branch_tree, role_at)
    prefer(secretary, "members.dues_arrears", in_app=False, email=True)
    assert member_actions.dues_reminder_send(member_id=member.pk) == 1
    assert not Notification.objects.filter(kind="members.dues_arrears").exists()
    assert [m.to for m in mail.outbox] == [[secretary.email]]


def test_report_in_reminder_with_in_app_off_writes_no_row(branch_tree, role_at, settings):
    settings.MEMBERS_MOBILITY = {"report_in_month": 1}
    branch = branch_tree["station_a"]
    secretary = role_at(branch, Role.SECRETARY)
    keen = role_at(branch, Role.SECRETARY)
    prefer(secretary, "members.report_in_missing", in_app=False, email=False)
    prefer(keen, "members.report_in_missing", in_app=True, email=True)
    mobility_actions.activity_card_create(
        actor=secretary,
        member=MemberFactory(branch=branch),
        host_branch=branch_tree["station_b"],
        destination="Shenzhen",
        starts_on=timezone.localdate(),
    )
    mobility_actions.report_in_reminders_send()
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [keen.pk]
    assert [m.to for m in mail.outbox] == [[keen.email]]  # e-mail is off by default, this user switched it on


#
# services
#
def test_breach_escalation_honours_email_off_but_not_in_app_off(
    branch_tree, role_at, django_capture_on_commit_callbacks
):
    upper = role_at(branch_tree["delivery"], Role.CASEWORKER)
    colleague = role_at(branch_tree["delivery"], Role.CASEWORKER)
    prefer(upper, "services.breach", in_app=False, email=False)
    wage = CaseType.objects.get(code="wage_arrears")
    SlaPolicy.objects.update_or_create(
        case_type=wage, priority="normal", defaults={"first_response_hours": 1, "resolution_hours": 200}
    )
    with mock.patch("django.utils.timezone.now", return_value=datetime.datetime(2025, 11, 3, 1, tzinfo=datetime.UTC)):
        make_case(branch_tree["station_a"], case_type=wage)
    late = datetime.datetime(2025, 11, 4, 8, tzinfo=datetime.UTC)
    with mock.patch("django.utils.timezone.now", return_value=late), django_capture_on_commit_callbacks(execute=True):
        breaches_sweep()
    assert Notification.objects.filter(kind="services.breach", recipient=upper).exists()  # in-app is mandatory
    assert {tuple(m.to) for m in mail.outbox} == {(colleague.email,)}  # one mail per recipient


def test_follow_up_reminder_email_off(branch_tree, role_at):
    caseworker = role_at(branch_tree["station_a"], Role.CASEWORKER)
    prefer(caseworker, "services.follow_up", email=False)
    case = make_case(branch_tree["station_a"])
    case = service_actions.case_assign(actor=caseworker, case=case, assignee=caseworker)
    case = service_actions.case_start(actor=caseworker, case=case)
    service_actions.case_resolve(actor=caseworker, case=case, summary="Paid")
    follow_up = case.follow_ups.get()
    assert service_actions.follow_up_remind(follow_up_id=follow_up.pk) is True
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=caseworker, kind="services.follow_up").count() == 1
