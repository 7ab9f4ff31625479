"""Encryption, keyed hashes and masks for sensitive member data (DOMAIN.md §7).

- Values are encrypted with a MultiFernet built from settings.MEMBERS_FIELD_KEYS (newest key first):
  new values use the first key, old ones still decrypt with any listed key, and
  `manage.py rotate_member_keys` re-encrypts everything with the newest one.
- Exact lookup and uniqueness use an HMAC-SHA256 under a separate key (settings.MEMBERS_HASH_KEY),
  so the database never holds a plain value nor an unkeyed hash that could be brute-forced from
  the small space of valid ID numbers.
- Masks are computed once on write and stored, so lists never decrypt.
"""

import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@functools.cache
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("MEMBERS_FIELD_KEYS is empty: set at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("MEMBERS_FIELD_KEYS holds a key that is not a valid Fernet key.") from exc


def _fernet() -> MultiFernet:
    return _multifernet(tuple(k for k in settings.MEMBERS_FIELD_KEYS if k.strip()))


def _hash_key() -> bytes:
    key = settings.MEMBERS_HASH_KEY
    if not key:
        raise ImproperlyConfigured("MEMBERS_HASH_KEY is empty.")
    return key.encode()


def encrypt(value: str) -> str:
    """Ciphertext of `value` under the newest key ("" stays "")."""
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # No key in MEMBERS_FIELD_KEYS opens it: a key was dropped before rotation finished.
        raise ImproperlyConfigured("A member field cannot be decrypted with any key in MEMBERS_FIELD_KEYS.") from exc


def encrypt_bytes(data: bytes) -> bytes:
    """Ciphertext of a whole file (uploaded member imports are kept encrypted until imported)."""
    return _fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _fernet().decrypt(token)
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored file cannot be decrypted with any key in MEMBERS_FIELD_KEYS.") from exc


def reencrypt(token: str) -> str:
    """The same value under the newest key (for key rotation)."""
    if not token:
        return ""
    return _fernet().rotate(token.encode()).decode()


def lookup_hash(value: str) -> str:
    """Keyed hash of a normalised value, for exact search and uniqueness ("" for no value)."""
    if not value:
        return ""
    return hmac.new(_hash_key(), value.encode(), hashlib.sha256).hexdigest()


def check_keys() -> list[str]:
    """Problems with the configured keys, as messages (for the system check)."""
    problems = []
    try:
        _fernet()
    except ImproperlyConfigured as exc:
        problems.append(str(exc))
    if not settings.MEMBERS_HASH_KEY:
        problems.append("MEMBERS_HASH_KEY is empty.")
    elif len(settings.MEMBERS_HASH_KEY) < 32:
        problems.append("MEMBERS_HASH_KEY should be at least 32 characters long.")
    return problems


#
# Masks
#
def mask_citizen_id(value: str) -> str:
    """`110101********1234`: the region code and the last four characters."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """`138****5678`: the first three and last four digits."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * (len(value) - 4) + value[-4:] if len(value) > 4 else "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
