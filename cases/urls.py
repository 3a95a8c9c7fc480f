from django.urls import path, register_converter

from . import views


class CaseNumberConverter:
    """A case number as registration gives it (341122-2026-000042); never a word like "intake"."""

    regex = r"[0-9A-Za-z]+-[0-9]{4}-[0-9]{6}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseNumberConverter, "case_number")

app_name = "cases"
urlpatterns = [
    path("", views.case_list_view, name="list"),
    path("intake/", views.intake, name="intake"),
    path("intake/lookup/", views.petitioner_lookup, name="intake_lookup"),
    path("intake/repeats/", views.repeat_candidates_view, name="intake_repeats"),
    path("unit/", views.unit_cases, name="unit_cases"),
    path("mine/", views.my_cases, name="my_cases"),
    path("overdue/", views.overdue_audit, name="overdue"),
    path("overdue/export.xlsx", views.overdue_export, name="overdue_export"),
    path("supervision/", views.supervision, name="supervision"),
    path("<case_number:number>/", views.case_detail, name="detail"),
    path("<case_number:number>/reveal/", views.identity_reveal, name="reveal"),
    path("<case_number:number>/steps/<slug:name>/", views.step, name="step"),
    path("<case_number:number>/notices/<slug:kind>/", views.notice, name="notice"),
    path("<case_number:number>/attachments/<int:pk>/", views.attachment_download,
         name="attachment"),
]
