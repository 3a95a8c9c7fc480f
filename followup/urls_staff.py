"""The clerk's reissue of a query code, beside the case pages (/cases/<number>/query-code/)."""

from django.urls import path

from . import views_staff

app_name = "followup_staff"
urlpatterns = [
    path("<case_number:number>/query-code/", views_staff.reissue, name="reissue"),
]
