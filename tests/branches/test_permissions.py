from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from branches import actions
from branches.choices import BranchKind, Role
from branches.models import Branch
from branches.permissions import (
    ROLE_PERMISSIONS,
    ScopedPermission,
    branch_scope,
    clear_scope_cache,
    has_perm_anywhere,
    in_scope,
    scope_paths,
    user_roles,
)
from tests.branches.factories import UserFactory

pytestmark = pytest.mark.django_db


def names(qs) -> set[str]:
    return set(qs.values_list("name", flat=True))


#
# branch_scope
#
def test_branch_scope_reaches_the_role_branch_and_its_subtree_only(branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    assert names(branch_scope(officer, "branches.view")) == {
        "Delivery committee",
        "Station A branch",
        "Station B branch",
    }
    secretary = role_at(branch_tree["station_a"], Role.SECRETARY)
    assert names(branch_scope(secretary, "members.change")) == {"Station A branch"}


def test_branch_scope_admin_reaches_every_branch(branch_tree, role_at):
    # An admin role held anywhere, even at a leaf, reaches everything.
    admin = role_at(branch_tree["station_b"], Role.ADMIN)
    other_root = actions.branch_create(actor=None, parent=None, name="Other district", kind=BranchKind.COMMITTEE)
    assert branch_scope(admin, "branches.change").count() == 6
    assert scope_paths(admin, "branches.change") is None
    assert in_scope(admin, "branches.change", other_root)


def test_branch_scope_superuser_reaches_every_branch(branch_tree):
    superuser = UserFactory(is_superuser=True)
    assert branch_scope(superuser, "roles.change").count() == 5
    assert Role.ADMIN in user_roles(superuser)


def test_branch_scope_unites_several_roles(branch_tree, role_at):
    user = role_at(branch_tree["station_a"], Role.SECRETARY)
    role_at(branch_tree["building"], Role.OFFICER, user=user)
    clear_scope_cache(user)
    assert names(branch_scope(user, "branches.view")) == {"Station A branch", "Building joint branch"}
    # members.change: the secretary role and the officer role both grant it.
    assert names(branch_scope(user, "members.change")) == {"Station A branch", "Building joint branch"}
    # branches.change: only the officer role grants it.
    assert names(branch_scope(user, "branches.change")) == {"Building joint branch"}


def test_branch_scope_nested_roles_collapse_to_the_higher_one(branch_tree, role_at):
    user = role_at(branch_tree["station_a"], Role.OFFICER)
    role_at(branch_tree["district"], Role.OFFICER, user=user)
    role_at(branch_tree["delivery"], Role.OFFICER, user=user)
    clear_scope_cache(user)
    assert scope_paths(user, "branches.view") == [branch_tree["district"].path]
    assert branch_scope(user, "branches.view").count() == 5


def test_branch_scope_follows_the_permission(branch_tree, role_at):
    organiser = role_at(branch_tree["delivery"], Role.ORGANISER)
    assert branch_scope(organiser, "activities.change").count() == 3
    assert branch_scope(organiser, "members.view").count() == 3
    assert not branch_scope(organiser, "members.change").exists()
    assert not branch_scope(organiser, "branches.change").exists()
    caseworker = role_at(branch_tree["delivery"], Role.CASEWORKER)
    assert branch_scope(caseworker, "services.change").count() == 3
    assert not branch_scope(caseworker, "members.view").exists()


def test_branch_scope_member_role_reaches_no_branch(branch_tree, role_at):
    member = role_at(branch_tree["station_a"], Role.MEMBER)
    assert not branch_scope(member, "branches.view").exists()
    assert not has_perm_anywhere(member, "branches.view")


def test_branch_scope_anonymous_and_inactive_reach_nothing(branch_tree, role_at):
    assert not branch_scope(AnonymousUser(), "branches.view").exists()
    inactive = role_at(branch_tree["district"], Role.OFFICER)
    inactive.is_active = False
    assert not branch_scope(inactive, "branches.view").exists()
    assert not in_scope(inactive, "branches.view", branch_tree["district"])


def test_branch_scope_ignores_roles_at_dissolved_branches(branch_tree, role_at):
    secretary = role_at(branch_tree["station_b"], Role.SECRETARY)
    actions.branch_dissolve(actor=None, branch=branch_tree["station_b"])
    clear_scope_cache(secretary)
    assert not branch_scope(secretary, "branches.view").exists()
    assert user_roles(secretary) == set()


def test_branch_scope_excludes_dissolved_branches_in_the_subtree(branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    actions.branch_dissolve(actor=None, branch=branch_tree["station_b"])
    assert names(branch_scope(officer, "branches.view")) == {"Delivery committee", "Station A branch"}


def make_branches(parent, n: int) -> None:
    for i in range(n):
        actions.branch_create(actor=None, parent=parent, name=f"Extra {i}", kind=BranchKind.GROUP)


def test_branch_scope_costs_a_constant_number_of_queries(branch_tree, role_at, django_assert_num_queries):
    user = role_at(branch_tree["station_a"], Role.SECRETARY)
    role_at(branch_tree["building"], Role.OFFICER, user=user)
    role_at(branch_tree["delivery"], Role.ORGANISER, user=user)

    def scope_rows() -> int:
        clear_scope_cache(user)
        with django_assert_num_queries(2):  # the grants once, then one query for the branches
            rows = len(list(branch_scope(user, "branches.view")))
        with django_assert_num_queries(1):  # grants are cached on the user object
            assert branch_scope(user, "branches.view").count() == rows
        return rows

    assert scope_rows() == 4
    make_branches(branch_tree["station_b"], 30)
    make_branches(branch_tree["building"], 30)
    assert scope_rows() == 64


def test_branch_scope_as_a_subquery_is_one_query(branch_tree, role_at, django_assert_num_queries):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    clear_scope_cache(officer)
    make_branches(branch_tree["station_a"], 20)
    with django_assert_num_queries(2):
        found = list(Branch.objects.for_actor(officer, "branches.view").filter(kind=BranchKind.GROUP))
    assert len(found) == 20


#
# in_scope
#
def test_in_scope_no_query_once_grants_are_read(branch_tree, role_at, django_assert_num_queries):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    clear_scope_cache(officer)
    with django_assert_num_queries(1):
        assert in_scope(officer, "branches.change", branch_tree["station_a"])
    with django_assert_num_queries(0):
        assert in_scope(officer, "branches.change", branch_tree["delivery"])
        assert not in_scope(officer, "branches.change", branch_tree["district"])
        assert not in_scope(officer, "branches.change", branch_tree["building"])


def test_in_scope_of_no_branch_is_for_admins_only(branch_tree, role_at):
    officer = role_at(branch_tree["district"], Role.OFFICER)
    assert not in_scope(officer, "branches.change", None)
    admin = role_at(branch_tree["district"], Role.ADMIN)
    assert in_scope(admin, "branches.change", None)


def test_in_scope_follows_a_move(branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    assert not in_scope(officer, "branches.view", branch_tree["building"])
    actions.branch_move(actor=None, branch=branch_tree["building"], new_parent=branch_tree["delivery"])
    assert in_scope(officer, "branches.view", Branch.objects.get(pk=branch_tree["building"].pk))


#
# Role table and the DRF permission
#
def test_role_permissions_match_the_api_contract():
    assert ROLE_PERMISSIONS[Role.ADMIN] == ROLE_PERMISSIONS[Role.OFFICER]
    secretary = ROLE_PERMISSIONS[Role.SECRETARY]
    assert {"members.change", "transfers.change", "activities.change", "dues.change"} <= secretary
    assert "branches.change" not in secretary
    assert "roles.change" not in secretary
    organiser = ROLE_PERMISSIONS[Role.ORGANISER]
    assert {"activities.change", "members.view"} <= organiser
    assert "members.change" not in organiser
    caseworker = ROLE_PERMISSIONS[Role.CASEWORKER]
    assert "services.change" in caseworker
    assert "members.view" not in caseworker
    assert ROLE_PERMISSIONS[Role.MEMBER] == frozenset()
    assert set(ROLE_PERMISSIONS) == set(Role.values)


@pytest.mark.parametrize(
    ("role", "method", "allowed"),
    [
        (Role.ORGANISER, "GET", True),
        (Role.ORGANISER, "POST", False),
        (Role.SECRETARY, "GET", True),
        (Role.SECRETARY, "PATCH", True),
        (Role.CASEWORKER, "GET", False),
        (Role.MEMBER, "GET", False),
        (Role.OFFICER, "DELETE", True),
    ],
)
def test_scoped_permission_needs_the_area_somewhere(branch_tree, role_at, role, method, allowed):
    user = role_at(branch_tree["station_a"], role)
    request = SimpleNamespace(method=method, user=user)
    view = SimpleNamespace(scope_area="members")
    assert ScopedPermission().has_permission(request, view) is allowed


def test_scoped_permission_without_an_area_allows(branch_tree):
    request = SimpleNamespace(method="POST", user=UserFactory())
    assert ScopedPermission().has_permission(request, SimpleNamespace()) is True
