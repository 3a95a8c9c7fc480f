"""Settings for `make run` on a developer's or an office's own machine."""

from pathlib import Path

from .base import *  # noqa: F403
from .base import DATA_DIR, DATABASES, env

# DEBUG shows settings and stack traces to whoever hits an error: only on the embedded
# PostgreSQL that scripts/stack.py runs under .data/pg (a developer's or a demo's own
# machine). Pointed at any other database these settings serve without it, whatever
# DJANGO_DEBUG says. The embedded server listens on a socket in its data folder only.
_database_host = DATABASES["default"].get("HOST") or DATABASES["default"].get(
    "OPTIONS", {}).get("host", "")
EMBEDDED_DATABASE = bool(_database_host) and (
    Path(_database_host).resolve() == (DATA_DIR / "pg").resolve())
DEBUG = EMBEDDED_DATABASE and env.bool("DJANGO_DEBUG", default=True)

# The demo county and its logins (`manage.py seed`, `make run`, `make bench`).
DEMO_DATA_ALLOWED = True

# Uploads readable by the service user only (Django's default chmods them 0644).
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# Static files: `make run` runs collectstatic before it starts gunicorn, and WhiteNoise
# serves that snapshot (STATIC_ROOT), indexed once at start-up, with its gzip copies.
# WhiteNoise would otherwise follow DEBUG and look files up through the finders and
# rescan them on every request (WHITENOISE_USE_FINDERS / WHITENOISE_AUTOREFRESH), which
# its authors mean for development only: an office serving its staff from this machine
# gets the same path as production, and a fresh snapshot each `make run`. `make dev`
# (runserver) serves static/ straight from the source folders, edits showing at once.
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False

# The demo's logins (the administrators and the supervisor among them) sign in without a
# phone: no role needs the second factor here unless OTP_REQUIRED_ROLES names some, and the
# superuser neither unless OTP_REQUIRED_FOR_SUPERUSER says so (accounts/DECISIONS.md O4).
# Anyone may still enrol from the user menu.
OTP_REQUIRED_ROLES = [code.strip() for code in env.list("OTP_REQUIRED_ROLES", default=[])
                      if code.strip()]
OTP_REQUIRED_FOR_SUPERUSER = env.bool("OTP_REQUIRED_FOR_SUPERUSER", default=False)
