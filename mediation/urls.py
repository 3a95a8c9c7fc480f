"""/mediation/: the grid's reports (urls_grid), mediation cases (urls_mediation) and the
dispute sweeps (urls_sweeps), under one namespace."""

from . import urls_grid, urls_mediation, urls_sweeps

app_name = "mediation"
urlpatterns = [*urls_grid.urlpatterns, *urls_mediation.urlpatterns, *urls_sweeps.urlpatterns]
