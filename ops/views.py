from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from .services import health_report


@never_cache
def healthz(request):
    """JSON naming each check; 200 when all pass, 503 naming what is down."""
    checks = health_report()
    down = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "ok" if not down else "down", "down": down, "checks": checks}
    return JsonResponse(body, status=200 if not down else 503)
