"""One person across it all (issue 11): a person's grid reports and mediation cases, for
intake's repeat check beside their petitions (``cases.selectors.repeats.related_matters``).

A party to a report or a mediation is a ``cases.Petitioner`` row, found again by ID number
or phone (``petitioner_find_or_create``), so the same row links the three."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import Action, scope
from cases.selectors.repeats import RelatedMatter
from cases.services.undertakings import office_today

from .models import GridReport, MediationCase


def related_to_people(*, user: User, people: QuerySet, limit: int) -> list[RelatedMatter]:
    """The grid reports and mediation cases naming ``people`` that ``user`` may see."""
    reports = (scope(user, Action.GRID_REPORT_VIEW,
                     GridReport.objects.filter(parties__petitioner__in=people))
               .distinct().order_by("-received_at", "-pk")[:limit])
    mediations = (scope(user, Action.MEDIATION_VIEW,
                        MediationCase.objects.filter(parties__petitioner__in=people))
                  .distinct().order_by("-opened_at", "-pk")[:limit])
    return ([RelatedMatter(kind=_("Grid report"), number=report.number,
                           status=report.get_status_display(),
                           day=office_today(report.received_at),
                           url=_url("mediation:report", report.pk)) for report in reports]
            + [RelatedMatter(kind=_("Mediation"), number=case.number,
                             status=case.get_status_display(), day=office_today(case.opened_at),
                             url=_url("mediation:case", case.pk)) for case in mediations])


def _url(name: str, pk: int) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # the page is not there (yet): the number alone says enough
        return ""
