"""Authentication classes of the API.

DRF answers 403 to anonymous requests when the first authentication class offers no
`WWW-Authenticate` challenge, as its SessionAuthentication does. API.md promises 401 for "not
authenticated", so the session class here names a challenge. Token authentication goes first in the
list and supplies its own challenge.
"""

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, throttling

LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


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


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` for API clients (API.md); the request runs as the client's service account.

    `request.auth` is the ApiClient. A revoked or unknown key is 401. `last_used_at` is written at most
    once a minute per client, by a conditional UPDATE, so a busy client costs no write per request.
    """

    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            key = parts[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from exc
        from core.models import ApiClient, token_hash

        client = ApiClient.objects.select_related("user").filter(key_hash=token_hash(key)).first()
        if client is None or client.revoked_at is not None or not client.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at >= LAST_USED_RESOLUTION:
            stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
            ApiClient.objects.filter(stale, pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
        return client.user, client

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(_("`Token <key>`: the key shown once when the token was issued.")),
        }


def api_client_of(request):
    """The ApiClient a request authenticated with, or None (browser session)."""
    from core.models import ApiClient

    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiClient) else None


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """Per-token rate limit (settings.API_TOKEN_THROTTLE_RATE); sessions are not limited here. 429 + Retry-After."""

    scope = "token"

    def get_rate(self):
        return settings.API_TOKEN_THROTTLE_RATE

    def get_cache_key(self, request, view):
        client = api_client_of(request)
        if client is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": client.key_hash}
