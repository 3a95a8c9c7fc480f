from django.urls import path

from . import views

app_name = "followup"
urlpatterns = [
    path("", views.query, name="query"),
    path("rate/", views.rate, name="rate"),
]
