"""Spam signals of the public intake form, counted in Django's cache.

Decision (issue 6, "no real request is lost"): a signal never drops a request. A filled honeypot, a form
sent faster than SERVICES_INTAKE_MIN_SECONDS after it was shown, a missing or forged timestamp, or more
than SERVICES_INTAKE_PER_IP / SERVICES_INTAKE_PER_PHONE submissions in the window store the request all
the same, flagged `suspected_spam` with the reasons, for a caseworker to confirm or delete; the person
gets a tracking code like anyone else. Only a flood from one address (over SERVICES_INTAKE_HARD_LIMIT in
the window) is refused, with the hotline number on the page, so the database cannot be filled by a script.
Cache keys hold a keyed hash of the phone number, never the number.
"""

import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache

from members import crypto

_SALT = "services.intake.started"


def started_token() -> str:
    """Signed time the form was shown, put in a hidden field."""
    return signing.dumps(time.time(), salt=_SALT)


def _hit(key: str, window: int) -> int:
    cache.add(key, 0, window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def intake_ip_count(ip: str) -> int:
    """Count this submission from `ip` and return the count in the window."""
    return _hit(f"services:intake:ip:{ip}", settings.SERVICES_INTAKE_RATE_WINDOW)


def spam_signals(*, ip_count: int, phone: str, honeypot: str, started: str) -> list[str]:
    reasons = []
    if honeypot:
        reasons.append("honeypot")
    try:
        shown = float(signing.loads(started or "", salt=_SALT, max_age=24 * 3600))
        if time.time() - shown < settings.SERVICES_INTAKE_MIN_SECONDS:
            reasons.append("too_fast")
    except (signing.BadSignature, TypeError, ValueError):
        reasons.append("no_timestamp")
    if ip_count > settings.SERVICES_INTAKE_PER_IP:
        reasons.append("address_rate")
    phone_count = _hit(f"services:intake:phone:{crypto.lookup_hash(phone)}", settings.SERVICES_INTAKE_RATE_WINDOW)
    if phone_count > settings.SERVICES_INTAKE_PER_PHONE:
        reasons.append("phone_rate")
    return reasons


def track_allowed(ip: str) -> bool:
    """Whether this address may look up another tracking code in the window (right and wrong alike)."""
    return _hit(f"services:track:ip:{ip}", settings.SERVICES_TRACK_WINDOW) <= settings.SERVICES_TRACK_PER_IP
