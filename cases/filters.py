"""The case list's filters (django-filter): every value lives in the query string.

Each filter is one SQL condition the indexes serve: a unit or category "and
everything below" is a semi-join on the materialized path (``path LIKE 'p%'``),
as in ``accounts.permissions``; the deadline filters are an EXISTS on the clock
table with a cut-off instant computed once, in Python, on the office calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role, UnitKind
from accounts.models import OrgUnit, User

from .choices import CaseStatus, Channel
from .deadlines.calendar import Unit, WorkCalendar
from .deadlines.clocks import OFFICE_TZ, office_calendar
from .forms import mark_invalid
from .forms.widgets import quicken
from .models import Case, Category, Deadline

# "Due soon" means due within this many working days of today (UI.md: amber).
SOON_WORKING_DAYS = 3


def due_soon_cutoff(*, now: datetime, calendar: WorkCalendar) -> datetime:
    """Return the instant that ends "due soon": 00:00 of the 4th working day after today.

    A clock is due soon when its due day lies before that day, i.e. at most three
    working days after today; its ``due_at`` (24:00 of the due day) is then at or
    before this instant. The list's colours count the same way.
    """
    today = timezone.localtime(now, OFFICE_TZ).date()
    fourth = calendar.due_date(today, SOON_WORKING_DAYS + 1, Unit.WORKING).due
    return datetime.combine(fourth, time.min, tzinfo=OFFICE_TZ)


@dataclass(frozen=True)
class Sort:
    """A whitelisted ordering; its fields are also the keyset-paging key (unique together)."""

    fields: tuple[str, ...]
    descending: bool

    def order_by(self, *, reverse: bool = False) -> list[str]:
        descending = self.descending != reverse
        return [f"-{name}" if descending else name for name in self.fields]


SORTS: dict[str, Sort] = {
    "-received": Sort(("received_at", "pk"), descending=True),
    "received": Sort(("received_at", "pk"), descending=False),
    "number": Sort(("number",), descending=False),
    "-number": Sort(("number",), descending=True),
}
DEFAULT_SORT = "-received"
SORT_CHOICES = [
    ("-received", _("Newest received first")),
    ("received", _("Oldest received first")),
    ("number", _("Case number, ascending")),
    ("-number", _("Case number, descending")),
]

OVERDUE, DUE_SOON = "overdue", "soon"
DEADLINE_CHOICES = [(OVERDUE, _("Overdue")), (DUE_SOON, _("Due within 3 working days"))]
REPEAT_CHOICES = [("yes", _("Repeat petitions only")), ("no", _("Not repeat petitions"))]


def _label(field: str):
    return capfirst(Case._meta.get_field(field).verbose_name)


# The marks offices report on (cases/DECISIONS.md row F), each a yes/no filter of its field.
MARKS = ("is_first_petition", "is_level_skipping", "is_litigation_related", "has_threat",
         "is_secret", "is_public")


def _mark(field: str) -> django_filters.BooleanFilter:
    """Any, yes or no on one mark: ``?has_threat=true``; one condition on the case row."""
    choices = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
    return django_filters.BooleanFilter(field_name=field, label=_label(field),
                                        widget=forms.Select(choices=choices))


def _indented(node) -> str:
    """A tree node's name indented by its depth, so a select shows the tree."""
    return "\u3000" * (node.depth - 1) + node.name


