import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils import timezone

from branches import actions as branch_actions
from branches.choices import BranchKind, Role
from branches.models import Branch
from core.exceptions import Conflict
from core.models import AuditEntry, Notification
from members.actions import transfers as ta
from members.models import Member, Transfer, TransferReminderLog
from members.models.transfers import TRANSITIONS, TransferStatus
from tests.members.factories import MemberFactory, make_citizen_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def sides(branch_tree, role_at):
    a, b = branch_tree["station_a"], branch_tree["station_b"]
    return {
        "a": a,
        "b": b,
        "sec_a": role_at(a, Role.SECRETARY),
        "sec_b": role_at(b, Role.SECRETARY),
        "member": MemberFactory(branch=a),
    }


def _issued(sides, **kwargs):
    transfer = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    return ta.transfer_issue(actor=sides["sec_a"], transfer=transfer, **kwargs)


def test_transfer_create_internal_is_draft_owned_by_sending_branch(sides):
    transfer = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    assert transfer.status == TransferStatus.DRAFT
    assert transfer.branch == sides["a"]
    assert transfer.from_branch == sides["a"]
    assert AuditEntry.objects.filter(action="members.transfer.created", object_id=str(transfer.pk)).exists()


def test_transfer_create_refuses_second_open_transfer(sides):
    ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    with pytest.raises(ValidationError) as exc:
        ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_outside="Elsewhere committee")
    assert "member" in exc.value.message_dict
    assert Transfer.objects.count() == 1


def test_transfer_open_unique_constraint_in_database(sides):
    first = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    duplicate = Transfer(
        kind="outgoing", member=first.member, branch=first.branch, from_branch=first.from_branch, to_outside="X"
    )
    with pytest.raises(IntegrityError):
        duplicate.save()


def test_transfer_create_allowed_again_after_cancel(sides):
    first = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    ta.transfer_cancel(actor=sides["sec_a"], transfer=first)
    second = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_outside="Elsewhere committee")
    assert second.status == TransferStatus.DRAFT


def test_transfer_create_refuses_temporary_receiving_branch(sides, branch_tree):
    temporary = branch_actions.branch_create(
        actor=None,
        parent=branch_tree["delivery"],
        name="Temp",
        kind=BranchKind.BRANCH,
        basis="platform",
        is_temporary=True,
    )
    with pytest.raises(ValidationError) as exc:
        ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=temporary)
    assert "to_branch" in exc.value.message_dict


def test_transfer_create_refuses_both_or_neither_destination(sides):
    with pytest.raises(ValidationError):
        ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"], to_outside="X")
    with pytest.raises(ValidationError):
        ta.transfer_create(actor=sides["sec_a"], member=sides["member"])
    assert not Transfer.objects.exists()


def test_transfer_create_needs_scope_at_sending_branch(sides):
    with pytest.raises(Http404):
        ta.transfer_create(actor=sides["sec_b"], member=sides["member"], to_branch=sides["b"])


def test_transfer_issue_numbers_per_committee_and_year(sides, branch_tree, role_at):
    first = _issued(sides)
    other = MemberFactory(branch=sides["a"])
    second = ta.transfer_issue(
        actor=sides["sec_a"], transfer=ta.transfer_create(actor=sides["sec_a"], member=other, to_outside="Y")
    )
    year = timezone.localdate().year
    assert first.issuing_committee == branch_tree["delivery"]  # nearest committee above station A
    assert (first.letter_number, second.letter_number) == (f"{year}-0001", f"{year}-0002")
    # Another committee counts from 1.
    building = branch_tree["building"]  # under the district committee
    sec = role_at(building, Role.SECRETARY)
    third = ta.transfer_issue(
        actor=sec,
        transfer=ta.transfer_create(actor=sec, member=MemberFactory(branch=building), to_branch=sides["a"]),
    )
    assert third.issuing_committee == branch_tree["district"]
    assert third.letter_number == f"{year}-0001"


def test_transfer_issue_sets_validity_and_dues_month(sides):
    today = timezone.localdate()
    transfer = _issued(sides, valid_days=45, dues_paid_until=today.replace(day=15))
    assert transfer.status == TransferStatus.ISSUED
    assert transfer.valid_until == today + datetime.timedelta(days=45)
    assert transfer.dues_paid_until == today.replace(day=1)


