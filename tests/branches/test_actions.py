import datetime
import threading
from unittest import mock

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404

from branches import actions
from branches.choices import BranchKind, CommitteePost, Role
from branches.models import Branch, CommitteeSeat, RoleAssignment, TermReminderLog, Unit
from branches.permissions import in_scope
from core.exceptions import Conflict
from core.models import AuditEntry, ChangeRecord
from tests.branches.factories import UserFactory, credit_code

pytestmark = pytest.mark.django_db


def tree_state() -> list[tuple]:
    return sorted(Branch.all_objects.values_list("pk", "parent_id", "path", "depth", "version"))


def assert_paths_consistent() -> None:
    """Every branch's path is its parent's path plus its own id, and its depth one more."""
    by_id = {b.pk: b for b in Branch.all_objects.all()}
    for branch in by_id.values():
        parent = by_id.get(branch.parent_id)
        assert branch.path == Branch.path_for(branch.pk, parent)
        assert branch.depth == (parent.depth + 1 if parent else 0)


def last_audit(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("pk")


#
# branch_create
#
def test_branch_create_sets_path_depth_and_term_expiry(branch_tree):
    parent = branch_tree["station_a"]
    branch = actions.branch_create(
        actor=None, parent=parent, name="Group 1", kind=BranchKind.GROUP, elected_on=datetime.date(2024, 3, 1)
    )
    assert branch.path == f"{parent.path}{branch.pk.hex}/"
    assert branch.depth == 3
    assert branch.term_expires_on is None  # groups have no term

    committee = actions.branch_create(
        actor=None,
        parent=branch_tree["district"],
        name="Ride-hailing committee",
        kind=BranchKind.COMMITTEE,
        elected_on=datetime.date(2024, 3, 1),
        term_extension_months=6,
    )
    assert committee.term_expires_on == datetime.date(2029, 9, 1)  # 5 years + 6 months
    station = actions.branch_create(
        actor=None, parent=committee, name="Station", kind=BranchKind.BRANCH, elected_on=datetime.date(2024, 3, 1)
    )
    assert station.term_expires_on == datetime.date(2027, 3, 1)


def test_branch_create_writes_audit_and_change_record(branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    branch = actions.branch_create(actor=officer, parent=branch_tree["delivery"], name="Station C", basis="platform")
    entry = last_audit("branches.branch.created")
    assert entry.actor == officer
    assert entry.object_id == str(branch.pk)
    assert entry.after["name"] == "Station C"
    assert entry.after["parent"] == str(branch_tree["delivery"].pk)
    assert entry.before is None
    record = ChangeRecord.objects.get(object_id=branch.pk)
    assert (record.resource, record.op, record.version, record.branch_id) == (
        "branch",
        "upsert",
        1,
        branch_tree["delivery"].pk,
    )


def test_branch_create_root_only_for_admin(branch_tree, role_at):
    officer = role_at(branch_tree["district"], Role.OFFICER)
    with pytest.raises(PermissionDenied):
        actions.branch_create(actor=officer, parent=None, name="Another district", kind=BranchKind.COMMITTEE)
    admin = role_at(branch_tree["district"], Role.ADMIN)
    root = actions.branch_create(actor=admin, parent=None, name="Another district", kind=BranchKind.COMMITTEE)
    assert (root.depth, root.parent) == (0, None)


def test_branch_create_outside_scope_is_not_found(branch_tree, role_at):
    officer = role_at(branch_tree["station_a"], Role.OFFICER)
    with pytest.raises(Http404):
        actions.branch_create(actor=officer, parent=branch_tree["station_b"], name="Group", kind=BranchKind.GROUP)
    assert Branch.objects.count() == 5


def test_branch_create_organiser_inside_scope_is_denied(branch_tree, role_at):
    organiser = role_at(branch_tree["delivery"], Role.ORGANISER)
    with pytest.raises(PermissionDenied):
        actions.branch_create(actor=organiser, parent=branch_tree["station_a"], name="Group", kind=BranchKind.GROUP)


def test_branch_create_rejects_fields_it_does_not_set(branch_tree):
    with pytest.raises(ValidationError) as exc:
        actions.branch_create(actor=None, parent=branch_tree["district"], name="X", member_count=40)
    assert "member_count" in exc.value.message_dict


def test_branch_create_rejects_invalid_values(branch_tree):
    with pytest.raises(ValidationError) as exc:
        actions.branch_create(actor=None, parent=branch_tree["district"], name="X", kind="cell", latitude=91)
    assert {"kind", "__all__"} <= set(exc.value.message_dict)  # latitude: a check constraint
    assert Branch.objects.count() == 5


def test_branch_create_covers_units_but_not_deleted_ones(branch_tree):
    unit = actions.unit_create(actor=None, branch=branch_tree["building"], name="Firm", credit_code=credit_code(1))
    branch = actions.branch_create(actor=None, parent=branch_tree["district"], name="Joint", units=[unit])
    assert list(branch.units.all()) == [unit]
    actions.unit_delete(actor=None, unit=unit)
    deleted = Unit.all_objects.get(pk=unit.pk)
    with pytest.raises(ValidationError) as exc:
        actions.branch_create(actor=None, parent=branch_tree["district"], name="Joint 2", units=[deleted])
    assert "units" in exc.value.message_dict


#
# branch_update
#
def test_branch_update_audits_only_changed_fields(branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    branch = actions.branch_update(
        actor=officer, branch=branch_tree["station_a"], name="Station A (north)", basis="platform"
    )
    assert (branch.name, branch.version) == ("Station A (north)", 2)
    entry = last_audit("branches.branch.updated")
    assert entry.before == {"name": "Station A branch"}
    assert entry.after == {"name": "Station A (north)"}
    assert ChangeRecord.objects.filter(object_id=branch.pk).latest("seq").version == 2


def test_branch_update_recomputes_term_expiry(branch_tree):
    branch = actions.branch_update(actor=None, branch=branch_tree["station_a"], elected_on=datetime.date(2023, 5, 4))
    assert branch.term_expires_on == datetime.date(2026, 5, 4)
    branch = actions.branch_update(actor=None, branch=branch, term_extension_months=12)
    assert branch.term_expires_on == datetime.date(2027, 5, 4)
    with pytest.raises(ValidationError):
        actions.branch_update(actor=None, branch=branch, term_extension_months=13)


def test_branch_update_records_unit_coverage_change(branch_tree):
    one = actions.unit_create(actor=None, branch=branch_tree["building"], name="One", credit_code=credit_code(1))
    two = actions.unit_create(actor=None, branch=branch_tree["building"], name="Two", credit_code=credit_code(2))
    actions.branch_update(actor=None, branch=branch_tree["building"], units=[one, two])
    entry = last_audit("branches.branch.updated")
    assert entry.before == {"units": []}
    assert entry.after == {"units": sorted([str(one.pk), str(two.pk)])}
    assert set(branch_tree["building"].units.all()) == {one, two}


def test_branch_update_scope(branch_tree, role_at):
    officer = role_at(branch_tree["station_a"], Role.OFFICER)
    with pytest.raises(Http404):
        actions.branch_update(actor=officer, branch=branch_tree["station_b"], name="Mine now")
    secretary = role_at(branch_tree["station_b"], Role.SECRETARY)
    with pytest.raises(PermissionDenied):
        actions.branch_update(actor=secretary, branch=branch_tree["station_b"], name="Mine now")
    assert Branch.objects.get(pk=branch_tree["station_b"].pk).name == "Station B branch"


#
# branch_move
#
def make_deep_tree(branch_tree):
    """Adds a group under station A and a second committee, for moves."""
    group = actions.branch_create(actor=None, parent=branch_tree["station_a"], name="Group", kind=BranchKind.GROUP)
    other = actions.branch_create(
        actor=None, parent=branch_tree["district"], name="Express committee", kind=BranchKind.COMMITTEE
    )
    return group, other


def test_branch_move_rewrites_every_descendant_path_and_depth(branch_tree):
    group, other = make_deep_tree(branch_tree)
    delivery = branch_tree["delivery"]
    moved = actions.branch_move(actor=None, branch=delivery, new_parent=other)
    assert moved.parent == other
    assert moved.path == f"{other.path}{delivery.pk.hex}/"
    assert moved.depth == 2
    group.refresh_from_db()
    assert group.depth == 4
    assert group.path == f"{other.path}{delivery.pk.hex}/{branch_tree['station_a'].pk.hex}/{group.pk.hex}/"
    assert_paths_consistent()
    # The untouched part of the tree keeps its paths.
    building = Branch.objects.get(pk=branch_tree["building"].pk)
    assert building.path == branch_tree["building"].path


def test_branch_move_is_one_transaction(branch_tree):
    _group, other = make_deep_tree(branch_tree)
    before = tree_state()
    with (
        mock.patch("branches.actions.audit_record", side_effect=RuntimeError("audit down")),
        pytest.raises(RuntimeError),
    ):
        actions.branch_move(actor=None, branch=branch_tree["delivery"], new_parent=other)
    assert tree_state() == before


@pytest.mark.parametrize("target", ["delivery", "station_a"])
def test_branch_move_under_itself_or_descendant_is_refused(branch_tree, target):
    before = tree_state()
    changes = ChangeRecord.objects.count()
    with pytest.raises(ValidationError) as exc:
        actions.branch_move(actor=None, branch=branch_tree["delivery"], new_parent=branch_tree[target])
    assert "parent" in exc.value.message_dict
    assert tree_state() == before
    assert ChangeRecord.objects.count() == changes


def test_branch_move_to_same_parent_changes_nothing(branch_tree):
    before = tree_state()
    actions.branch_move(actor=None, branch=branch_tree["station_a"], new_parent=branch_tree["delivery"])
    assert tree_state() == before
    assert not AuditEntry.objects.filter(action="branches.branch.moved").exists()


def test_branch_move_audits_and_writes_change_record(branch_tree, role_at):
    officer = role_at(branch_tree["district"], Role.OFFICER)
    station_a = branch_tree["station_a"]
    old_path = station_a.path
    moved = actions.branch_move(actor=officer, branch=station_a, new_parent=branch_tree["building"])
    entry = last_audit("branches.branch.moved")
    assert entry.actor == officer
    assert entry.before == {"parent": str(branch_tree["delivery"].pk), "path": old_path}
    assert entry.after == {"parent": str(branch_tree["building"].pk), "path": moved.path}
    record = ChangeRecord.objects.filter(object_id=station_a.pk).latest("seq")
    assert (record.version, record.branch_id) == (2, branch_tree["building"].pk)


def test_branch_move_needs_scope_at_both_ends(branch_tree, role_at):
    before = tree_state()
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    # The new parent is outside the officer's view: as if it did not exist.
    with pytest.raises(Http404):
        actions.branch_move(actor=officer, branch=branch_tree["station_a"], new_parent=branch_tree["building"])
    # The branch is outside the officer's view.
    with pytest.raises(Http404):
        actions.branch_move(actor=officer, branch=branch_tree["building"], new_parent=branch_tree["station_a"])
    organiser = role_at(branch_tree["district"], Role.ORGANISER)
    with pytest.raises(PermissionDenied):
        actions.branch_move(actor=organiser, branch=branch_tree["station_a"], new_parent=branch_tree["building"])
    assert tree_state() == before
    actions.branch_move(actor=officer, branch=branch_tree["station_a"], new_parent=branch_tree["station_b"])
    assert Branch.objects.get(pk=branch_tree["station_a"].pk).parent_id == branch_tree["station_b"].pk


#
# branch_dissolve
#
def test_branch_dissolve_soft_deletes_and_audits(branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    station_b = branch_tree["station_b"]
    actions.branch_dissolve(actor=officer, branch=station_b, reason="Station closed")
    assert not Branch.objects.filter(pk=station_b.pk).exists()
    assert Branch.all_objects.get(pk=station_b.pk).deleted_at is not None
    entry = last_audit("branches.branch.dissolved")
    assert (entry.actor, entry.data) == (officer, {"reason": "Station closed"})
    record = ChangeRecord.objects.filter(object_id=station_b.pk).latest("seq")
    assert (record.op, record.version) == ("delete", 2)


def test_branch_dissolve_with_children_is_a_conflict(branch_tree):
    with pytest.raises(Conflict, match="child organisations"):
        actions.branch_dissolve(actor=None, branch=branch_tree["delivery"])
    assert Branch.objects.filter(pk=branch_tree["delivery"].pk).exists()


def test_branch_dissolve_after_children_are_gone(branch_tree):
    actions.branch_dissolve(actor=None, branch=branch_tree["station_a"])
    actions.branch_dissolve(actor=None, branch=branch_tree["station_b"])
    actions.branch_dissolve(actor=None, branch=branch_tree["delivery"])
    assert not Branch.objects.filter(pk=branch_tree["delivery"].pk).exists()


def test_branch_dissolve_with_units_is_a_conflict(branch_tree):
    unit = actions.unit_create(actor=None, branch=branch_tree["building"], name="Firm", credit_code=credit_code(3))
    with pytest.raises(Conflict, match="units"):
        actions.branch_dissolve(actor=None, branch=branch_tree["building"])
    actions.unit_delete(actor=None, unit=unit)
    actions.branch_dissolve(actor=None, branch=branch_tree["building"])


def test_branch_dissolve_scope(branch_tree, role_at):
    officer = role_at(branch_tree["station_a"], Role.OFFICER)
    with pytest.raises(Http404):
        actions.branch_dissolve(actor=officer, branch=branch_tree["station_b"])
    caseworker = role_at(branch_tree["station_b"], Role.CASEWORKER)
    with pytest.raises(PermissionDenied):
        actions.branch_dissolve(actor=caseworker, branch=branch_tree["station_b"])
    assert Branch.objects.filter(pk=branch_tree["station_b"].pk).exists()


#
# Units
#
def test_unit_create_normalises_code_and_audits(branch_tree, role_at):
    secretary = role_at(branch_tree["station_a"], Role.SECRETARY)
    code = credit_code(10)
    unit = actions.unit_create(actor=secretary, branch=branch_tree["station_a"], name="Firm", credit_code=code.lower())
    assert unit.credit_code == code
    entry = last_audit("branches.unit.created")
    assert entry.after["credit_code"] == code
    assert entry.after["branch"] == str(branch_tree["station_a"].pk)
    assert ChangeRecord.objects.get(object_id=unit.pk).branch_id == branch_tree["station_a"].pk


@pytest.mark.parametrize(
    "code",
    [
        "91110000000000001",  # 17 characters
        "9111000000000000XX",  # bad characters for the check position
        credit_code(11)[:-1] + ("0" if credit_code(11)[-1] != "0" else "1"),  # wrong check character
        "ABCDEFGH0000000001",  # letters where the division code goes
    ],
)
def test_unit_create_rejects_malformed_credit_code(branch_tree, code):
    with pytest.raises(ValidationError) as exc:
        actions.unit_create(actor=None, branch=branch_tree["station_a"], name="Firm", credit_code=code)
    assert "credit_code" in exc.value.message_dict
    assert not Unit.objects.exists()


def test_unit_create_rejects_duplicate_credit_code(branch_tree):
    code = credit_code(12)
    first = actions.unit_create(actor=None, branch=branch_tree["station_a"], name="Firm", credit_code=code)
    with pytest.raises(ValidationError, match="already exists"):
        actions.unit_create(actor=None, branch=branch_tree["station_b"], name="Same firm", credit_code=code.lower())
    # Once the first is deleted the code is free again.
    actions.unit_delete(actor=None, unit=first)
    actions.unit_create(actor=None, branch=branch_tree["station_b"], name="Same firm", credit_code=code)


def test_unit_create_without_code_is_allowed_twice(branch_tree):
    actions.unit_create(actor=None, branch=branch_tree["station_a"], name="Shop 1")
    actions.unit_create(actor=None, branch=branch_tree["station_a"], name="Shop 2")
    assert Unit.objects.filter(credit_code__isnull=True).count() == 2


def test_unit_create_scope(branch_tree, role_at):
    organiser = role_at(branch_tree["station_a"], Role.ORGANISER)
    with pytest.raises(PermissionDenied):
        actions.unit_create(actor=organiser, branch=branch_tree["station_a"], name="Firm")
    with pytest.raises(Http404):
        actions.unit_create(actor=organiser, branch=branch_tree["station_b"], name="Firm")


def test_unit_update_to_branch_outside_scope_is_not_found(branch_tree, role_at):
    secretary = role_at(branch_tree["delivery"], Role.SECRETARY)
    unit = actions.unit_create(actor=secretary, branch=branch_tree["station_a"], name="Firm")
    with pytest.raises(Http404):
        actions.unit_update(actor=secretary, unit=unit, branch=branch_tree["building"])
    assert Unit.objects.get(pk=unit.pk).branch_id == branch_tree["station_a"].pk
    actions.unit_update(actor=secretary, unit=unit, branch=branch_tree["station_b"], name="Firm Ltd")
    entry = last_audit("branches.unit.updated")
    assert entry.before == {"name": "Firm", "branch": str(branch_tree["station_a"].pk)}
    assert entry.after == {"name": "Firm Ltd", "branch": str(branch_tree["station_b"].pk)}


def test_unit_delete_soft_deletes(branch_tree):
    unit = actions.unit_create(actor=None, branch=branch_tree["station_a"], name="Firm")
    actions.unit_delete(actor=None, unit=unit)
    assert not Unit.objects.filter(pk=unit.pk).exists()
    assert ChangeRecord.objects.filter(object_id=unit.pk).latest("seq").op == "delete"


#
# Committee seats
#
def test_seat_add_records_holder_and_moves_branch_version(branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    holder = UserFactory()
    seat = actions.seat_add(
        actor=officer,
        branch=branch_tree["station_a"],
        post=CommitteePost.SECRETARY,
        holder_name="Zhang Wei",
        user=holder,
        started_on=datetime.date(2024, 1, 1),
        party_standing_since=datetime.date(2010, 7, 1),
    )
    assert seat.user == holder
    assert Branch.objects.get(pk=branch_tree["station_a"].pk).version == 2
    entry = last_audit("branches.seat.added")
    assert entry.object_id == str(branch_tree["station_a"].pk)
    assert entry.after["holder_name"] == "Zhang Wei"
    assert entry.after["party_standing_since"] == "2010-07-01"


def test_seat_add_second_current_secretary_is_refused(branch_tree):
    branch = branch_tree["station_a"]
    actions.seat_add(
        actor=None, branch=branch, post="secretary", holder_name="A", started_on=datetime.date(2024, 1, 1)
    )
    with pytest.raises(ValidationError, match="already has a current secretary"):
        actions.seat_add(
            actor=None, branch=branch, post="secretary", holder_name="B", started_on=datetime.date(2024, 2, 1)
        )
    # Several ordinary members are fine.
    for name in ("C", "D"):
        actions.seat_add(
            actor=None, branch=branch, post="other", holder_name=name, started_on=datetime.date(2024, 1, 1)
        )
    assert CommitteeSeat.objects.filter(branch=branch).count() == 3


def test_seat_add_unknown_post_is_refused(branch_tree):
    with pytest.raises(ValidationError) as exc:
        actions.seat_add(
            actor=None,
            branch=branch_tree["station_a"],
            post="chair",
            holder_name="A",
            started_on=datetime.date(2024, 1, 1),
        )
    assert "post" in exc.value.message_dict


def test_seat_end_frees_the_post_for_a_successor(branch_tree):
    branch = branch_tree["station_a"]
    seat = actions.seat_add(
        actor=None, branch=branch, post="secretary", holder_name="A", started_on=datetime.date(2021, 1, 1)
    )
    actions.seat_end(actor=None, seat=seat, ended_on=datetime.date(2024, 1, 1))
    actions.seat_add(
        actor=None, branch=branch, post="secretary", holder_name="B", started_on=datetime.date(2024, 1, 1)
    )
    entry = last_audit("branches.seat.ended")
    assert entry.data == {"post": "secretary", "holder_name": "A", "ended_on": "2024-01-01"}


def test_seat_end_twice_is_a_conflict(branch_tree):
    seat = actions.seat_add(
        actor=None,
        branch=branch_tree["station_a"],
        post="other",
        holder_name="A",
        started_on=datetime.date(2021, 1, 1),
    )
    actions.seat_end(actor=None, seat=seat, ended_on=datetime.date(2022, 1, 1))
    with pytest.raises(Conflict):
        actions.seat_end(actor=None, seat=seat, ended_on=datetime.date(2023, 1, 1))


def test_seat_end_before_start_is_refused(branch_tree):
    seat = actions.seat_add(
        actor=None,
        branch=branch_tree["station_a"],
        post="other",
        holder_name="A",
        started_on=datetime.date(2021, 1, 1),
    )
    with pytest.raises(ValidationError) as exc:
        actions.seat_end(actor=None, seat=seat, ended_on=datetime.date(2020, 1, 1))
    assert "ended_on" in exc.value.message_dict
    assert CommitteeSeat.objects.get(pk=seat.pk).ended_on is None


def test_seat_add_scope(branch_tree, role_at):
    secretary = role_at(branch_tree["station_a"], Role.SECRETARY)
    with pytest.raises(PermissionDenied):
        actions.seat_add(
            actor=secretary,
            branch=branch_tree["station_a"],
            post="other",
            holder_name="A",
            started_on=datetime.date(2024, 1, 1),
        )
    with pytest.raises(Http404):
        actions.seat_add(
            actor=secretary,
            branch=branch_tree["station_b"],
            post="other",
            holder_name="A",
            started_on=datetime.date(2024, 1, 1),
        )


#
# Roles
#
def test_role_grant_creates_once_and_audits_once(branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    user = UserFactory()
    first = actions.role_grant(actor=officer, user=user, role=Role.SECRETARY, branch=branch_tree["station_a"])
    again = actions.role_grant(actor=officer, user=user, role=Role.SECRETARY, branch=branch_tree["station_a"])
    assert first == again
    assert RoleAssignment.objects.filter(user=user).count() == 1
    entries = AuditEntry.objects.filter(action="branches.role.granted", actor=officer)
    assert [e.data for e in entries] == [{"user": user.username, "role": "secretary"}]


def test_role_grant_unknown_role_is_refused(branch_tree):
    with pytest.raises(ValidationError) as exc:
        actions.role_grant(actor=None, user=UserFactory(), role="boss", branch=branch_tree["station_a"])
    assert "role" in exc.value.message_dict


def test_role_grant_admin_only_by_an_admin(branch_tree, role_at):
    officer = role_at(branch_tree["district"], Role.OFFICER)
    with pytest.raises(PermissionDenied):
        actions.role_grant(actor=officer, user=UserFactory(), role=Role.ADMIN, branch=branch_tree["district"])
    admin = role_at(branch_tree["district"], Role.ADMIN)
    actions.role_grant(actor=admin, user=UserFactory(), role=Role.ADMIN, branch=branch_tree["district"])
    assert RoleAssignment.objects.filter(role=Role.ADMIN).count() == 2


def test_role_grant_scope(branch_tree, role_at):
    officer = role_at(branch_tree["station_a"], Role.OFFICER)
    with pytest.raises(Http404):
        actions.role_grant(actor=officer, user=UserFactory(), role=Role.MEMBER, branch=branch_tree["station_b"])
    secretary = role_at(branch_tree["station_a"], Role.SECRETARY)
    with pytest.raises(PermissionDenied):
        actions.role_grant(actor=secretary, user=UserFactory(), role=Role.MEMBER, branch=branch_tree["station_a"])


def test_role_grant_and_revoke_update_the_users_scope_at_once(branch_tree):
    user = UserFactory()
    assert not in_scope(user, "branches.view", branch_tree["station_a"])  # grants now cached on `user`
    assignment = actions.role_grant(actor=None, user=user, role=Role.OFFICER, branch=branch_tree["delivery"])
    assert in_scope(user, "branches.view", branch_tree["station_a"])
    assignment.user = user
    actions.role_revoke(actor=None, assignment=assignment)
    assert not in_scope(user, "branches.view", branch_tree["station_a"])
    assert not RoleAssignment.objects.exists()
    assert last_audit("branches.role.revoked").data == {"user": user.username, "role": "officer"}


#
# Term reminders
#
@pytest.fixture
def expiring(branch_tree):
    """Station A's term expires on 2027-06-30; its secretary (role and seat) and the parent's officer hear of it."""
    station = actions.branch_update(actor=None, branch=branch_tree["station_a"], elected_on=datetime.date(2024, 6, 30))
    assert station.term_expires_on == datetime.date(2027, 6, 30)
    secretary = UserFactory(username="secretary_a")
    actions.role_grant(actor=None, user=secretary, role=Role.SECRETARY, branch=station)
    seat_holder = UserFactory(username="seat_holder")
    actions.seat_add(
        actor=None,
        branch=station,
        post="secretary",
        holder_name="Seat holder",
        user=seat_holder,
        started_on=station.elected_on,
    )
    officer = UserFactory(username="officer_delivery")
    actions.role_grant(actor=None, user=officer, role=Role.OFFICER, branch=branch_tree["delivery"])
    # Not recipients: an officer two levels up, an organiser at the branch, an inactive secretary.
    actions.role_grant(actor=None, user=UserFactory(), role=Role.OFFICER, branch=branch_tree["district"])
    actions.role_grant(actor=None, user=UserFactory(), role=Role.ORGANISER, branch=station)
    actions.role_grant(actor=None, user=UserFactory(is_active=False), role=Role.SECRETARY, branch=station)
    return station


EXPIRY = datetime.date(2027, 6, 30)
RECIPIENTS = {"secretary_a@example.com", "seat_holder@example.com", "officer_delivery@example.com"}


def sent_to() -> set[str]:
    return {address for message in mail.outbox for address in message.to}


def test_term_reminders_nothing_before_six_months(expiring):
    assert actions.term_reminders_send(today=EXPIRY - relativedelta(months=6, days=1)) == 0
    assert mail.outbox == []


def test_term_reminders_six_months_before_reach_secretary_and_parent_officers(expiring):
    assert actions.term_reminders_send(today=EXPIRY - relativedelta(months=6)) == 3
    assert sent_to() == RECIPIENTS
    assert "Station A branch" in mail.outbox[0].subject
    assert "2027-06-30" in mail.outbox[0].subject
    assert set(TermReminderLog.objects.values_list("stage", flat=True)) == {"-6m"}


@pytest.mark.parametrize(
    ("today", "stage"),
    [
        (EXPIRY - relativedelta(months=6), "-6m"),
        (EXPIRY - relativedelta(months=3), "-3m"),
        (EXPIRY - relativedelta(months=2), "-2m"),
        (EXPIRY - relativedelta(months=1), "-1m"),
        (EXPIRY, "+0m"),
        (EXPIRY + relativedelta(months=1), "+1m"),
        (EXPIRY + relativedelta(months=14), "+14m"),
    ],
)
def test_term_reminders_stages(expiring, today, stage):
    assert actions.term_reminders_send(today=today) == 3
    assert set(TermReminderLog.objects.values_list("stage", flat=True)) == {stage}


def test_term_reminders_go_once_per_stage_over_a_year_of_daily_sweeps(expiring):
    day = EXPIRY - relativedelta(months=7)
    while day <= EXPIRY + relativedelta(months=2, days=10):
        actions.term_reminders_send(today=day)
        day += datetime.timedelta(days=1)
    stages = ["-6m", "-3m", "-2m", "-1m", "+0m", "+1m", "+2m"]
    assert sorted(TermReminderLog.objects.values_list("stage", flat=True)) == sorted(stages * 3)
    assert len(mail.outbox) == len(stages) * 3
    expired_subjects = [m.subject for m in mail.outbox if "expired" in m.subject]
    assert len(expired_subjects) == 2 * 3  # +1m and +2m; on the expiry day itself it "expires"


def test_term_reminders_second_sweep_sends_nothing(expiring):
    today = EXPIRY - relativedelta(months=3, days=-5)
    assert actions.term_reminders_send(today=today) == 3
    assert actions.term_reminders_send(today=today) == 0
    assert len(mail.outbox) == 3


def test_term_reminders_failed_send_releases_the_claim(expiring, monkeypatch):
    today = EXPIRY - relativedelta(months=6)
    real = actions._term_reminder_mail
    calls = []

    def flaky(branch, user, day):
        calls.append(user.username)
        if len(calls) == 1:
            raise ConnectionError("smtp down")
        real(branch, user, day)

    monkeypatch.setattr(actions, "_term_reminder_mail", flaky)
    with pytest.raises(ConnectionError):
        actions.term_reminders_send(today=today)
    failed = TermReminderLog.objects.get(recipient__username=calls[0])
    assert failed.sent_at is None
    assert actions.term_reminders_send(today=today) == 3
    assert sent_to() == RECIPIENTS
    assert not TermReminderLog.objects.filter(sent_at__isnull=True).exists()


def test_term_reminders_new_term_starts_over(expiring):
    actions.term_reminders_send(today=EXPIRY - relativedelta(months=6))
    renewed = actions.branch_update(actor=None, branch=expiring, elected_on=datetime.date(2026, 12, 1))
    assert actions.term_reminders_send(today=renewed.term_expires_on - relativedelta(months=6)) == 3
    assert TermReminderLog.objects.count() == 6


def test_term_reminders_skip_dissolved_branches(expiring, branch_tree):
    actions.branch_dissolve(actor=None, branch=expiring)
    assert actions.term_reminders_send(today=EXPIRY) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers, so sweeps cannot race")
def test_term_reminders_two_racing_sweeps_send_once(expiring, monkeypatch):
    """Two sweeps reach the claim at the same moment (a barrier after choosing recipients); each mail goes once."""
    today = EXPIRY - relativedelta(months=6)
    barrier = threading.Barrier(2, timeout=10)
    real = actions._term_recipients

    def recipients_then_wait(branch):
        found = real(branch)
        barrier.wait()
        return found

    monkeypatch.setattr(actions, "_term_recipients", recipients_then_wait)
    results, errors = [], []

    def sweep():
        try:
            results.append(actions.term_reminders_send(today=today))
        except Exception as exc:  # surfaced below, with the thread's traceback lost but the type kept
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) in ([0, 3], [1, 2])  # who claims which row is up to the database
    assert sum(results) == 3
    assert len(mail.outbox) == 3
    assert sent_to() == RECIPIENTS
    assert TermReminderLog.objects.filter(sent_at__isnull=False).count() == 3
