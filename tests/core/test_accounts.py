"""Accounts through django-allauth: sign-in, password reset, two-factor authentication, all in our layout."""

import base64
import hashlib
import hmac
import re
import struct
import time
from http import HTTPStatus

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from branches import actions
from branches.choices import Role
from tests.branches.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"  # set by UserFactory


def totp_code(secret: str) -> str:
    """The current RFC 6238 code of a base32 secret, as an authenticator app shows it."""
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def sign_in(client, login: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": login, "password": password})


def signed_in_user_id(client):
    return client.session.get(SESSION_KEY)


#
# Sign-in and sign-out
#
def test_login_page_uses_site_layout_without_signup(client):
    response = client.get(reverse("account_login"))

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert 'id="site-title"' in content
    assert 'id="language-switch"' in content
    assert 'id="login-form"' in content
    assert 'name="login"' in content
    assert reverse("account_reset_password") in content
    assert "/accounts/signup/" not in content


def test_login_by_username(client, user):
    response = sign_in(client, user.username)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("home")
    assert signed_in_user_id(client) == str(user.pk)


def test_login_by_email(client, user):
    response = sign_in(client, user.email)

    assert response.status_code == HTTPStatus.FOUND
    assert signed_in_user_id(client) == str(user.pk)


def test_login_with_wrong_password_shows_error_in_place(client, user):
    response = sign_in(client, user.username, "wrong password")

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].non_field_errors()
    assert 'id="form-errors"' in response.content.decode()
    assert signed_in_user_id(client) is None


def test_signup_is_closed(client):
    response = client.post(
        reverse("account_signup"),
        {"username": "newcomer", "email": "new@example.com", "password1": "x-Y-z-123456", "password2": "x-Y-z-123456"},
    )

    assert response.status_code == HTTPStatus.OK
    assert not UserFactory._meta.model.objects.filter(username="newcomer").exists()


def test_logout_by_post(client, user):
    client.force_login(user)

    response = client.post(reverse("account_logout"))

    assert response.status_code == HTTPStatus.FOUND
    assert signed_in_user_id(client) is None


def test_pages_redirect_anonymous_to_login(client):
    response = client.get(reverse("home"))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("account_login") + "?next=/"


#
# Password reset
#
def test_password_reset_sends_email_and_sets_new_password(client, user):
    response = client.post(reverse("account_reset_password"), {"email": user.email})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("account_reset_password_done")
    assert client.get(response["Location"]).status_code == HTTPStatus.OK
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]

    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == HTTPStatus.OK
    assert 'name="password1"' in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    done = client.post(set_url, {"password1": "a-new-Secret-42", "password2": "a-new-Secret-42"})
    assert done.status_code == HTTPStatus.FOUND
    assert done["Location"] == reverse("account_reset_password_from_key_done")
    assert client.get(done["Location"]).status_code == HTTPStatus.OK

    user.refresh_from_db()
    assert user.check_password("a-new-Secret-42")


def test_password_reset_pages_reachable_when_logged_out(client):
    for name in ("account_reset_password", "account_reset_password_done", "account_login"):
        response = client.get(reverse(name))
        assert response.status_code == HTTPStatus.OK, name
        assert 'id="site-title"' in response.content.decode()


#
# Two-factor authentication
#
def test_officer_without_totp_is_sent_to_set_it_up(client, branch_tree):
    officer = UserFactory()
    actions.role_grant(actor=None, user=officer, role=Role.OFFICER, branch=branch_tree["delivery"])
    sign_in(client, officer.username)

    response = client.get(reverse("branches:branch_tree"))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("mfa_activate_totp")
    page = open_totp_activation(client)
    content = page.content.decode()
    assert 'class="qr-code"' in content
    assert "data:image/svg+xml;base64," in content
    assert 'id="site-title"' in content


def open_totp_activation(client):
    """GET the TOTP set-up page; allauth first asks for the password again (reauthentication)."""
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    confirm = client.get(response["Location"])
    assert confirm.status_code == HTTPStatus.OK
    assert 'id="site-title"' in confirm.content.decode()
    response = client.post(response["Location"], {"password": PASSWORD}, follow=True)
    assert response.status_code == HTTPStatus.OK
    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    return response


def test_officer_activates_totp_then_uses_the_site(client, branch_tree):
    officer = UserFactory()
    actions.role_grant(actor=None, user=officer, role=Role.OFFICER, branch=branch_tree["delivery"])
    sign_in(client, officer.username)
    secret = open_totp_activation(client).context["form"].secret

    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})

    assert response.status_code == HTTPStatus.FOUND
    assert Authenticator.objects.filter(user=officer, type=Authenticator.Type.TOTP).exists()
    assert client.get(reverse("branches:branch_tree")).status_code == HTTPStatus.OK


def test_officer_who_reset_password_can_still_set_up_totp(client, branch_tree):
    """A reset request stores the e-mail address unverified; that must not block the required TOTP set-up."""
    officer = UserFactory()
    actions.role_grant(actor=None, user=officer, role=Role.OFFICER, branch=branch_tree["delivery"])
    client.post(reverse("account_reset_password"), {"email": officer.email})
    assert EmailAddress.objects.filter(user=officer, verified=False).exists()
    sign_in(client, officer.username)

    page = open_totp_activation(client)

    assert 'class="qr-code"' in page.content.decode()


def test_officer_with_authenticator_is_not_redirected(client, branch_tree):
    officer = UserFactory()
    actions.role_grant(actor=None, user=officer, role=Role.OFFICER, branch=branch_tree["delivery"])
    client.force_login(officer)
    assert client.get(reverse("home"))["Location"] == reverse("mfa_activate_totp")

    Authenticator.objects.create(user=officer, type=Authenticator.Type.TOTP, data={"secret": "x"})

    assert client.get(reverse("home")).status_code == HTTPStatus.OK


def test_secretary_needs_no_totp(client, branch_tree, role_at):
    client.force_login(role_at(branch_tree["station_a"], Role.SECRETARY))

    assert client.get(reverse("home")).status_code == HTTPStatus.OK


def test_user_with_totp_signs_in_with_a_code(client, user):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    TOTP.activate(user, secret)

    response = sign_in(client, user.username)

    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_user_id(client) is None
    page = client.get(reverse("mfa_authenticate"))
    assert page.status_code == HTTPStatus.OK
    assert 'id="site-title"' in page.content.decode()
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert done.status_code == HTTPStatus.FOUND
    assert signed_in_user_id(client) == str(user.pk)


def test_mfa_pages_use_site_layout(client, branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    client.force_login(officer)

    response = client.get(reverse("mfa_index"))

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert 'id="account-nav"' in content
    assert 'id="site-nav"' in content
