from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from ops import views as ops_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("cases/", include("cases.urls")),
    path("mediation/", include("mediation.urls")),
    path("notifications/", include("notifications.urls")),
    # The petitioners' own page (no account) and, beside the case pages, the clerk's reissue
    # of a query code: both followup's, which sits above cases.
    path("query/", include("followup.urls_public")),
    path("cases/", include("followup.urls_staff")),
    path("admin/", admin.site.urls),
    # Both over plain HTTP (SECURE_REDIRECT_EXEMPT): /livez for the load balancer,
    # /healthz for monitoring.
    path("livez", ops_views.livez, name="livez"),
    path("healthz", ops_views.healthz, name="healthz"),
]
