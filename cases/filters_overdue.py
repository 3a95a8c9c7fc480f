"""The overdue audit's filters (django-filter): every value lives in the query string.

The rows are clocks, not cases: each filter is one SQL condition on the clock or
its case. Units are a subtree (a semi-join on the materialized path, as the case
list does); "overdue" and "at risk" compare ``due_at`` with two instants computed
once, in Python, on the office calendar (the case list's red and amber).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.models import User

from .choices import ClockKind
from .deadlines.calendar import WorkCalendar
from .deadlines.clocks import OFFICE_TZ, office_calendar
from .deadlines.rules import STATUTORY_RULES

# Shared with the case list, so "a unit and below", the date fields and the form's
# look and checks are one piece of code for both pages.
from .filters import (
    CaseFilterForm,
    Sort,
    _date_widget,
    _start_of,
    _unit_choices,
    _within,
    due_soon_cutoff,
)
from .models import Deadline

OVERDUE, AT_RISK = "overdue", "at_risk"
STANDING_CHOICES = [(OVERDUE, _("Overdue")), (AT_RISK, _("At risk (due within 3 working days)"))]

# Windows are rights, not duties (cases/DECISIONS.md C4): never listed, so not offered.
WINDOW_KINDS = frozenset(rule.kind for rule in STATUTORY_RULES if rule.is_window)
DUTY_KIND_CHOICES = [(kind, label) for kind, label in ClockKind.choices
                     if kind not in WINDOW_KINDS]

# Each sort ends in the clock's pk, so the fields are unique together: the keyset key.
SORTS: dict[str, Sort] = {
    "overdue": Sort(("due_at", "pk"), descending=False),
    "-overdue": Sort(("due_at", "pk"), descending=True),
    "number": Sort(("case__number", "pk"), descending=False),
    "-number": Sort(("case__number", "pk"), descending=True),
    "received": Sort(("case__received_at", "pk"), descending=False),
    "-received": Sort(("case__received_at", "pk"), descending=True),
}
DEFAULT_SORT = "overdue"
SORT_CHOICES = [
    ("overdue", _("Most overdue first")),
    ("-overdue", _("Least overdue first")),
    ("number", _("Case number, ascending")),
    ("-number", _("Case number, descending")),
    ("received", _("Oldest received first")),
    ("-received", _("Newest received first")),
]
# A day count a person types; more than ten years overdue is a typo, not a question.
MAX_DAYS = 3650


class DaysFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class OverdueFilter(django_filters.FilterSet):
    """Unit (and below), leader, clock kind, overdue or at risk, days overdue, received; sort."""

    unit = django_filters.ModelChoiceFilter(
        label=_("Lead unit (and the units under it)"), empty_label=_("Any"),
        method=_within("case__lead_unit"), queryset=_unit_choices())
    leader = django_filters.ModelChoiceFilter(
        field_name="case__leader", label=_("Responsible leader"), empty_label=_("Any"),
        queryset=User.objects.filter(role_assignments__role=Role.LEADER).distinct().order_by("name"))
    kind = django_filters.ChoiceFilter(label=_("Clock"), choices=DUTY_KIND_CHOICES,
                                       empty_label=_("Any"))
    standing = django_filters.ChoiceFilter(
        label=_("Overdue or at risk"), choices=STANDING_CHOICES,
        empty_label=_("Overdue and at risk"), method="filter_standing")
    min_days = DaysFilter(label=_("Overdue by at least (days)"), method="filter_min_days",
                          min_value=1, max_value=MAX_DAYS,
                          widget=forms.NumberInput(attrs={"min": 1, "max": MAX_DAYS}))
    received_from = django_filters.DateFilter(label=_("Received from"), method="filter_from",
                                              widget=_date_widget)
    received_to = django_filters.DateFilter(label=_("Received until"), method="filter_to",
                                            widget=_date_widget)
    sort = django_filters.ChoiceFilter(label=_("Sort by"), choices=SORT_CHOICES,
                                       empty_label=None, method="filter_sort")

    class Meta:
        model = Deadline
        fields: list[str] = []
        form = CaseFilterForm

    def __init__(self, data=None, queryset=None, *, now: datetime | None = None,
                 calendar: WorkCalendar | None = None, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.now = now or timezone.now()
        self.calendar = calendar or office_calendar()
        self.today: date = timezone.localtime(self.now, OFFICE_TZ).date()
        # A clock due at or before this instant is at risk or overdue (the list's amber).
        self.cutoff = due_soon_cutoff(now=self.now, calendar=self.calendar)

    @property
    def sort_name(self) -> str:
        self.is_valid()  # cleaned_data holds only the values that passed
        return self.form.cleaned_data.get("sort") or DEFAULT_SORT

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.filters if name != "sort")

    def filter_standing(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == OVERDUE:
            return queryset.filter(due_at__lte=self.now)
        return queryset.filter(due_at__gt=self.now)

    def filter_min_days(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        """Overdue by ``value`` calendar days or more, counted as the list counts (at least 1)."""
        queryset = queryset.filter(due_at__lte=self.now)
        if value <= 1:
            return queryset
        return queryset.filter(due_on__lte=self.today - timedelta(days=value))

    def filter_from(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(case__received_at__gte=_start_of(value))

    def filter_to(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(case__received_at__lt=_start_of(value + timedelta(days=1)))

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.order_by(*SORTS[value].order_by())
