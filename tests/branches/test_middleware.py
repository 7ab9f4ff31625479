from http import HTTPStatus

import pytest
from django.urls import reverse

from branches import actions
from branches.choices import Role
from branches.middleware import mfa_missing
from tests.branches.factories import UserFactory
from tests.conftest import give_totp

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_without_totp(branch_tree):
    user = UserFactory()
    actions.role_grant(actor=None, user=user, role=Role.OFFICER, branch=branch_tree["delivery"])
    return user


def test_mfa_officer_without_totp_is_sent_to_set_it_up(client, officer_without_totp):
    client.force_login(officer_without_totp)
    response = client.get(reverse("home"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("mfa_activate_totp")


def test_mfa_officer_without_totp_gets_403_json_from_the_api(client, officer_without_totp):
    client.force_login(officer_without_totp)
    response = client.get(reverse("api:branch-list"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "mfa_required"
    assert response.json()["detail"]


def test_mfa_officer_with_totp_passes(client, officer_without_totp):
    give_totp(officer_without_totp)
    client.force_login(officer_without_totp)
    assert client.get(reverse("home")).status_code == HTTPStatus.OK
    assert client.get(reverse("api:branch-list")).status_code == HTTPStatus.OK


def test_mfa_superuser_without_totp_is_sent_to_set_it_up(client, branch_tree):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(reverse("home"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.ORGANISER, Role.CASEWORKER, Role.MEMBER])
def test_mfa_not_required_for_other_roles(client, branch_tree, role):
    user = UserFactory()
    actions.role_grant(actor=None, user=user, role=role, branch=branch_tree["station_a"])
    client.force_login(user)
    assert client.get(reverse("home")).status_code == HTTPStatus.OK
    assert not mfa_missing(user)


def test_mfa_account_pages_stay_reachable(client, officer_without_totp):
    """The set-up page itself and logout must not redirect to the set-up page (no loop)."""
    client.force_login(officer_without_totp)
    response = client.get(reverse("mfa_activate_totp"))
    # allauth asks for the password again before showing the secret; that page is reachable too.
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert client.get(response["Location"]).status_code == HTTPStatus.OK
    assert client.post(reverse("account_logout")).status_code == HTTPStatus.FOUND
    assert "_auth_user_id" not in client.session


def test_mfa_health_check_needs_nothing(client, officer_without_totp, monkeypatch):
    monkeypatch.setattr("core.views._broker_ok", lambda: True)
    client.force_login(officer_without_totp)
    assert client.get(reverse("healthz")).status_code == HTTPStatus.OK


def test_mfa_anonymous_user_goes_to_login_not_mfa(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_login"))


def test_mfa_missing_after_role_is_granted(branch_tree):
    user = UserFactory()
    assert not mfa_missing(user)
    actions.role_grant(actor=None, user=user, role=Role.ADMIN, branch=branch_tree["district"])
    assert mfa_missing(user)
    give_totp(user)
    assert not mfa_missing(user)
