"""Settings for `make run` on a developer's or an office's own machine."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# Static files: `make run` runs collectstatic before it starts gunicorn, and WhiteNoise
# serves that snapshot (STATIC_ROOT), indexed once at start-up, with its gzip copies.
# WhiteNoise would otherwise follow DEBUG and look files up through the finders and
# rescan them on every request (WHITENOISE_USE_FINDERS / WHITENOISE_AUTOREFRESH), which
# its authors mean for development only: an office serving its staff from this machine
# gets the same path as production, and a fresh snapshot each `make run`. `make dev`
# (runserver) serves static/ straight from the source folders, edits showing at once.
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
