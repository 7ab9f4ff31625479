import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from branches.models import Branch
from core.exceptions import Conflict
from core.models import AuditEntry, ChangeRecord
from members import actions
from members.models import Affiliation, Member, Platform
from members.selectors import voting_members
from tests.branches.factories import UnitFactory, UserFactory
from tests.members.factories import MemberFactory, make_citizen_id, with_wrong_check_digit

pytestmark = pytest.mark.django_db


def _data(n=0, **overrides):
    data = {
        "name": "张三",
        "citizen_id": make_citizen_id(n, birth=datetime.date(1992, 3, 4), male=True),
        "category": "full",
        "joined_on": datetime.date(2016, 7, 1),
    }
    data.update(overrides)
    return data


def _errors(excinfo) -> dict:
    return excinfo.value.message_dict


def _counts(branch) -> tuple[int, int]:
    branch = Branch.objects.get(pk=branch.pk)
    return branch.member_count, branch.full_member_count


#
# Create
#
def test_member_create_derives_sex_and_birth_date_from_id(branch_tree, role_at):
    secretary = role_at(branch_tree["station_a"], "secretary")
    member = actions.member_create(actor=secretary, branch=branch_tree["station_a"], phone="138 1234 5678", **_data())
    member = Member.objects.get(pk=member.pk)
    assert member.sex == "male"
    assert member.birth_date == datetime.date(1992, 3, 4)
    assert member.citizen_id == _data()["citizen_id"]
    assert member.citizen_id_masked == _data()["citizen_id"][:6] + "********" + _data()["citizen_id"][-4:]
    assert member.phone == "13812345678"
    assert (member.phone_masked, member.phone_last4) == ("138****5678", "5678")
    assert (member.name_pinyin, member.name_initials) == ("zhangsan", "zs")
    assert member.status == "normal"
    assert member.version == 1


def test_member_create_checks_given_sex_and_birth_date_against_id(branch_tree):
    with pytest.raises(ValidationError) as info:
        actions.member_create(
            actor=None, branch=branch_tree["station_a"], sex="female", birth_date=datetime.date(1992, 3, 5), **_data()
        )
    assert set(_errors(info)) == {"sex", "birth_date"}


def test_member_create_refuses_bad_id_without_echoing_it(branch_tree):
    bad = with_wrong_check_digit(make_citizen_id(5))
    with pytest.raises(ValidationError) as info:
        actions.member_create(actor=None, branch=branch_tree["station_a"], **_data(citizen_id=bad))
    errors = _errors(info)
    assert list(errors) == ["citizen_id"]
    assert bad not in str(errors)
    assert not Member.objects.exists()


def test_member_create_refuses_duplicate_id_among_live_members(branch_tree):
    first = MemberFactory(branch=branch_tree["station_a"], citizen_id=make_citizen_id(9))
    with pytest.raises(ValidationError) as info:
        actions.member_create(actor=None, branch=branch_tree["station_b"], **_data(citizen_id=make_citizen_id(9)))
    assert list(_errors(info)) == ["citizen_id"]
    assert make_citizen_id(9) not in str(_errors(info))
    first.soft_delete()
    again = actions.member_create(actor=None, branch=branch_tree["station_b"], **_data(citizen_id=make_citizen_id(9)))
    assert again.pk != first.pk


