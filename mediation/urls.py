from django.urls import path

from . import views

app_name = "mediation"
urlpatterns = [
    path("", views.home, name="home"),
    path("reports/", views.reports, name="reports"),
]
