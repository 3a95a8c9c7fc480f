"""/mediation/: the mediator's home, the mediation cases, their steps and documents, the
numbers per committee, and a petition case sent to mediation (views_mediation.py)."""

from django.urls import path

from . import views_mediation as views

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="cases"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/step/<slug:step>/", views.case_step, name="case_step"),
    path("cases/<int:pk>/terms/<int:term>/check/", views.term_check, name="term_check"),
    path("cases/<int:pk>/print/agreement/", views.print_agreement, name="print_agreement"),
    path("cases/<int:pk>/print/meetings/<int:meeting>/", views.print_meeting,
         name="print_meeting"),
    path("cases/<int:pk>/print/application/", views.print_application,
         name="print_application"),
    path("numbers/", views.numbers, name="numbers"),
    path("send/<str:number>/", views.send, name="send"),
]
