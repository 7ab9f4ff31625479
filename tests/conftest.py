"""Shared fixtures: users, API client, a small organisation tree, and roles at branches."""

import pytest
from allauth.mfa.models import Authenticator
from rest_framework.test import APIClient

from branches import actions as branch_actions
from branches.choices import BranchKind, Role
from branches.permissions import clear_scope_cache
from tests.branches.factories import UserFactory


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def api_client():
    return APIClient()


def give_totp(user) -> None:
    """Mark a user as having TOTP set up, as admins and officers must."""
    Authenticator.objects.get_or_create(user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": "x"}})


@pytest.fixture
def role_at(db):
    """role_at(branch, role, user=None) -> user holding `role` at `branch` (TOTP set up where required)."""

    def make(branch, role, user=None):
        user = user or UserFactory()
        branch_actions.role_grant(actor=None, user=user, role=role, branch=branch)
        if role in (Role.ADMIN, Role.OFFICER):
            give_totp(user)
        clear_scope_cache(user)
        return user

    return make


@pytest.fixture
def branch_tree(db):
    """district ─┬─ delivery (committee) ─┬─ station_a (branch)
    │                        └─ station_b (branch)
    └─ building (joint branch)
    """
    make = branch_actions.branch_create
    district = make(actor=None, parent=None, name="District committee", kind=BranchKind.COMMITTEE, basis="area")
    delivery = make(
        actor=None, parent=district, name="Delivery committee", kind=BranchKind.COMMITTEE, basis="platform"
    )
    station_a = make(actor=None, parent=delivery, name="Station A branch", kind=BranchKind.BRANCH, basis="platform")
    station_b = make(actor=None, parent=delivery, name="Station B branch", kind=BranchKind.BRANCH, basis="platform")
    building = make(
        actor=None,
        parent=district,
        name="Building joint branch",
        kind=BranchKind.BRANCH,
        basis="building",
        is_joint=True,
    )
    return {
        "district": district,
        "delivery": delivery,
        "station_a": station_a,
        "station_b": station_b,
        "building": building,
    }