def test_member_create_refuses_full_member_date_for_probationary(branch_tree):
    with pytest.raises(ValidationError) as info:
        actions.member_create(
            actor=None,
            branch=branch_tree["station_a"],
            **_data(category="probationary", full_member_on=datetime.date(2017, 7, 1)),
        )
    assert list(_errors(info)) == ["full_member_on"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"joined_on": datetime.date(1990, 1, 1)}, "joined_on"),  # before birth
        ({"joined_on": timezone.localdate() + datetime.timedelta(days=3)}, "joined_on"),
        ({"full_member_on": datetime.date(2015, 1, 1)}, "full_member_on"),  # before joining
        ({"lost_contact": True}, "lost_contact_since"),
        ({"lost_contact_since": datetime.date(2020, 1, 1)}, "lost_contact_since"),
        ({"is_mobile": True}, "mobile_destination"),
        ({"mobile_destination": "Shenzhen"}, "mobile_destination"),
        ({"name": "  "}, "name"),
        ({"status": "vanished"}, "status"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_member_create_refuses_impossible_records(branch_tree, overrides, field):
    with pytest.raises(ValidationError) as info:
        actions.member_create(actor=None, branch=branch_tree["station_a"], **_data(**overrides))
    assert field in _errors(info)


def test_member_create_keeps_markup_in_name_as_text(branch_tree):
    member = actions.member_create(
        actor=None, branch=branch_tree["station_a"], **_data(name="<script>alert(1)</script>")
    )
    assert Member.objects.get(pk=member.pk).name == "<script>alert(1)</script>"


def test_member_create_scope(branch_tree, role_at):
    secretary = role_at(branch_tree["station_a"], "secretary")
    organiser = role_at(branch_tree["station_b"], "organiser")
    with pytest.raises(Http404):
        actions.member_create(actor=secretary, branch=branch_tree["station_b"], **_data())
    with pytest.raises(PermissionDenied):
        actions.member_create(actor=organiser, branch=branch_tree["station_b"], **_data())


def test_member_create_refuses_unit_outside_scope(branch_tree, role_at):
    secretary = role_at(branch_tree["station_a"], "secretary")
    foreign_unit = UnitFactory(branch=branch_tree["building"])
    with pytest.raises(ValidationError) as info:
        actions.member_create(actor=secretary, branch=branch_tree["station_a"], unit=foreign_unit, **_data())
    assert list(_errors(info)) == ["unit"]


def test_member_create_audits_masked_values_only(branch_tree):
    number = make_citizen_id(21)
    member = actions.member_create(
        actor=None,
        branch=branch_tree["station_a"],
        phone="13812345678",
        platforms=[Platform.objects.get(code="meituan")],
        **_data(citizen_id=number),
    )
    entry = AuditEntry.objects.get(action="members.member.created", object_id=str(member.pk))
    assert entry.after["citizen_id_masked"] == member.citizen_id_masked
    assert entry.after["platforms"] == ["meituan"]
    dumped = str(entry.after) + str(entry.before) + str(entry.data) + entry.object_repr
    assert number not in dumped
    assert "13812345678" not in dumped


#
# Branch counters
#
def test_member_counts_follow_create_update_and_delete(branch_tree):
    a, b = branch_tree["station_a"], branch_tree["station_b"]
    version_before = Branch.objects.get(pk=a.pk).version
    full = MemberFactory(branch=a, category="full")
    probationary = MemberFactory(branch=a, category="probationary")
    assert _counts(a) == (2, 1)
    assert Branch.objects.get(pk=a.pk).version == version_before + 2
    assert ChangeRecord.objects.filter(object_id=a.pk, resource="branch").count() == 3

    actions.member_update(actor=None, member=probationary, category="full", full_member_on=datetime.date(2017, 7, 1))
    assert _counts(a) == (2, 2)
    actions.member_update(actor=None, member=full, branch=b)
    assert (_counts(a), _counts(b)) == ((1, 1), (1, 1))
    actions.member_update(actor=None, member=full, status="removed")
    assert _counts(b) == (0, 0)
    actions.member_delete(actor=None, member=probationary)
    assert _counts(a) == (0, 0)


def test_branch_member_counts_adjust_writes_one_change_per_branch(branch_tree):
    from branches.actions import branch_member_counts_adjust

    a, b = branch_tree["station_a"], branch_tree["station_b"]
    branch_member_counts_adjust(deltas={a.pk: (3, 2), b.pk: (1, 0), branch_tree["building"].pk: (0, 0)})
    assert (_counts(a), _counts(b), _counts(branch_tree["building"])) == ((3, 2), (1, 0), (0, 0))
    latest = ChangeRecord.objects.filter(object_id=a.pk).latest("seq")
    assert latest.version == Branch.objects.get(pk=a.pk).version == 2
    assert ChangeRecord.objects.filter(object_id=branch_tree["building"].pk).count() == 1


#
# Update
#
def test_member_update_branch_change_needs_scope_at_both_branches(branch_tree, role_at):
    member = MemberFactory(branch=branch_tree["station_a"])
    secretary = role_at(branch_tree["station_a"], "secretary")
    with pytest.raises(Http404):
        actions.member_update(actor=secretary, member=member, branch=branch_tree["station_b"])
    assert Member.objects.get(pk=member.pk).branch_id == branch_tree["station_a"].pk
    officer = role_at(branch_tree["delivery"], "officer")
    actions.member_update(actor=officer, member=member, branch=branch_tree["station_b"])
    assert Member.objects.get(pk=member.pk).branch_id == branch_tree["station_b"].pk


def test_member_update_new_id_rederives_sex_and_birth_date(branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"])
    new_number = make_citizen_id(40, birth=datetime.date(1985, 12, 24), male=False)
    actions.member_update(actor=None, member=member, citizen_id=new_number)
    member = Member.objects.get(pk=member.pk)
    assert (member.sex, member.birth_date, member.citizen_id) == ("female", datetime.date(1985, 12, 24), new_number)
    entry = AuditEntry.objects.filter(action="members.member.updated").latest("at")
    assert entry.data == {"sensitive_changed": ["citizen_id"]}
    assert new_number not in str(entry.before) + str(entry.after)


def test_member_update_without_changes_keeps_version(branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"], name="李四")
    actions.member_update(actor=None, member=member, name="李四", citizen_id=member.citizen_id)
    assert Member.objects.get(pk=member.pk).version == 1
    assert not AuditEntry.objects.filter(action="members.member.updated").exists()


def test_member_update_platforms_replaces_the_list(branch_tree):
    meituan, eleme, sf = (Platform.objects.get(code=c) for c in ("meituan", "eleme", "sf"))
    member = MemberFactory(branch=branch_tree["station_a"], platforms=[meituan, eleme])
    actions.member_update(actor=None, member=member, platforms=[sf])
    assert list(Member.objects.get(pk=member.pk).platforms.values_list("code", flat=True)) == ["sf"]


def test_member_delete_is_soft_and_scoped(branch_tree, role_at):
    member = MemberFactory(branch=branch_tree["station_a"])
    with pytest.raises(Http404):
        actions.member_delete(actor=role_at(branch_tree["station_b"], "secretary"), member=member)
    actions.member_delete(actor=role_at(branch_tree["station_a"], "secretary"), member=member, reason="typo")
    assert not Member.objects.filter(pk=member.pk).exists()
    assert ChangeRecord.objects.filter(object_id=member.pk).latest("seq").op == "delete"


#
# Self-service
#
def test_member_self_update_changes_only_phone_and_address(branch_tree):
    account = UserFactory()
    member = MemberFactory(branch=branch_tree["station_a"], user=account)
    actions.member_self_update(actor=account, member=member, phone="13698765432", address="Room 1")
    member = Member.objects.get(pk=member.pk)
    assert (member.phone, member.address) == ("13698765432", "Room 1")
    with pytest.raises(TypeError):
        actions.member_self_update(actor=account, member=member, name="Other")  # not a parameter
    with pytest.raises(PermissionDenied):
        actions.member_self_update(actor=UserFactory(), member=member, address="Elsewhere")
    with pytest.raises(ValidationError) as info:
        actions.member_self_update(actor=account, member=member, phone="12")
    assert list(_errors(info)) == ["phone"]


#
# Affiliations and voting
#
def test_affiliation_add_and_end(branch_tree, role_at):
    member = MemberFactory(branch=branch_tree["station_a"])
    secretary = role_at(branch_tree["station_a"], "secretary")
    affiliation = actions.affiliation_add(
        actor=secretary,
        member=member,
        branch=branch_tree["building"],  # outside the secretary's scope: a host branch elsewhere
        kind="building",
        started_on=datetime.date(2024, 1, 1),
    )
    assert Member.objects.get(pk=member.pk).version == 2
    with pytest.raises(ValidationError):
        actions.affiliation_add(
            actor=secretary,
            member=member,
            branch=branch_tree["building"],
            kind="host",
            started_on=timezone.localdate(),
        )
    with pytest.raises(ValidationError) as info:
        actions.affiliation_add(
            actor=secretary,
            member=member,
            branch=branch_tree["station_a"],
            kind="functional",
            started_on=timezone.localdate(),
        )
    assert list(_errors(info)) == ["branch"]
    with pytest.raises(ValidationError):
        actions.affiliation_end(actor=secretary, affiliation=affiliation, ended_on=datetime.date(2023, 1, 1))
    actions.affiliation_end(actor=secretary, affiliation=affiliation, ended_on=datetime.date(2024, 6, 30))
    assert Affiliation.objects.get(pk=affiliation.pk).ended_on == datetime.date(2024, 6, 30)
    with pytest.raises(Conflict):
        actions.affiliation_end(actor=secretary, affiliation=affiliation)


def test_member_cannot_move_to_a_branch_it_is_affiliated_with(branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"])
    actions.affiliation_add(
        actor=None,
        member=member,
        branch=branch_tree["station_b"],
        kind="functional",
        started_on=datetime.date(2024, 1, 1),
    )
    with pytest.raises(ValidationError) as info:
        actions.member_update(actor=None, member=member, branch=branch_tree["station_b"])
    assert list(_errors(info)) == ["branch"]


def test_voting_members_only_full_members_in_good_standing_at_formal_branch(branch_tree):
    a = branch_tree["station_a"]
    voter = MemberFactory(branch=a, category="full", full_member_on=datetime.date(2016, 7, 1))
    MemberFactory(branch=a, category="probationary")
    MemberFactory(branch=a, category="full", under_probation_discipline=True)
    MemberFactory(branch=a, category="full", status="suspended")
    visitor = MemberFactory(branch=branch_tree["station_b"], category="full")
    actions.affiliation_add(actor=None, member=visitor, branch=a, kind="host", started_on=datetime.date(2024, 1, 1))
    assert list(voting_members(branch=a)) == [voter]
    assert list(voting_members(branch=a, on_date=datetime.date(2016, 6, 30))) == []
    assert voter.has_voting_rights
    assert [m.has_voting_rights for m in Member.objects.filter(branch=a).exclude(pk=voter.pk)] == [False] * 3
