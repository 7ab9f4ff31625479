"""Settings shared by every environment. Values come from the environment through django-environ.

Without DATABASE_URL the project uses SQLite, and without REDIS_URL Celery uses a filesystem
broker, so a fresh machine needs nothing but Python.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-development-key-change-me")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

# ---------------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "core",
    "branches",
    "members",
    "activities",
    "services",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "branches.middleware.MfaRequiredMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------------
# Database: PostgreSQL when DATABASE_URL is set, SQLite otherwise
# ---------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# ---------------------------------------------------------------------------------------------
# Accounts (django-allauth) and multi-factor authentication
# ---------------------------------------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ALLOW_REGISTRATION = False
ACCOUNT_ADAPTER = "core.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default="Branchwork")
# Accounts are made by administrators (no sign-up), so allauth's guard against a stranger enabling 2FA on an
# unverified address does not apply; without this, a password reset (which stores the address unverified)
# would stop an officer from setting up the TOTP that MfaRequiredMiddleware demands.
MFA_ALLOW_UNVERIFIED_EMAIL = True
# Roles whose holders must have TOTP set up before they may use the site.
MFA_REQUIRED_ROLES = env.list("MFA_REQUIRED_ROLES", default=["admin", "officer"])

# ---------------------------------------------------------------------------------------------
# Internationalisation: zh-hans by default, English complete
# ---------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=VAR_DIR / "media")

EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="Branchwork <noreply@branchwork.local>")
# The site's address, for links in e-mails (notifications send site paths; this makes them absolute).
SITE_URL = env("DJANGO_SITE_URL", default="http://127.0.0.1:8000")

SITE_TITLE = _("Emerging-Sector Party Building Platform")

# ---------------------------------------------------------------------------------------------
# REST framework and OpenAPI
# ---------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.TokenAuthentication",
        "core.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["core.api.authentication.TokenRateThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.CursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Branchwork API",
    "DESCRIPTION": "REST contract of the emerging-sector party building platform (/api/v1/).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The sync headers and statuses every write shares (If-Match 428, Idempotency-Key 422, 429 per token).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.postprocess_sync_headers",
    ],
    # Tags and operation ids by resource ("branches_list"), not by the version prefix ("v1_branches_list").
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Choice enums named by their class, so another app's `kind` or `size` cannot collide with these.
    "ENUM_NAME_OVERRIDES": {
        "BranchKindEnum": "branches.choices.BranchKind",
        "BranchBasisEnum": "branches.choices.BranchBasis",
        "UnitTypeEnum": "branches.choices.UnitType",
        "UnitSizeEnum": "branches.choices.UnitSize",
        "EconomicTypeEnum": "branches.choices.EconomicType",
        "AffiliationKindEnum": "members.choices.AffiliationKind",
        "MemberStatusEnum": "members.choices.MemberStatus",
        "DuesPaymentMethodEnum": "members.models.dues.PaymentMethod",
        "ActivityKindEnum": "activities.choices.ActivityKind",
        "ActivityStatusEnum": "activities.choices.ActivityStatus",
        "ActivityModeEnum": "activities.choices.ActivityMode",
        "AttendanceMethodEnum": "activities.choices.AttendanceMethod",
        "CaseStatusEnum": "services.choices.CaseStatus",
        "CasePriorityEnum": "services.choices.CasePriority",
        "IntakeChannelEnum": "services.choices.IntakeChannel",
        "ReferralStatusEnum": "services.choices.ReferralStatus",
        "WaitingStatusEnum": [("waiting_worker", "waiting_worker"), ("waiting_partner", "waiting_partner")],
        "NoticeCategoryEnum": "members.models.notices.NoticeCategory",
        "MemberCategoryEnum": "members.choices.MemberCategory",  # "category" of members and notices
        "NoticeAudienceEnum": "members.models.notices.NoticeAudience",
        "NoticeStatusEnum": "members.models.notices.NoticeStatus",
        "VoteKindEnum": "members.models.votes.VoteKind",
        "VoteStatusEnum": "members.models.votes.VoteStatus",
        "VoteOutcomeEnum": "members.models.votes.VoteOutcome",
        "ThresholdRuleEnum": "members.voting_rules.ThresholdRule",
        "AppraisalStatusEnum": "members.models.appraisal.AppraisalStatus",
        "AppraisalGradeEnum": "members.models.appraisal.AppraisalGrade",
    },
}

# ---------------------------------------------------------------------------------------------
# Celery: Redis when REDIS_URL is set, a filesystem broker otherwise (no server needed)
# ---------------------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
# The cache carries rate limits (public intake, tracking): shared through Redis when there is one,
# per process otherwise (fine for the single-process `make run`).
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "branches-term-reminders": {
        "task": "branches.tasks.term_reminders_send",
        "schedule": crontab(minute=15, hour=8),
    },
    "members-import-files-purge": {
        "task": "members.tasks.import_files_purge",
        "schedule": crontab(minute=40, hour=3),
    },
    "activities-series-extend": {
        "task": "activities.tasks.series_extend",
        "schedule": crontab(minute=20, hour=2),
    },
    "services-breaches-sweep": {
        "task": "services.tasks.breaches_sweep",
        "schedule": crontab(minute="*/10"),
    },
    "services-follow-ups-remind": {
        "task": "services.tasks.follow_ups_remind",
        "schedule": crontab(minute=30, hour=8),
    },
    "activities-reminders-sweep": {
        "task": "activities.tasks.reminders_sweep",
        "schedule": crontab(),  # every minute
    },
    "activities-compliance-reminders": {
        "task": "activities.tasks.compliance_reminders",
        "schedule": crontab(minute=30, hour=8),
    },
}

# Sync API (API.md): requests per token, how long change-feed cursors stay valid (≥ 30 days; change records
# are deleted a day after that), and how long an Idempotency-Key is remembered.
API_TOKEN_THROTTLE_RATE = env("API_TOKEN_THROTTLE_RATE", default="1200/min")
SYNC_FEED_RETENTION_DAYS = max(30, env.int("SYNC_FEED_RETENTION_DAYS", default=35))
SYNC_IDEMPOTENCY_HOURS = 24
CELERY_BEAT_SCHEDULE["core-sync-records-purge"] = {
    "task": "core.tasks.sync_records_purge",
    "schedule": crontab(minute=50, hour=3),
}
CELERY_BEAT_SCHEDULE["members-development-reminders"] = {
    "task": "members.tasks.development_reminders_sweep",
    "schedule": crontab(minute=0, hour=8),
}
CELERY_BEAT_SCHEDULE["members-dues-reminders"] = {
    "task": "members.tasks.dues_reminders_sweep",
    "schedule": crontab(minute=5, hour=8),
}
# Notices (党务公开): announce notices whose window opened since the last sweep; attachment limits.
CELERY_BEAT_SCHEDULE["members-notices-announce"] = {
    "task": "members.tasks.notices_announce_sweep",
    "schedule": crontab(minute="*/5"),
}
NOTICES_ATTACHMENT_MAX_BYTES = env.int("NOTICES_ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
NOTICES_ATTACHMENT_TYPES = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/webp",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
]
# Branch votes (DOMAIN.md §2, §6): close votes whose time is up; [practice] default thresholds per kind
# (members.voting_rules.ThresholdRule codes), copied onto each vote when it is created and editable per vote.
CELERY_BEAT_SCHEDULE["members-votes-close-sweep"] = {
    "task": "members.tasks.votes_close_sweep",
    "schedule": crontab(minute="*/5"),
}
VOTES_DEFAULT_RULES = {
    "decision": {"quorum": "more_than_half", "majority": "more_than_half"},
    "election": {"quorum": "more_than_four_fifths", "majority": "more_than_half"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}

# [practice] thresholds of DOMAIN.md §2, warned about on branch pages and in the API.
BRANCH_RULES = {
    "min_full_members": env.int("BRANCH_MIN_FULL_MEMBERS", default=3),
    "joint_max_units": env.int("BRANCH_JOINT_MAX_UNITS", default=5),
    "max_members": env.int("BRANCH_MAX_MEMBERS", default=50),
    "general_branch_members": env.int("BRANCH_GENERAL_BRANCH_MEMBERS", default=100),
    "committee_from_full_members": env.int("BRANCH_COMMITTEE_FROM", default=7),
    "committee_min": 3,
    "committee_usual_max": 5,
    "committee_max": 7,
    "secretary_min_standing_years": 1,
    # months before term expiry when reminders go out; monthly after the last one
    "term_reminder_months": [6, 3],
}

# Sensitive member data (DOMAIN.md §7): Fernet keys, comma-separated, newest first (a new key goes in
# front; `manage.py rotate_member_keys` re-encrypts, then old keys can go), and a separate key for the
# keyed hash used for exact ID lookup. Development and test settings supply defaults; production has none.
MEMBERS_FIELD_KEYS = env.list("MEMBERS_FIELD_KEYS", default=[])
MEMBERS_HASH_KEY = env("MEMBERS_HASH_KEY", default="")

# Member import (members/importing.py): uploads above MEMBERS_IMPORT_MAX_BYTES are refused; a file with
# more rows than MEMBERS_IMPORT_SYNC_MAX_ROWS is checked and written by a Celery task with a progress bar.
MEMBERS_IMPORT_MAX_BYTES = env.int("MEMBERS_IMPORT_MAX_BYTES", default=30 * 1024 * 1024)
MEMBERS_IMPORT_SYNC_MAX_ROWS = env.int("MEMBERS_IMPORT_SYNC_MAX_ROWS", default=2000)

# Transfers, mobile and lost-contact members (DOMAIN.md §3). [practice] letter validity 30–90 days; alerts
# this many days before a letter expires and this many days after an acceptance without a receipt.
MEMBERS_TRANSFERS = {
    "validity_min_days": 30,
    "validity_max_days": 90,
    "validity_default_days": 60,
    "expiry_warning_days": 7,
    "receipt_days": 30,
}
# Report-in reminders from this month on; lost contact warned at 3 months, flagged at 6; removal 2 years later.
MEMBERS_MOBILITY = {
    "report_in_month": env.int("MEMBERS_REPORT_IN_MONTH", default=10),
    "warn_months": 3,
    "flag_months": 6,
    "removal_years": 2,
    "removal_notice_days": 30,
}
# Member appraisal (民主评议, DOMAIN.md §4). [practice] default cap on "excellent" as a % of those appraised
# (each round keeps its own value; grading over it warns, never blocks).
MEMBERS_APPRAISAL = {"excellent_cap_percent": 30}
CELERY_BEAT_SCHEDULE["members-transfer-alerts"] = {
    "task": "members.tasks.transfer_alerts_send",
    "schedule": crontab(minute=5, hour=8),
}
CELERY_BEAT_SCHEDULE["members-report-in-reminders"] = {
    "task": "members.tasks.report_in_reminders_send",
    "schedule": crontab(minute=10, hour=8),
}
CELERY_BEAT_SCHEDULE["members-lost-contact-sweep"] = {
    "task": "members.tasks.lost_contact_sweep",
    "schedule": crontab(minute=20, hour=8),
}
# Dashboard (config/dashboard/): member-sized figures are recounted into members.BranchStat every 15 minutes.
# config.dashboard is not an app, so its tasks module is imported explicitly.
CELERY_IMPORTS = ["config.dashboard.tasks"]
CELERY_BEAT_SCHEDULE["dashboard-stats-refresh"] = {
    "task": "config.dashboard.tasks.dashboard_stats_refresh",
    "schedule": crontab(minute="*/15"),
}

# Activities (DOMAIN.md §4). [practice] riders' peak hours, local time: offline and hybrid activities in
# these windows get a scheduling warning.
ACTIVITIES_PEAK_WINDOWS = [("11:00", "13:00"), ("17:00", "20:00")]
# Occurrences of a series exist as rows this many days ahead; the beat task series_extend keeps it so.
ACTIVITIES_SERIES_HORIZON_DAYS = env.int("ACTIVITIES_SERIES_HORIZON_DAYS", default=90)
# A series must end (COUNT or UNTIL) within this many years of its first date.
ACTIVITIES_SERIES_MAX_YEARS = 2
# The rotating QR code: a signed token valid this many seconds (≤ 60), refreshed by the page every 20 s.
ACTIVITIES_QR_TOKEN_MAX_AGE = 60
ACTIVITIES_QR_REFRESH_SECONDS = 20
# A token seen valid before a login redirect is still accepted this many seconds later (time to log in).
ACTIVITIES_QR_LOGIN_GRACE = 300
# Check-in opens this many minutes before the start and closes at the end.
ACTIVITIES_CHECK_IN_OPENS_MINUTES = 30
# Attachments added after an activity (minutes, photos, slides).
ACTIVITIES_ATTACHMENT_MAX_BYTES = env.int("ACTIVITIES_ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
ACTIVITIES_ATTACHMENT_TYPES = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/webp",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "text/plain",
]
# Reminders (activities/reminders.py): channels used, quiet hours (local time; a message due inside them
# waits for their end unless the activity starts first), how long a claimed send-log row stays a worker's
# before another sweep may take it over, and how many rows a worker claims at a time.
ACTIVITIES_REMINDER_CHANNELS = env.list("ACTIVITIES_REMINDER_CHANNELS", default=["inapp", "email", "sms"])
ACTIVITIES_QUIET_HOURS = ("22:00", "07:30")
ACTIVITIES_REMINDER_LEASE_SECONDS = 600
ACTIVITIES_REMINDER_CHUNK = 500
# Compliance (三会一课): the secretary is reminded this many days before the end of a period in which a
# required meeting is still missing.
ACTIVITIES_COMPLIANCE_REMIND_DAYS = env.int("ACTIVITIES_COMPLIANCE_REMIND_DAYS", default=10)
# Study hours a year (DOMAIN.md §4): members, and secretaries and committee members.
ACTIVITIES_STUDY_HOURS_TARGET = 32
ACTIVITIES_STUDY_HOURS_TARGET_COMMITTEE = 56
# Text messages (core/sms.py): a dotted path to a backend class.
SMS_BACKEND = env("SMS_BACKEND", default="core.sms.ConsoleSmsBackend")

# Worker services (DOMAIN.md §5). Deadlines count working time: these hours (local time) on working days of
# mainland China (chinese_calendar, plus the HolidayOverride admin table for years it does not know).
SERVICES_WORK_HOURS = (env("SERVICES_WORK_STARTS", default="09:00"), env("SERVICES_WORK_ENDS", default="18:00"))
# Working hours for first response and resolution per priority, when no SlaPolicy row covers the case type.
SERVICES_SLA_DEFAULTS = {
    "urgent": (2, 16),
    "high": (4, 24),
    "normal": (8, 40),
    "low": (16, 80),
}
# "Due soon" on the caseworker inbox: resolution due within this many hours (wall-clock).
SERVICES_DUE_SOON_HOURS = env.int("SERVICES_DUE_SOON_HOURS", default=24)
# A resolved or closed case may be reopened within this many days of its resolution.
SERVICES_REOPEN_DAYS = env.int("SERVICES_REOPEN_DAYS", default=30)
# A follow-up visit falls due this many days after resolution.
SERVICES_FOLLOW_UP_DAYS = env.int("SERVICES_FOLLOW_UP_DAYS", default=7)
# Public intake (/help/): requests without a station go to this branch (an id; the first top branch if empty).
SERVICES_INTAKE_BRANCH_ID = env("SERVICES_INTAKE_BRANCH_ID", default="")
# Spam signals: more than N submissions per window from one address or one phone, a form filled in faster
# than the minimum, or a filled honeypot flag the request for review; it is still stored (no request is lost).
SERVICES_INTAKE_RATE_WINDOW = env.int("SERVICES_INTAKE_RATE_WINDOW", default=3600)
SERVICES_INTAKE_PER_IP = env.int("SERVICES_INTAKE_PER_IP", default=5)
SERVICES_INTAKE_PER_PHONE = env.int("SERVICES_INTAKE_PER_PHONE", default=3)
SERVICES_INTAKE_MIN_SECONDS = env.int("SERVICES_INTAKE_MIN_SECONDS", default=5)
# Beyond this many submissions per window from one address the form refuses (a flood, not a person);
# the page then gives the hotline number so that a real person still reaches help.
SERVICES_INTAKE_HARD_LIMIT = env.int("SERVICES_INTAKE_HARD_LIMIT", default=50)
SERVICES_HOTLINE = env("SERVICES_HOTLINE", default="12345")
# Tracking-page lookups per address and window (wrong and right alike).
SERVICES_TRACK_PER_IP = env.int("SERVICES_TRACK_PER_IP", default=20)
SERVICES_TRACK_WINDOW = env.int("SERVICES_TRACK_WINDOW", default=900)
# Case attachments: size limit, and the types accepted (recognised by their first bytes, not their name).
SERVICES_ATTACHMENT_MAX_BYTES = env.int("SERVICES_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
SERVICES_ATTACHMENT_TYPES = ["image/jpeg", "image/png", "image/webp", "application/pdf"]
# Name used for automatic referrals of hazard reports to the street office.
SERVICES_STREET_OFFICE_NAME = env("SERVICES_STREET_OFFICE_NAME", default="Street office")