class CaseFilterForm(forms.Form):
    """Bootstrap classes, a tree-shaped unit and category list, and a date-order check."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs.setdefault("class", "form-select" if select else "form-control")
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{self[name].auto_id}-hint"
            if hasattr(field, "label_from_instance") and hasattr(field.queryset.model, "depth"):
                field.label_from_instance = _indented
            quicken(field)  # a county's units and categories: hundreds of options

    def clean(self):
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and start > end:
            self.add_error("received_to", _("The end date is before the start date."))
        return data

    def _post_clean(self):
        super()._post_clean()
        mark_invalid(self)


def _within(relation: str):
    """A filter method: cases whose ``relation`` is the chosen node or below it (path prefix)."""

    def method(queryset: QuerySet, name: str, value) -> QuerySet:
        below = type(value).objects.filter(path__startswith=value.path).values("pk")
        return queryset.filter(**{f"{relation}__in": below})

    return method


def _unit_choices() -> QuerySet:
    return OrgUnit.objects.filter(is_active=True).exclude(kind=UnitKind.GRID).order_by("path")


_date_widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CaseFilter(django_filters.FilterSet):
    """State, channel, category, unit, place, leader, dates, deadlines, repeat, marks, text;
    sort."""

    MARKS = MARKS  # for the template: these fields sit in a row of their own

    q = django_filters.CharFilter(
        label=_("Number or text"), method="filter_text", max_length=100,
        help_text=_("The start of a case number, or words from the summary or demands."),
        widget=forms.TextInput(attrs={"type": "search"}))
    status = django_filters.ChoiceFilter(label=_label("status"), choices=CaseStatus.choices,
                                         empty_label=_("Any"))
    channel = django_filters.ChoiceFilter(label=_label("channel"), choices=Channel.choices,
                                          empty_label=_("Any"))
    category = django_filters.ModelChoiceFilter(
        label=_label("category"), empty_label=_("Any"), method=_within("category"),
        queryset=Category.objects.filter(is_active=True).order_by("path"))
    lead_unit = django_filters.ModelChoiceFilter(
        label=_label("lead_unit"), empty_label=_("Any"), method=_within("lead_unit"),
        queryset=_unit_choices())
    place = django_filters.ModelChoiceFilter(
        label=_label("place_unit"), empty_label=_("Any"), method=_within("place_unit"),
        queryset=_unit_choices())
    leader = django_filters.ModelChoiceFilter(
        label=_label("leader"), empty_label=_("Any"),
        queryset=User.objects.filter(role_assignments__role=Role.LEADER).distinct().order_by("name"))
    received_from = django_filters.DateFilter(label=_("Received from"), method="filter_from",
                                              widget=_date_widget)
    received_to = django_filters.DateFilter(label=_("Received until"), method="filter_to",
                                            widget=_date_widget)
    deadline = django_filters.ChoiceFilter(label=_("Deadline"), choices=DEADLINE_CHOICES,
                                           empty_label=_("Any"), method="filter_deadline")
    repeat = django_filters.ChoiceFilter(label=_("Repeat petition"), choices=REPEAT_CHOICES,
                                         empty_label=_("Any"), method="filter_repeat")
    is_first_petition = _mark("is_first_petition")
    is_level_skipping = _mark("is_level_skipping")
    is_litigation_related = _mark("is_litigation_related")
    has_threat = _mark("has_threat")
    is_secret = _mark("is_secret")
    is_public = _mark("is_public")
    sort = django_filters.ChoiceFilter(label=_("Sort by"), choices=SORT_CHOICES,
                                       empty_label=None, method="filter_sort")

    class Meta:
        model = Case
        fields: list[str] = []
        form = CaseFilterForm

    def __init__(self, data=None, queryset=None, *, now: datetime | None = None, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.now = now or timezone.now()
        self._calendar: WorkCalendar | None = None

    @property
    def calendar(self) -> WorkCalendar:
        """The office calendar, read once per list (it costs a query to check it is current)."""
        if self._calendar is None:
            self._calendar = office_calendar()
        return self._calendar

    @property
    def sort_name(self) -> str:
        """The ordering asked for, or the default when none (or a bad one) was given."""
        self.is_valid()  # validate first: cleaned_data holds only the values that passed
        return self.form.cleaned_data.get("sort") or DEFAULT_SORT

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.filters if name != "sort")

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__startswith=value) | Q(summary__icontains=value)
                               | Q(demands__icontains=value))

    def filter_from(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(received_at__gte=_start_of(value))

    def filter_to(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(received_at__lt=_start_of(value + timedelta(days=1)))

    def filter_deadline(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        clocks = Deadline.objects.live().filter(case=OuterRef("pk"), is_window=False)
        if value == OVERDUE:
            clocks = clocks.filter(due_at__lte=self.now)
        else:
            cutoff = due_soon_cutoff(now=self.now, calendar=self.calendar)
            clocks = clocks.filter(due_at__gt=self.now, due_at__lte=cutoff)
        return queryset.filter(Exists(clocks))

    def filter_repeat(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(repeat_of__isnull=value != "yes")

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.order_by(*SORTS[value].order_by())


def _start_of(day: date) -> datetime:
    """00:00 of ``day`` in the office's time zone, so the date test stays on the index."""
    return datetime.combine(day, time.min, tzinfo=OFFICE_TZ)
