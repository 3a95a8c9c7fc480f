from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("intake/", views.intake, name="intake"),
    path("unit/", views.unit_cases, name="unit_cases"),
    path("mine/", views.my_cases, name="my_cases"),
    path("overdue/", views.overdue, name="overdue"),
]
