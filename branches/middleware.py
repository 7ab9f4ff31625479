"""Multi-factor authentication is required for the roles in settings.MFA_REQUIRED_ROLES.

A user holding such a role without a TOTP authenticator is sent to set one up before anything else.
"""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from branches.permissions import user_roles

_ALWAYS_ALLOWED = ("/accounts/", "/i18n/", "/static/", "/healthz", "/media/")


def mfa_missing(user) -> bool:
    """True when the user's roles require TOTP and none is set up."""
    if not getattr(user, "is_authenticated", False):
        return False
    required = set(settings.MFA_REQUIRED_ROLES)
    if not (user_roles(user) & required):
        return False
    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class MfaRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(_ALWAYS_ALLOWED) or getattr(request, "auth_via_token", False):
            return self.get_response(request)
        if mfa_missing(request.user):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "mfa_required", "detail": _("Set up two-factor authentication before using the API.")},
                    status=403,
                )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
