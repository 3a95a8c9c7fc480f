"""/mediation/reports/: the grid's reports (views_grid.py, the phone's side in
views_grid_phone.py); /mediation/grid-sw.js: the
service worker that lets the report form open without signal (its scope is /mediation/);
/mediation/reports/me/: who the phone's script reports as, asked past that worker."""

from django.urls import path

from . import views_grid, views_grid_phone

urlpatterns = [
    path("reports/", views_grid.reports, name="reports"),
    path("reports/new/", views_grid_phone.report_new, name="report_new"),
    path("reports/sync/", views_grid_phone.report_sync, name="report_sync"),
    path("reports/me/", views_grid_phone.report_me, name="report_me"),
    path("reports/<int:pk>/", views_grid.report_detail, name="report"),
    path("reports/<int:pk>/triage/", views_grid.report_triage, name="report_triage"),
    path("reports/<int:pk>/register/", views_grid.report_register, name="report_register"),
    path("reports/<int:pk>/photos/<int:photo>/", views_grid.report_photo, name="report_photo"),
    path("grid-sw.js", views_grid_phone.grid_sw, name="grid_sw"),
]
