import datetime
from http import HTTPStatus

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from branches.choices import Role
from core.exceptions import Conflict
from core.models import Notification
from members.actions import mobility as ma
from members.models import ActivityCard, Affiliation, LostContactCase, Member, ReportIn
from members.selectors import voting_members
from members.selectors_mobility import last_contact_of, lost_contact_report
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def home(branch_tree, role_at):
    a = branch_tree["station_a"]
    return {
        "a": a,
        "b": branch_tree["station_b"],
        "sec": role_at(a, Role.SECRETARY),
        "member": MemberFactory(branch=a),
    }


def _age(member, days):
    """Pretend the record was entered `days` ago (no contact known since)."""
    Member.objects.filter(pk=member.pk).update(created_at=timezone.now() - datetime.timedelta(days=days))


#
# Activity cards and report-ins
#
def test_activity_card_create_marks_mobile_and_adds_host_affiliation(home):
    card = ma.activity_card_create(
        actor=home["sec"],
        member=home["member"],
        host_branch=home["b"],
        destination="Shenzhen",
        starts_on=timezone.localdate(),
    )
    member = Member.objects.get(pk=home["member"].pk)
    assert member.is_mobile
    assert member.mobile_destination == "Shenzhen"
    assert Affiliation.objects.get(pk=card.affiliation_id).kind == "host"
    assert not voting_members(branch=home["b"]).filter(pk=member.pk).exists()  # no vote at the host branch


def test_activity_card_one_open_per_member(home):
    ma.activity_card_create(
        actor=home["sec"],
        member=home["member"],
        host_branch=home["b"],
        destination="X",
        starts_on=timezone.localdate(),
    )
    with pytest.raises(ValidationError):
        ma.activity_card_create(
            actor=home["sec"],
            member=home["member"],
            host_branch=home["b"],
            destination="Y",
            starts_on=timezone.localdate(),
        )
    assert ActivityCard.objects.count() == 1


def test_activity_card_end_clears_mobile_and_affiliation(home):
    card = ma.activity_card_create(
        actor=home["sec"],
        member=home["member"],
        host_branch=home["b"],
        destination="X",
        starts_on=timezone.localdate(),
    )
    ma.activity_card_end(actor=home["sec"], card=card)
    assert not Member.objects.get(pk=home["member"].pk).is_mobile
    assert Affiliation.objects.get(pk=card.affiliation_id).ended_on is not None
    with pytest.raises(Conflict):
        ma.activity_card_end(actor=home["sec"], card=card)


def test_report_in_refuses_future_date(home):
    with pytest.raises(ValidationError):
        ma.report_in_record(
            actor=home["sec"],
            member=home["member"],
            reported_on=timezone.localdate() + datetime.timedelta(days=1),
            channel="phone",
        )
    assert not ReportIn.objects.exists()


def test_report_in_reminder_once_per_member_per_year(home, settings):
    settings.MEMBERS_MOBILITY = {"report_in_month": 1}
    ma.activity_card_create(
        actor=home["sec"],
        member=home["member"],
        host_branch=home["b"],
        destination="X",
        starts_on=timezone.localdate(),
    )
    assert ma.report_in_reminders_send() == 1
    assert ma.report_in_reminders_send() == 0
    assert Notification.objects.filter(kind="members.report_in_missing").count() == 1


def test_report_in_reminder_not_sent_after_report_or_before_month(home, settings):
    ma.activity_card_create(
        actor=home["sec"],
        member=home["member"],
        host_branch=home["b"],
        destination="X",
        starts_on=timezone.localdate(),
    )
    settings.MEMBERS_MOBILITY = {"report_in_month": 13}
    assert ma.report_in_reminders_send() == 0
    settings.MEMBERS_MOBILITY = {"report_in_month": 1}
    ma.report_in_record(actor=home["sec"], member=home["member"], reported_on=timezone.localdate(), channel="phone")
    assert ma.report_in_reminders_send() == 0


