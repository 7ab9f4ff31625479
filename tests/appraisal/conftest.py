"""Fixtures shared by the appraisal tests: a branch, its secretary and three members with accounts."""

import pytest

from branches.choices import Role
from tests.appraisal.helpers import member_with_user


@pytest.fixture
def branch(branch_tree):
    return branch_tree["station_a"]


@pytest.fixture
def secretary(branch, role_at):
    return role_at(branch, Role.SECRETARY)


@pytest.fixture
def three(branch):
    return [member_with_user(branch) for _ in range(3)]
