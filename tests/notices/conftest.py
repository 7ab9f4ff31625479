"""Fixtures of the notice tests: a secretary of the delivery committee, members with accounts in its branches."""

import pytest

from branches.choices import Role
from tests.branches.factories import UserFactory
from tests.members.factories import MemberFactory


@pytest.fixture
def secretary(branch_tree, role_at):
    """Secretary of the delivery committee: manages notices of it and of stations A and B."""
    return role_at(branch_tree["delivery"], Role.SECRETARY)


@pytest.fixture
def member_a(branch_tree):
    """A member of station A with a login account."""
    return MemberFactory(branch=branch_tree["station_a"], user=UserFactory())


@pytest.fixture
def member_b(branch_tree):
    """A member of station B (sibling of A) with a login account."""
    return MemberFactory(branch=branch_tree["station_b"], user=UserFactory())


@pytest.fixture
def member_building(branch_tree):
    """A member of the building branch (outside the delivery committee) with a login account."""
    return MemberFactory(branch=branch_tree["building"], user=UserFactory())
