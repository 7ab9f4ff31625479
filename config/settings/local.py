"""Development settings: DEBUG on, console e-mail, the embedded defaults of base.py."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "0.0.0.0"])

# Development-only keys for member data (never used in production, which requires its own).
MEMBERS_FIELD_KEYS = env.list("MEMBERS_FIELD_KEYS", default=["ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZHVjdGk="])
MEMBERS_HASH_KEY = env("MEMBERS_HASH_KEY", default="development-hash-key-not-for-production-use")
