"""Authentication classes of the API.

DRF answers 403 to anonymous requests when the first authentication class offers no
`WWW-Authenticate` challenge, as its SessionAuthentication does. API.md promises 401 for "not
authenticated", so the session class here names a challenge. Token authentication (a later issue)
goes first in the list and then supplies its own challenge.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    """The browser's session (with CSRF on unsafe methods), answering 401 when nobody is logged in."""

    www_authenticate_realm = "api"

    def authenticate_header(self, request):
        return f'Session realm="{self.www_authenticate_realm}"'


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the session cookie in the OpenAPI schema (drf-spectacular matches classes exactly)."""

    target_class = "core.api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        from django.conf import settings

        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}
