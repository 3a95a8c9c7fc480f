"""/mediation/sweeps/: the dispute sweeps (矛盾纠纷排查); views in views_sweeps.py."""

from django.urls import path

from . import views_sweeps

urlpatterns = [
    path("sweeps/", views_sweeps.sweeps, name="sweeps"),
    path("sweeps/<int:pk>/", views_sweeps.sweep_round, name="sweep_round"),
    path("sweeps/<int:pk>/units/<int:unit_pk>/file/", views_sweeps.sweep_file,
         name="sweep_file"),
]
