"""Production: real PostgreSQL and Redis servers, gunicorn, several workers, one beat.

Everything secret or site-specific comes from the environment; there are no defaults
for the secret key or the servers, so a missing variable stops the start.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    AUDIT_MAC_KEYS,
    BLIND_INDEX_KEY,
    FIELD_ENCRYPTION_KEYS,
    OTP_MANDATORY_ROLES,
    OTP_REQUIRED_ROLES,
    env,
)

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)

DEMO_DATA_ALLOWED = False

# Uploaded petitions and evidence: readable by the service user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# ID numbers are stored encrypted (config/crypto.py): without the keys nothing could be
# registered or read, and a key made up here would seal data no one could open later.
if not FIELD_ENCRYPTION_KEYS or not BLIND_INDEX_KEY:
    raise ImproperlyConfigured(
        "Production needs the keys for the personal data encrypted at rest: set "
        "PETITIONDESK_FIELD_KEYS (k1:<32 hex digits>) and PETITIONDESK_BLIND_INDEX_KEY "
        "(64 hex digits), or PETITIONDESK_FIELD_KEY_FILE; see config/crypto.py.")
# Nor can an event be written without the audit chain's key (cases/audit_chain.py).
if not AUDIT_MAC_KEYS:
    raise ImproperlyConfigured(
        "Production needs the key of the audit trail's HMAC chain: set "
        "PETITIONDESK_AUDIT_KEYS (a1:<64 hex digits>), in the environment or in "
        "PETITIONDESK_FIELD_KEY_FILE; see config/crypto.py.")

# The second factor (accounts/DECISIONS.md O1): the environment may add roles to the three
# administrators and the supervisors, never take them away; the superuser always needs it.
OTP_REQUIRED_ROLES = sorted({*OTP_MANDATORY_ROLES, *OTP_REQUIRED_ROLES})
OTP_REQUIRED_FOR_SUPERUSER = True

# Transport security. Offices that terminate TLS at a proxy set the proxy header.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Production runs behind one proxy (nginx, which appends the client to X-Forwarded-For:
# `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`): the lockout counts the
# address it saw (accounts/DECISIONS.md P5). Set 0 only where nothing stands in front.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
