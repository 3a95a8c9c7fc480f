"""Settings for `make test`: the same PostgreSQL and Redis, fast hashing, eager tasks."""

from .base import *  # noqa: F403
from .base import DATABASES, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEMO_DATA_ALLOWED = True  # the seed and bench tests load the demo county

# Ordinary tests run task code in-process; tests that prove scheduling run a real worker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

# Several test runs may share one server: TEST_DB_SUFFIX keeps their databases apart.
DATABASES["default"]["TEST"] = {
    "NAME": "test_petitiondesk" + env("TEST_DB_SUFFIX", default=""),
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# The audit tables refuse TRUNCATE: the flush after a transactional test passes them.
DATABASES["default"]["ENGINE"] = "config.testdb"
AXES_ENABLED = True
# Fixed keys, whatever the environment says: a test database outlives one run (--reuse-db),
# so its sealed values must open with the next run's keys too. Never use these elsewhere.
FIELD_ENCRYPTION_KEYS = {"test1": bytes.fromhex("0123456789abcdeffedcba9876543210")}
FIELD_ENCRYPTION_CURRENT = "test1"
BLIND_INDEX_KEY = bytes.fromhex("5d" * 32)
AUDIT_MAC_KEYS = {"t1": bytes.fromhex("a7" * 32)}
AUDIT_MAC_CURRENT = "t1"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests never run collectstatic: WhiteNoise looks files up through the finders, as the
# live server of the browser tests does.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The second factor is required of no role and not of the superuser, so the other tests
# sign in with the password alone; accounts/tests/test_otp.py sets the production values.
OTP_REQUIRED_ROLES = []
OTP_REQUIRED_FOR_SUPERUSER = False