@pytest.mark.parametrize("days", [29, 91])
def test_transfer_issue_refuses_validity_outside_30_to_90_days(sides, days):
    transfer = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    with pytest.raises(ValidationError) as exc:
        ta.transfer_issue(actor=sides["sec_a"], transfer=transfer, valid_days=days)
    assert "valid_days" in exc.value.message_dict
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.DRAFT
    assert transfer.letter_number == ""


def test_transfer_accept_moves_member_and_counts(sides):
    transfer = _issued(sides)
    a_before = Branch.objects.get(pk=sides["a"].pk).member_count
    b_before = Branch.objects.get(pk=sides["b"].pk).member_count
    ta.transfer_accept(actor=sides["sec_b"], transfer=transfer)
    member = Member.objects.get(pk=sides["member"].pk)
    assert member.branch == sides["b"]
    assert Branch.objects.get(pk=sides["a"].pk).member_count == a_before - 1
    assert Branch.objects.get(pk=sides["b"].pk).member_count == b_before + 1
    assert AuditEntry.objects.filter(action="members.member.transferred", object_id=str(member.pk)).exists()
    assert Transfer.objects.get(pk=transfer.pk).status == TransferStatus.ACCEPTED


def test_transfer_member_stays_in_sending_branch_until_accepted(sides):
    _issued(sides)
    assert Member.objects.get(pk=sides["member"].pk).branch == sides["a"]


def test_transfer_accept_needs_receiving_side(sides):
    transfer = _issued(sides)
    with pytest.raises((PermissionDenied, Http404)):
        ta.transfer_accept(actor=sides["sec_a"], transfer=transfer)
    assert Member.objects.get(pk=sides["member"].pk).branch == sides["a"]


def test_transfer_accept_refuses_expired_letter(sides):
    transfer = _issued(sides, valid_days=30, issued_on=timezone.localdate() - datetime.timedelta(days=31))
    with pytest.raises(Conflict):
        ta.transfer_accept(actor=sides["sec_b"], transfer=transfer)
    assert Member.objects.get(pk=sides["member"].pk).branch == sides["a"]
    assert Transfer.objects.get(pk=transfer.pk).status == TransferStatus.ISSUED


@pytest.mark.parametrize(
    ("action", "who"),
    [("accept", "sec_b"), ("return_receipt", "sec_b"), ("complete", "sec_a"), ("reject", "sec_b")],
)
def test_transfer_out_of_order_transition_is_conflict(sides, action, who):
    transfer = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_branch=sides["b"])
    function = getattr(ta, f"transfer_{action}")
    kwargs = {"reason": "no"} if action == "reject" else {}
    with pytest.raises(Conflict):
        function(actor=sides[who], transfer=transfer, **kwargs)
    assert Transfer.objects.get(pk=transfer.pk).status == TransferStatus.DRAFT


def test_transfer_full_internal_lifecycle(sides):
    transfer = _issued(sides)
    ta.transfer_accept(actor=sides["sec_b"], transfer=transfer)
    ta.transfer_return_receipt(actor=sides["sec_b"], transfer=transfer)
    done = ta.transfer_complete(actor=sides["sec_a"], transfer=transfer)
    assert done.status == TransferStatus.COMPLETED
    with pytest.raises(Conflict):
        ta.transfer_cancel(actor=sides["sec_a"], transfer=done)


def test_transfer_reject_needs_reason_and_keeps_member(sides):
    transfer = _issued(sides)
    with pytest.raises(ValidationError):
        ta.transfer_reject(actor=sides["sec_b"], transfer=transfer, reason=" ")
    rejected = ta.transfer_reject(actor=sides["sec_b"], transfer=transfer, reason="Wrong branch")
    assert rejected.status == TransferStatus.REJECTED
    assert Member.objects.get(pk=sides["member"].pk).branch == sides["a"]


def test_transfer_transitions_table_covers_every_action():
    assert set(TRANSITIONS) == {"issue", "accept", "reject", "return_receipt", "complete", "cancel", "expire"}