#
# Last contact and lost contact
#
def test_last_contact_is_latest_of_attendance_dues_and_report_in(home):
    member = home["member"]
    _age(member, 400)
    today = timezone.localdate()
    ma.member_contact_touch(member=member, on=today - datetime.timedelta(days=50))
    ma.member_contact_touch(member=member, on=today - datetime.timedelta(days=90))  # older: ignored
    assert last_contact_of(member) == today - datetime.timedelta(days=50)
    ma.member_contact_touch(member=member, on=today - datetime.timedelta(days=20), kind="dues")
    assert last_contact_of(member) == today - datetime.timedelta(days=20)
    ma.report_in_record(
        actor=home["sec"], member=member, reported_on=today - datetime.timedelta(days=5), channel="phone"
    )
    assert last_contact_of(member) == today - datetime.timedelta(days=5)


def test_lost_contact_warning_at_three_months_once(home):
    _age(home["member"], 100)
    assert ma.lost_contact_sweep() == 1
    assert ma.lost_contact_sweep() == 0
    assert Notification.objects.filter(kind="members.lost_contact_warning").count() == 1
    assert not Member.objects.get(pk=home["member"].pk).lost_contact


def test_lost_contact_no_warning_before_three_months(home):
    _age(home["member"], 80)
    assert ma.lost_contact_sweep() == 0


def test_lost_contact_flag_at_six_months(home):
    _age(home["member"], 200)
    ma.lost_contact_sweep()
    member = Member.objects.get(pk=home["member"].pk)
    assert member.lost_contact
    assert member.lost_contact_since is not None
    assert LostContactCase.objects.get(member=member).status == "flagged"
    assert Notification.objects.filter(kind="members.lost_contact_flagged").count() == 1


def test_lost_contact_warning_rechecked_at_send_time(home, monkeypatch):
    _age(home["member"], 100)
    real = ma._send_once

    def contact_meanwhile(**kwargs):
        ma.member_contact_touch(member=home["member"], on=timezone.localdate())
        return real(**kwargs)

    monkeypatch.setattr(ma, "_send_once", contact_meanwhile)
    assert ma.lost_contact_sweep() == 0
    assert not Notification.objects.exists()


def test_lost_contact_suspension_needs_proposal_then_officer(home, branch_tree, role_at):
    _age(home["member"], 200)
    ma.lost_contact_sweep()
    case = LostContactCase.objects.get()
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    with pytest.raises(Conflict):
        ma.lost_contact_approve(actor=officer, case=case)  # not proposed yet
    ma.lost_contact_propose(actor=home["sec"], case=case)
    with pytest.raises(PermissionDenied):
        ma.lost_contact_approve(actor=home["sec"], case=case)  # a secretary does not approve
    case = ma.lost_contact_approve(actor=officer, case=case)
    assert case.status == "suspended"
    assert case.removal_due_on == timezone.localdate() + relativedelta(years=2)
    assert Member.objects.get(pk=home["member"].pk).status == "suspended"


def test_lost_contact_case_closes_when_contact_resumes(home):
    _age(home["member"], 200)
    ma.lost_contact_sweep()
    ma.member_contact_touch(member=home["member"], on=timezone.localdate())
    ma.lost_contact_sweep()
    assert LostContactCase.objects.get().status == "closed"
    assert not Member.objects.get(pk=home["member"].pk).lost_contact


def test_lost_contact_report_scope_and_queries(home, branch_tree, role_at, django_assert_num_queries):
    for _i in range(3):
        _age(MemberFactory(branch=home["a"]), 100)
    _age(MemberFactory(branch=home["b"]), 100)
    with django_assert_num_queries(3):  # the actor's grants, the members, their open cases
        rows = list(lost_contact_report(actor=home["sec"]))
    assert len(rows) == 3
    assert all(r.branch_id == home["a"].pk for r in rows)


def test_lost_contact_report_page(client, home):
    _age(home["member"], 100)
    client.force_login(home["sec"])
    response = client.get(reverse("members:lost_contact_report"))
    assert response.status_code == HTTPStatus.OK
    assert home["member"].name in response.content.decode()


def test_activity_card_and_report_in_pages(client, home):
    client.force_login(home["sec"])
    response = client.post(
        reverse("members:activity_card_create", args=[home["member"].pk]),
        {"host_branch": home["b"].pk, "destination": "Shenzhen", "starts_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert "Shenzhen" in client.get(reverse("members:activity_card_list")).content.decode()
    assert home["member"].name in client.get(reverse("members:report_in_list")).content.decode()
    response = client.post(
        reverse("members:report_in_create", args=[home["member"].pk]),
        {"reported_on": timezone.localdate().isoformat(), "channel": "phone"},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert ReportIn.objects.count() == 1
