"""Fixtures of the activities tests: an organiser at the delivery committee and members with accounts."""

import pytest

from branches.choices import Role
from tests.branches.factories import UserFactory
from tests.members.factories import MemberFactory


@pytest.fixture
def organiser(branch_tree, role_at):
    return role_at(branch_tree["delivery"], Role.ORGANISER)


@pytest.fixture
def member_with_user(db):
    """member_with_user(branch, **fields) -> a member whose login account is linked (Member.user)."""

    def make(branch, **fields):
        user = UserFactory()
        return MemberFactory(branch=branch, user=user, **fields)

    return make
