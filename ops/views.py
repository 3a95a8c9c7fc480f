"""Health endpoints: plain HTTP, no login, and nothing but the names of failed checks.

/livez is for the load balancer: this process answers and reaches the database, so take
it out of rotation otherwise. /healthz is for monitoring: the database, the broker and
the Celery heartbeat. Why a check failed goes to the log, never into the response.
"""

import logging

from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from .services import health_report, liveness_report

logger = logging.getLogger(__name__)


def _public(checks: dict[str, dict]) -> tuple[list[str], dict[str, dict]]:
    """Log each failed check's reason; return the failed names and the checks without them."""
    down = [name for name, check in checks.items() if not check["ok"]]
    for name in down:
        logger.warning("health check %s failed: %s", name, checks[name].get("error", ""))
    shown = {name: {key: value for key, value in check.items() if key != "error"}
             for name, check in checks.items()}
    return down, shown


def _answer(checks: dict[str, dict]) -> JsonResponse:
    down, shown = _public(checks)
    body = {"status": "ok" if not down else "down", "down": down, "checks": shown}
    return JsonResponse(body, status=200 if not down else 503)


@never_cache
def livez(request):
    """JSON for the load balancer; 200 while the process serves and the database answers."""
    return _answer(liveness_report())


@never_cache
def healthz(request):
    """JSON naming each check; 200 when all pass, 503 naming what is down."""
    return _answer(health_report())
