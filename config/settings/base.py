"""Settings shared by every environment.

Values that differ between machines come from the environment (django-environ);
``local``, ``test`` and ``production`` only override what they must.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab, schedule
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from config.crypto import audit_key_settings, key_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# Where the embedded servers, uploads, collected static files and beat's state live.
# scripts/stack.py sets it (absolute) for everything it starts; a test stack points it
# at a temporary folder so it never touches the developer's .data/.
DATA_DIR = Path(env("PETITIONDESK_DATA_DIR", default=str(BASE_DIR / ".data")))

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-dev-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "config.apps.PetitionDeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "treebeard",
    "axes",
    "pgtrigger",
    "csp",
    # The second sign-in factor (accounts/otp.py): the framework, authenticator apps (TOTP)
    # and recovery codes. Before accounts, whose admin takes their device pages off the site.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "ops",
    "cases",
    "mediation",
    "notifications",
    "followup",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # WhiteNoise serves STATIC_ROOT from gunicorn itself (`make run` has no nginx);
    # right after SecurityMiddleware, as its documentation asks.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session has passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    # An expired password, or one an administrator set, is changed before anything else
    # but the second factor, which holds the user at its pages until it is given.
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # AxesMiddleware last: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "accounts.context_processors.navigation",
                "notifications.context_processors.notifications",
            ],
        },
    },
]

# --- Database and broker -------------------------------------------------
# scripts/stack.py sets DATABASE_URL and REDIS_URL to the embedded servers
# unless the operator points them at real ones.
DATABASES = {"default": env.db("DATABASE_URL", default="postgres:///petitiondesk")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A database that does not answer fails a request (and /livez) in seconds, not minutes.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
# Two database roles (issue 9; config/dbroles.py): DATABASE_URL is the runtime role, which
# everything but `migrate` uses and which may not change or delete audit rows;
# DATABASE_OWNER_URL is the role that owns the tables, used by `migrate` alone.
# DATABASE_RUNTIME_ROLE names the role to grant to when DATABASE_URL is itself the owner
# (the test runner, which must create its databases).
DATABASE_OWNER = env.db("DATABASE_OWNER_URL") if env("DATABASE_OWNER_URL", default="") else None
DATABASE_RUNTIME_ROLE = env("DATABASE_RUNTIME_ROLE", default="") or (
    DATABASES["default"].get("USER", "") if DATABASE_OWNER else "")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6390/0")

# --- Personal data at rest (issue 9) ---------------------------------------
# ID numbers are stored SM4-encrypted and found through an HMAC-SM3 blind index
# (config/crypto.py, which says how the keys are given). The keys never enter the
# database: PETITIONDESK_FIELD_KEYS / PETITIONDESK_BLIND_INDEX_KEY, or the key file
# PETITIONDESK_FIELD_KEY_FILE that scripts/stack.py writes under .data/ on first start.
FIELD_ENCRYPTION_KEYS, FIELD_ENCRYPTION_CURRENT, BLIND_INDEX_KEY = key_settings()
# The audit trail's HMAC-SM3 chain (cases/audit_chain.py) has keys of its own, given the
# same way: PETITIONDESK_AUDIT_KEYS (a1:<64 hex digits>,...) and PETITIONDESK_AUDIT_KEY_CURRENT.
AUDIT_MAC_KEYS, AUDIT_MAC_CURRENT = audit_key_settings()

# --- Authentication ------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out login before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Password policy (issue 9; 等保 level 3). PasswordChangeRequiredMiddleware sends a user
# whose password is older than PASSWORD_MAX_AGE_DAYS, or was set by an administrator,
# to the change page.
PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", default=10)
PASSWORD_MIN_CHARACTER_KINDS = env.int("PASSWORD_MIN_CHARACTER_KINDS", default=3)
PASSWORD_HISTORY_COUNT = env.int("PASSWORD_HISTORY_COUNT", default=5)
PASSWORD_MAX_AGE_DAYS = env.int("PASSWORD_MAX_AGE_DAYS", default=90)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.MinimumLengthValidator",
     "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH}},
    {"NAME": "accounts.validators.CharacterKindsValidator",
     "OPTIONS": {"min_kinds": PASSWORD_MIN_CHARACTER_KINDS}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Also records each new password's hash and time (its password_changed hook).
    {"NAME": "accounts.validators.PasswordHistoryValidator",
     "OPTIONS": {"count": PASSWORD_HISTORY_COUNT}},
]
# PBKDF2-HMAC-SM3 first: a password stored with one of the others verifies and is
# hashed again with SM3 at its user's next login.
PASSWORD_HASHERS = [
    "accounts.hashers.PBKDF2SM3PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# Login lockout (django-axes), counted per address as the client sent it to our proxy:
# AXES_FAILURE_LIMIT failures for one user name from one address lock that pair, and
# AXES_ADDRESS_FAILURE_LIMIT failures from one address under any names (password
# spraying) lock the address, for AXES_COOLOFF_MINUTES; administrators unlock them.
# The handler (accounts.middleware.AddressLimitAxesHandler) reads the two parameter
# sets in this order.
AXES_HANDLER = "accounts.middleware.AddressLimitAxesHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
# django-ipware is not installed, so axes' AXES_IPWARE_* settings would do nothing: the
# address comes from our own function. TRUSTED_PROXY_COUNT is the number of proxies
# (nginx: 1) that each append to X-Forwarded-For; 0 (no proxy) reads REMOTE_ADDR.
AXES_CLIENT_IP_CALLABLE = "accounts.middleware.client_ip"
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# A success must not wipe the count: axes would delete the address's failures too,
# so an attacker could reset the spraying count by signing in to an account of their own.
AXES_RESET_ON_SUCCESS = False
# Keep every failure (user name, address, time, whether it locked) for the audit log.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# axes deletes a name's oldest failures past this many; the failure log is an audit table
# the database will not delete from (config/dbroles.py), so the limit is never reached.
AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT = 2**62
AXES_VERBOSE = False

# The second sign-in factor (issue 9; accounts/otp.py, accounts/DECISIONS.md O1-O7).
# GB/T 22239-2019 8.1.4.1 (等保 level 3) asks for two or more authentication techniques, one
# of them cryptographic: after the password, a TOTP code from an authenticator app, or a
# recovery code. OTP_REQUIRED_ROLES: the role codes (accounts/choices.py) whose holders
# must have it, comma-separated; by default the three administrators and the supervisors,
# which production always keeps. The break-glass superuser needs it where
# OTP_REQUIRED_FOR_SUPERUSER. Any user may enrol of their own accord.
OTP_MANDATORY_ROLES = ["administrator", "security_admin", "audit_admin", "supervisor"]
OTP_REQUIRED_ROLES = [code.strip() for code in
                      env.list("OTP_REQUIRED_ROLES", default=OTP_MANDATORY_ROLES)
                      if code.strip()]
OTP_REQUIRED_FOR_SUPERUSER = env.bool("OTP_REQUIRED_FOR_SUPERUSER", default=True)
# The name the authenticator app shows beside the account.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="PetitionDesk")
# django-otp's throttling: after n wrong codes in a row a device refuses every code for
# factor × 2^(n-1) seconds (1, 2, 4, ... with 1). Never 0 (that turns it off).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Were a device page ever registered in the admin, it would not show keys or QR codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Idle timeout: the session lives SESSION_IDLE_MINUTES after the last request.
SESSION_COOKIE_AGE = 60 * env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

# The petitioners' public query page (/query/; followup/DECISIONS.md Q3): wrong codes per
# case number and per address within QUERY_LOCK_MINUTES before either is refused for the
# rest of that window; the address limit is higher because a carrier's NAT puts many
# phones behind one address. A right code opens the case's rating for QUERY_SESSION_MINUTES.
QUERY_FAILURE_LIMIT = env.int("QUERY_FAILURE_LIMIT", default=5)
QUERY_ADDRESS_FAILURE_LIMIT = env.int("QUERY_ADDRESS_FAILURE_LIMIT", default=20)
QUERY_LOCK_MINUTES = env.int("QUERY_LOCK_MINUTES", default=30)
QUERY_SESSION_MINUTES = env.int("QUERY_SESSION_MINUTES", default=15)

# --- Language and time ---------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=DATA_DIR / "media")
# Behind nginx: the download view checks and audits, then hands the file to nginx's
# ``internal`` location with this prefix (X-Accel-Redirect); empty: gunicorn streams it.
ATTACHMENT_ACCEL_PREFIX = env.str("ATTACHMENT_ACCEL_PREFIX", default="")
# collectstatic writes each file also under a content-hashed name, plus gzip copies;
# WhiteNoise serves the hashed names with a year-long cache, so a browser never keeps
# a stale stylesheet after an upgrade. (With DEBUG on, {% static %} gives plain names.)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Celery --------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
HEARTBEAT_INTERVAL_SECONDS = env.int("HEARTBEAT_INTERVAL_SECONDS", default=30)
# How often beat runs the escalation sweep (cases/services/escalation.py).
SWEEP_INTERVAL_SECONDS = env.int("SWEEP_INTERVAL_SECONDS", default=60)

CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "ops.tasks.heartbeat_task",
        "schedule": schedule(timedelta(seconds=HEARTBEAT_INTERVAL_SECONDS)),
    },
    # Admin edits queue a recompute themselves; the nightly run catches anything else
    # (a calendar edited in SQL, a clock started while a recompute was scanning).
    "clocks-recompute-nightly": {
        "task": "cases.tasks.clocks_recompute_task",
        "schedule": crontab(hour=2, minute=30),
        "kwargs": {"reason": "nightly check"},
    },
    # The escalation ladder: every clock whose next level came due fires (issue 8).
    "escalation-sweep": {
        "task": "cases.tasks.escalation_sweep_task",
        "schedule": schedule(timedelta(seconds=SWEEP_INTERVAL_SECONDS)),
    },
    # A ladder or calendar changed outside the admin still reaches every open clock.
    "escalation-reschedule-nightly": {
        "task": "cases.tasks.escalation_reschedule_task",
        "schedule": crontab(hour=2, minute=50),
    },
    # The staff follow-ups (回头看) whose rule day has come (followup/schedule.py); after
    # the nightly recompute, so a calendar edit counts. Reruns create nothing twice.
    "followups-schedule-daily": {
        "task": "followup.tasks.followups_schedule_task",
        "schedule": crontab(hour=3, minute=0),
    },
    # The grid's and mediation's clocks on the same ladder (mediation/escalation.py).
    "mediation-sweep": {
        "task": "mediation.tasks.dispute_sweep_task",
        "schedule": schedule(timedelta(seconds=SWEEP_INTERVAL_SECONDS)),
    },
    # The monthly dispute sweep round (矛盾纠纷排查) opens on the 1st (mediation/sweeps.py);
    # daily, so a missed day catches up. Rounds before sensitive dates are set by hand.
    "mediation-rounds-daily": {
        "task": "mediation.tasks.sweep_rounds_open_task",
        "schedule": crontab(hour=0, minute=30),
    },
    # The grid's and mediation's live clocks follow a calendar or ladder edit (clocks.py).
    "mediation-clocks-refresh-nightly": {
        "task": "mediation.tasks.dispute_clocks_refresh_task",
        "schedule": crontab(hour=2, minute=55),
    },
    # Agreements' court-confirmation windows (PML Art.33) that ran out unused, as lapsed.
    "mediation-windows-daily": {
        "task": "mediation.tasks.windows_lapse_task",
        "schedule": crontab(hour=0, minute=40),
    },
    # Files dropped on intake forms that were never registered go after a day.
    "intake-uploads-purge-daily": {
        "task": "cases.tasks.intake_uploads_purge",
        "schedule": crontab(hour=3, minute=15),
    },
    # The outbox: mail and SMS due (new or retried), and tasks queued while the broker
    # was down. Each also runs at once after the commit that queued its rows.
    "notifications-outbox-deliver": {
        "task": "notifications.tasks.outbox_deliver",
        "schedule": schedule(timedelta(minutes=1)),
    },
    "notifications-outbox-relay": {
        "task": "notifications.tasks.outbox_relay",
        "schedule": schedule(timedelta(minutes=1)),
    },
    # Users who chose the daily digest get the day's notifications at 18:00 office time.
    "notifications-digest-daily": {
        "task": "notifications.tasks.digest_send",
        "schedule": crontab(hour=18, minute=0),
    },
}

# --- Mail and notifications ---------------------------------------------
# SMTP in production (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and the
# EMAIL_* variables); `make run` and the demo write each mail as a file under
# $PETITIONDESK_DATA_DIR/mail/. The outbox retries a message that fails.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(DATA_DIR / "mail"))
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="petitiondesk@localhost")
# Links in mail are this address plus the page's path.
PETITIONDESK_SITE_URL = env("PETITIONDESK_SITE_URL", default="http://127.0.0.1:8000")
# Channel name → class with send(message); add "sms" here for a gateway, e.g.
# "notifications.channels.LogSmsChannel" to try it out (it only logs).
NOTIFICATION_CHANNELS = {"mail": "notifications.channels.MailChannel"}
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=8)
NOTIFICATION_RETRY_BASE_SECONDS = env.int("NOTIFICATION_RETRY_BASE_SECONDS", default=60)

# --- API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {"TITLE": "PetitionDesk API", "VERSION": "0.1.0"}

# --- Health endpoints ----------------------------------------------------
# The load balancer probes /livez and monitoring probes /healthz over plain HTTP on
# the internal network: SECURE_SSL_REDIRECT (production) must not answer them with a 301.
# The patterns match the path without its leading slash.
SECURE_REDIRECT_EXEMPT = [r"^livez$", r"^healthz$"]

# --- Content Security Policy ---------------------------------------------
# django-csp 4 (CSPMiddleware). No inline script and no eval anywhere: page behaviour
# lives in static/js/, htmx runs with allowEval off and without its injected indicator
# style (the htmx-config meta in base.html), and no template has a style="" attribute.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # templates/500.html carries its own <style> (it must not depend on static files):
        # that block, and only it, by its hash; tests/test_hardening.py checks it matches.
        "style-src": [SELF, "'sha256-Rhiw+afYG9o/Y/8WYJ1pXZlUOJ5FvrGlNT6860B/IXA='"],
        "img-src": [SELF, "data:"],  # Bootstrap's CSS draws its icons as data: SVGs
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# --- Demo data -----------------------------------------------------------
# `manage.py seed` and `bench` write demo logins and cases only where this is true:
# local and test settings say so; any other settings module refuses.
DEMO_DATA_ALLOWED = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
