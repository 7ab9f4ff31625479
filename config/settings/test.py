"""Test settings: fast hasher, in-memory e-mail, eager Celery that raises."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "core.sms.LocmemSmsBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
# No collectstatic before tests: WhiteNoise would warn (an error under filterwarnings=error) about the
# missing STATIC_ROOT whenever a handler is built (test client, live server). Autorefresh looks lazily.
WHITENOISE_AUTOREFRESH = True

# Test-only keys for member data (never used in production, which requires its own).
MEMBERS_FIELD_KEYS = ["dGVzdC1rZXktb25seS1mb3ItdGhlLXRlc3Qtc3VpdGU="]
MEMBERS_HASH_KEY = "test-hash-key-only-for-the-test-suite"

# Per-process cache in tests even when REDIS_URL is set (CI), so rate-limit counters never leak between runs.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