def test_transfer_outgoing_accept_closes_record(sides):
    transfer = ta.transfer_create(actor=sides["sec_a"], member=sides["member"], to_outside="Shanghai committee")
    ta.transfer_issue(actor=sides["sec_a"], transfer=transfer)
    ta.transfer_accept(actor=sides["sec_a"], transfer=transfer)
    assert not Member.objects.filter(pk=sides["member"].pk).exists()
    assert Member.all_objects.filter(pk=sides["member"].pk, deleted_at__isnull=False).exists()


def test_transfer_incoming_creates_member_on_completion(sides):
    incoming = {
        "name": "钱七",
        "citizen_id": make_citizen_id(777),
        "category": "full",
        "joined_on": datetime.date(2010, 1, 1),
    }
    transfer = ta.transfer_create(
        actor=sides["sec_b"], to_branch=sides["b"], from_outside="Hangzhou", incoming=incoming
    )
    assert transfer.incoming_citizen_id_masked.endswith(make_citizen_id(777)[-4:])
    assert make_citizen_id(777) not in transfer.incoming_citizen_id_cipher
    ta.transfer_issue(actor=sides["sec_b"], transfer=transfer, letter_number="HZ-12")
    ta.transfer_accept(actor=sides["sec_b"], transfer=transfer)
    ta.transfer_return_receipt(actor=sides["sec_b"], transfer=transfer)
    assert not Member.objects.filter(name="钱七").exists()
    done = ta.transfer_complete(actor=sides["sec_b"], transfer=transfer)
    member = Member.objects.get(name="钱七")
    assert member.branch == sides["b"]
    assert done.member == member


def test_transfer_incoming_refuses_bad_person(sides):
    with pytest.raises(ValidationError) as exc:
        ta.transfer_create(
            actor=sides["sec_b"],
            to_branch=sides["b"],
            from_outside="Hangzhou",
            incoming={"name": "", "citizen_id": "123", "category": "x"},
        )
    assert {"name", "citizen_id", "category", "joined_on"} <= set(exc.value.message_dict)
    assert not Transfer.objects.exists()


#
# Expiry and alerts
#
def test_transfers_expire_due_marks_past_letters(sides):
    transfer = _issued(sides, valid_days=30, issued_on=timezone.localdate() - datetime.timedelta(days=40))
    assert ta.transfers_expire_due() == 1
    assert Transfer.objects.get(pk=transfer.pk).status == TransferStatus.EXPIRED
    assert ta.transfers_expire_due() == 0


def test_transfer_alert_expiring_sent_once(sides):
    _issued(sides, valid_days=30, issued_on=timezone.localdate() - datetime.timedelta(days=25))
    first = ta.transfer_alerts_send()
    assert first == 2  # the secretaries of both sides
    assert ta.transfer_alerts_send() == 0
    assert Notification.objects.filter(kind="members.transfer.expiring").count() == 2


def test_transfer_alert_rechecked_at_send_time(sides):
    transfer = _issued(sides, valid_days=30, issued_on=timezone.localdate() - datetime.timedelta(days=25))
    due = ta.transfer_alerts_due()
    assert (transfer.pk, ta.KIND_EXPIRING) in due
    ta.transfer_accept(actor=sides["sec_b"], transfer=transfer)  # accepted meanwhile
    assert sum(ta.transfer_alert_send(transfer_id=pk, kind=kind) for pk, kind in due) == 0
    assert not Notification.objects.exists()
    assert not TransferReminderLog.objects.filter(sent_at__isnull=False).exists()


def test_transfer_alert_missing_receipt(sides):
    transfer = _issued(sides)
    ta.transfer_accept(
        actor=sides["sec_b"], transfer=transfer, accepted_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert ta.transfer_alerts_send() == 0
    later = timezone.localdate() + datetime.timedelta(days=31)
    assert ta.transfer_alerts_send(today=later) == 2
    assert ta.transfer_alerts_send(today=later) == 0


def test_transfer_alert_expired_goes_to_sending_side(sides):
    _issued(sides, valid_days=30, issued_on=timezone.localdate() - datetime.timedelta(days=31))
    assert ta.transfer_alerts_send() == 1
    assert Notification.objects.get(kind="members.transfer.expired").recipient == sides["sec_a"]
