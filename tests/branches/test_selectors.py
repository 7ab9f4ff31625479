import datetime

import pytest
from dateutil.relativedelta import relativedelta

from branches import actions, selectors
from branches.choices import BranchKind, CommitteePost, Role
from branches.models import Branch
from branches.permissions import clear_scope_cache
from tests.branches.factories import UserFactory, credit_code

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 6, 1)


#
# Lists and scope
#
def test_branch_list_is_the_actors_subtree_in_tree_order(branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    found = list(selectors.branch_list(actor=officer))
    assert found[0] == branch_tree["delivery"]
    assert set(found) == {branch_tree["delivery"], branch_tree["station_a"], branch_tree["station_b"]}
    assert [b.path for b in found] == sorted(b.path for b in found)


def test_branch_list_annotates_rule_facts(branch_tree):
    delivery = branch_tree["delivery"]
    actions.seat_add(
        actor=None,
        branch=delivery,
        post=CommitteePost.SECRETARY,
        holder_name="A",
        started_on=datetime.date(2020, 1, 1),
        party_standing_since=datetime.date(2001, 7, 1),
    )
    ended = actions.seat_add(
        actor=None, branch=delivery, post="other", holder_name="B", started_on=datetime.date(2020, 1, 1)
    )
    actions.seat_end(actor=None, seat=ended, ended_on=datetime.date(2021, 1, 1))
    unit = actions.unit_create(actor=None, branch=delivery, name="Firm", credit_code=credit_code(1))
    actions.branch_update(actor=None, branch=delivery, units=[unit])
    actions.branch_dissolve(actor=None, branch=branch_tree["station_b"])

    row = _annotated(delivery)
    assert row.seat_count == 1  # the ended seat does not count
    assert row.unit_count == 1
    assert row.child_count == 1  # the dissolved child does not count
    assert row.has_secretary is True
    assert row.secretary_standing_since == datetime.date(2001, 7, 1)


def _annotated(branch: Branch) -> Branch:
    """The branch as branch_list returns it (to a superuser, who sees everything)."""
    return selectors.branch_list(actor=UserFactory(is_superuser=True)).get(pk=branch.pk)


def test_branch_list_costs_the_same_queries_for_any_number_of_rows(branch_tree, role_at, django_assert_num_queries):
    officer = role_at(branch_tree["district"], Role.OFFICER)
    clear_scope_cache(officer)
    with django_assert_num_queries(2):  # the officer's grants, then the page
        rows = list(selectors.branch_list(actor=officer))
        warnings = [selectors.branch_warnings(b, today=TODAY) for b in rows]
    assert len(rows) == len(warnings) == 5

    for n in range(10):
        branch = actions.branch_create(actor=None, parent=branch_tree["station_a"], name=f"G{n}", kind="group")
        actions.seat_add(actor=None, branch=branch, post="secretary", holder_name="S", started_on=TODAY)
    clear_scope_cache(officer)
    with django_assert_num_queries(2):
        rows = list(selectors.branch_list(actor=officer))
        [selectors.branch_warnings(b, today=TODAY) for b in rows]
    assert len(rows) == 15


def test_branch_children_of_none_are_the_tops_of_the_scope(branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    assert list(selectors.branch_children(actor=officer, parent=None)) == [branch_tree["delivery"]]
    two_places = role_at(branch_tree["station_a"], Role.SECRETARY)
    role_at(branch_tree["building"], Role.SECRETARY, user=two_places)
    tops = set(selectors.branch_children(actor=two_places, parent=None))
    assert tops == {branch_tree["station_a"], branch_tree["building"]}
    admin = role_at(branch_tree["station_b"], Role.ADMIN)
    assert list(selectors.branch_children(actor=admin, parent=None)) == [branch_tree["district"]]


def test_branch_children_of_a_parent_stay_in_scope(branch_tree, role_at):
    officer = role_at(branch_tree["station_a"], Role.OFFICER)
    assert list(selectors.branch_children(actor=officer, parent=branch_tree["delivery"])) == [branch_tree["station_a"]]
    assert set(selectors.branch_children(actor=officer, parent=branch_tree["district"])) == set()


def test_branch_search_matches_within_scope(branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    assert set(selectors.branch_search(actor=officer, text=" station ")) == {
        branch_tree["station_a"],
        branch_tree["station_b"],
    }
    assert list(selectors.branch_search(actor=officer, text="Building")) == []


def test_branch_ancestors_root_first_in_one_query(branch_tree, django_assert_num_queries):
    group = actions.branch_create(actor=None, parent=branch_tree["station_a"], name="Group", kind="group")
    with django_assert_num_queries(1):
        chain = selectors.branch_ancestors(branch=group)
    assert chain == [branch_tree["district"], branch_tree["delivery"], branch_tree["station_a"]]
    assert selectors.branch_ancestors(branch=branch_tree["district"]) == []


def test_unit_list_is_scoped_by_owning_branch(branch_tree, role_at):
    mine = actions.unit_create(actor=None, branch=branch_tree["station_a"], name="Mine", credit_code=credit_code(1))
    actions.unit_create(actor=None, branch=branch_tree["building"], name="Theirs", credit_code=credit_code(2))
    caseworker = role_at(branch_tree["delivery"], Role.CASEWORKER)
    assert list(selectors.unit_list(actor=caseworker)) == [mine]
    member = role_at(branch_tree["delivery"], Role.MEMBER)
    assert list(selectors.unit_list(actor=member)) == []


def test_role_assignment_list_skips_dissolved_branches(branch_tree, role_at):
    user = role_at(branch_tree["station_b"], Role.SECRETARY)
    role_at(branch_tree["delivery"], Role.ORGANISER, user=user)
    actions.branch_dissolve(actor=None, branch=branch_tree["station_b"])
    assert [(r.role, r.branch) for r in selectors.role_assignment_list(user=user)] == [
        (Role.ORGANISER, branch_tree["delivery"])
    ]


#
# branch_warnings: every rule of DOMAIN.md §2
#
def set_counts(branch: Branch, members: int, full: int) -> None:
    """Member records come with the members app; the counters are set directly here."""
    Branch.objects.filter(pk=branch.pk).update(member_count=members, full_member_count=full)


def add_secretary(branch: Branch, standing_since=datetime.date(2010, 1, 1)):
    return actions.seat_add(
        actor=None,
        branch=branch,
        post=CommitteePost.SECRETARY,
        holder_name="Secretary",
        started_on=datetime.date(2020, 1, 1),
        party_standing_since=standing_since,
    )


def add_seats(branch: Branch, n: int) -> None:
    for i in range(n):
        actions.seat_add(
            actor=None, branch=branch, post="other", holder_name=f"Member {i}", started_on=datetime.date(2020, 1, 1)
        )


@pytest.fixture(params=["plain", "annotated"])
def codes(request):
    """codes(branch) -> warning codes, read from a fresh instance or through branch_list's annotations."""

    def read(branch: Branch) -> list[str]:
        fresh = Branch.objects.get(pk=branch.pk) if request.param == "plain" else _annotated(branch)
        return [w["code"] for w in selectors.branch_warnings(fresh, today=TODAY)]

    return read


@pytest.fixture
def healthy(branch_tree):
    """A branch that breaks no rule: 5 full members, a secretary of long standing, a term well ahead."""
    branch = actions.branch_update(
        actor=None, branch=branch_tree["station_a"], elected_on=TODAY - relativedelta(years=1)
    )
    set_counts(branch, 6, 5)
    add_secretary(branch)
    return branch


def test_branch_warnings_none_for_a_healthy_branch(healthy, codes):
    assert codes(healthy) == []


def test_branch_warnings_messages_are_sentences(healthy):
    set_counts(healthy, 2, 2)
    warnings = selectors.branch_warnings(Branch.objects.get(pk=healthy.pk), today=TODAY)
    assert warnings == [
        {"code": "too_few_full_members", "message": "Fewer than 3 full members: join other units in a joint branch."}
    ]


def test_branch_warnings_too_few_full_members(healthy, codes):
    set_counts(healthy, 5, 2)
    assert codes(healthy) == ["too_few_full_members"]


def test_branch_warnings_too_few_full_members_not_for_joint_branches(healthy, codes):
    actions.branch_update(actor=None, branch=healthy, is_joint=True)
    set_counts(healthy, 2, 2)
    assert codes(healthy) == []


def test_branch_warnings_joint_too_many_units(healthy, codes):
    units = [
        actions.unit_create(actor=None, branch=healthy, name=f"Firm {i}", credit_code=credit_code(i)) for i in range(6)
    ]
    actions.branch_update(actor=None, branch=healthy, is_joint=True, units=units[:5])
    assert codes(healthy) == []
    actions.branch_update(actor=None, branch=healthy, units=units)
    assert codes(healthy) == ["joint_too_many_units"]


def test_branch_warnings_over_50_members(healthy, codes):
    set_counts(healthy, 50, 5)
    assert codes(healthy) == []
    set_counts(healthy, 51, 5)
    assert codes(healthy) == ["over_50_members"]


def test_branch_warnings_over_100_members_replaces_over_50(healthy, codes):
    set_counts(healthy, 101, 5)
    assert codes(healthy) == ["over_100_members"]


def test_branch_warnings_committee_needed_from_seven_full_members(healthy, codes):
    set_counts(healthy, 7, 6)
    assert codes(healthy) == []
    set_counts(healthy, 7, 7)
    assert codes(healthy) == ["committee_needed"]
    add_seats(healthy, 1)
    assert codes(healthy) == ["committee_needed"]
    add_seats(healthy, 1)
    assert codes(healthy) == []  # secretary + 2 = a committee of 3


def test_branch_warnings_committee_too_large(healthy, codes):
    set_counts(healthy, 30, 30)
    add_seats(healthy, 6)
    assert codes(healthy) == []  # 7 seats is the most
    add_seats(healthy, 1)
    assert codes(healthy) == ["committee_too_large"]


def test_branch_warnings_committee_not_allowed_below_seven(healthy, codes):
    add_seats(healthy, 1)
    assert codes(healthy) == ["committee_not_allowed"]


def test_branch_warnings_committee_rules_apply_to_general_branches(branch_tree, codes):
    general = actions.branch_create(
        actor=None, parent=branch_tree["delivery"], name="General", kind=BranchKind.GENERAL_BRANCH
    )
    add_secretary(general)
    set_counts(general, 60, 55)
    assert codes(general) == ["committee_needed"]


def test_branch_warnings_no_secretary(healthy, codes, branch_tree):
    assert "no_secretary" in codes(branch_tree["station_b"])
    assert "no_secretary" in codes(branch_tree["delivery"])  # committees too
    group = actions.branch_create(actor=None, parent=healthy, name="Group", kind=BranchKind.GROUP)
    assert codes(group) == []  # a group has a leader, not a secretary
    seat = healthy.seats.get()
    actions.seat_end(actor=None, seat=seat, ended_on=TODAY)
    assert codes(healthy) == ["no_secretary"]


def test_branch_warnings_secretary_standing_short(branch_tree, codes):
    branch = branch_tree["station_b"]
    set_counts(branch, 4, 4)
    add_secretary(branch, standing_since=TODAY - relativedelta(months=11))
    assert codes(branch) == ["secretary_standing_short"]


def test_branch_warnings_secretary_standing_of_exactly_one_year_is_enough(branch_tree, codes):
    branch = branch_tree["station_b"]
    set_counts(branch, 4, 4)
    add_secretary(branch, standing_since=TODAY - relativedelta(years=1))
    assert codes(branch) == []


def test_branch_warnings_temporary_limits(healthy, codes):
    actions.branch_update(actor=None, branch=healthy, is_temporary=True)
    assert codes(healthy) == ["temporary_limits"]


def test_branch_warnings_term_expiring_within_six_months(healthy, codes):
    # 3-year term: elected so that it ends exactly six months after TODAY, then a day later.
    actions.branch_update(
        actor=None, branch=healthy, elected_on=TODAY + relativedelta(months=6) - relativedelta(years=3)
    )
    assert codes(healthy) == ["term_expiring"]
    actions.branch_update(
        actor=None, branch=healthy, elected_on=TODAY + relativedelta(months=6, days=1) - relativedelta(years=3)
    )
    assert codes(healthy) == []


def test_branch_warnings_term_expired(healthy, codes):
    actions.branch_update(actor=None, branch=healthy, elected_on=TODAY - relativedelta(years=3, days=1))
    assert codes(healthy) == ["term_expired"]
    actions.branch_update(actor=None, branch=healthy, elected_on=TODAY - relativedelta(years=3))
    assert codes(healthy) == ["term_expiring"]  # the last day of the term


def test_branch_warnings_extension_moves_the_expiry(healthy, codes):
    actions.branch_update(actor=None, branch=healthy, elected_on=TODAY - relativedelta(years=3, days=1))
    actions.branch_update(actor=None, branch=healthy, term_extension_months=12)
    assert codes(healthy) == []


def test_branch_warnings_several_at_once(branch_tree, codes):
    branch = branch_tree["station_b"]
    actions.branch_update(actor=None, branch=branch, is_temporary=True, elected_on=datetime.date(2020, 1, 1))
    set_counts(branch, 120, 2)
    assert codes(branch) == [
        "too_few_full_members",
        "over_100_members",
        "no_secretary",
        "temporary_limits",
        "term_expired",
    ]
