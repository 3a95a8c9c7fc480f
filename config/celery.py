"""The Celery app. Workers and beat import it as ``celery -A config``."""

import os

from celery import Celery

# Production by default, as manage.py and wsgi.py: scripts/stack.py names local settings
# for the workers it starts.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("petitiondesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
