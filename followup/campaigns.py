"""The 回头看 campaign (followup/DECISIONS.md F12): a supervisor selects concluded cases by
the case list's own filters and gives every one a follow-up in one step, then follows the
campaign's progress and its outcomes by unit.

Set-based, like the scheduler (``followups_schedule``) and the escalation sweep (STYLE.md):
one query reads the selected cases' ids, one ``INSERT … SELECT FROM unnest(…) ON CONFLICT
DO NOTHING RETURNING`` writes their follow-ups, ``followups_clocks_start`` starts and links
their clocks, and one ``bulk_create`` writes their events, in one transaction under the
scheduler's advisory lock. The statement count does not grow with the number of cases. A
case that already has an open follow-up is skipped by the database itself (the partial
unique index ``followup_one_open_per_case``), so is a case given a campaign follow-up
earlier the same day (``followup_once_per_trigger``): a second campaign over an
overlapping selection doubles nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import (
    Count,
    DateField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.models import OrgUnit, User
from accounts.permissions import Action, can, held_roles, scope
from cases import events
from cases.choices import CaseStatus, ClockKind, ClockStatus
from cases.deadlines.clocks import OFFICE_TZ
from cases.filters import CaseFilter
from cases.models import Case, Decision
from cases.selectors.lists import case_list_filter
from cases.services.undertakings import office_today

from .forms_campaign import ConcludedForm
from .models import (
    BROKEN_COMMITMENTS,
    OPEN_STATUSES,
    Campaign,
    FollowUp,
    FollowUpStatus,
    Rating,
    Result,
    Risk,
    Trigger,
)
from .schedule import SCHEDULE_LOCK, followups_clocks_start

# A case is concluded once its handling has an answer that stands (DECISIONS F12): answered
# on the spot, replied, reviewed, re-reviewed (final) or closed. Not "not accepted": that
# case was never handled, and a follow-up has nothing to ask about.
CONCLUDED_STATUSES = (CaseStatus.ANSWERED, CaseStatus.REPLIED, CaseStatus.REVIEWED,
                      CaseStatus.FINAL, CaseStatus.CLOSED)
# At most this many cases in one campaign: a township's quarter, not a county's decade.
CAMPAIGN_LIMIT = 5000
# The day to finish by: after today, at most this many days ahead.
CAMPAIGN_MAX_DAYS = 90
# The selection's keys: the case list's filters (not its sort) and the conclusion days.
CONCLUDED_KEYS = tuple(ConcludedForm.base_fields)
SELECTION_KEYS = tuple(name for name in CaseFilter.base_filters if name != "sort") + CONCLUDED_KEYS


def conclusion_day():
    """The day a case was concluded, read from the record (DECISIONS F12): the office's day
    of ``closed_at`` when set (answered on the spot, closed, re-review decided); else the
    latest written decision still standing, its delivery day, or its issue day before it is
    delivered. The one definition: the filter and the page both use it."""
    latest = (Decision.objects.filter(case=OuterRef("pk"), superseded_at__isnull=True)
              .order_by("-issued_at", "-pk")
              .annotate(day=Coalesce("delivered_on", TruncDate("issued_at", tzinfo=OFFICE_TZ)))
              .values("day")[:1])
    return Coalesce(TruncDate("closed_at", tzinfo=OFFICE_TZ),
                    Subquery(latest, output_field=DateField()), output_field=DateField())


# --- The selection -------------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """The case list's filterset and the conclusion days, bound to what was asked."""

    data: dict[str, str]  # the selection as asked, empty values dropped (kept on the campaign)
    filterset: CaseFilter
    concluded: ConcludedForm

    @property
    def errors(self) -> list[str]:
        """Each filter that could not be used, with its label; empty when all could."""
        self.filterset.is_valid()
        problems = []
        for form in (self.filterset.form, self.concluded):
            for name, messages in form.errors.items():
                label = form.fields[name].label if name in form.fields else ""
                problems += [f"{label}: {message}" if label else str(message)
                             for message in messages]
        return problems

    @property
    def cases(self) -> QuerySet[Case]:
        """The concluded cases the filters select (valid filters only; check ``errors``)."""
        rows = self.filterset.qs.filter(status__in=CONCLUDED_STATUSES)
        start, end = (self.concluded.cleaned_data.get(key) for key in CONCLUDED_KEYS)
        if start or end:
            rows = rows.annotate(concluded_on=conclusion_day())
            rows = rows.filter(concluded_on__gte=start) if start else rows
            rows = rows.filter(concluded_on__lte=end) if end else rows
        return rows


def campaign_selection(*, user: User, filters: Mapping[str, Any] | None,
                       now: datetime | None = None) -> Selection:
    """Bind the case list's filters (scoped to the cases ``user`` may see) and the
    conclusion days to ``filters``; unknown keys are dropped."""
    filters = filters or {}
    asked = {key: str(filters.get(key, "") or "").strip() for key in SELECTION_KEYS}
    data = {key: value for key, value in asked.items() if value}
    concluded = ConcludedForm({key: data.get(key, "") for key in CONCLUDED_KEYS})
    concluded.is_valid()
    filterset = case_list_filter(user=user, filters=data, now=now)
    return Selection(data=data, filterset=filterset, concluded=concluded)


def campaign_candidates(*, user: User, filters: Mapping[str, Any] | None,
                        now: datetime | None = None) -> QuerySet[Case]:
    """The concluded cases ``user`` may see that the case list's ``filters`` and the
    optional conclusion days select (DECISIONS F12); ValidationError for a bad filter."""
    selection = campaign_selection(user=user, filters=filters, now=now)
    if selection.errors:
        raise _filters_error(selection)
    return selection.cases


def _filters_error(selection: Selection) -> ValidationError:
    return ValidationError([ValidationError(problem, code="filters")
                            for problem in selection.errors])


@dataclass(frozen=True)
class Preview:
    matching: int  # concluded cases selected
    open: int  # of them, those with an open follow-up: skipped

    @property
    def to_make(self) -> int:
        return self.matching - self.open


def campaign_preview(cases: QuerySet[Case]) -> Preview:
    """How many cases a campaign over ``cases`` selects, and how many it skips; one query."""
    busy = FollowUp.objects.filter(case=OuterRef("pk"), status__in=OPEN_STATUSES)
    counts = cases.order_by().aggregate(matching=Count("pk"),
                                        open=Count("pk", filter=Exists(busy)))
    return Preview(matching=counts["matching"], open=counts["open"])


# --- Creating a campaign -------------------------------------------------------------------

# Each selected case's follow-up, if the database lets it in: not while another is open
# (``followup_one_open_per_case``), not twice a day (``followup_once_per_trigger``), and
# not while a follow-up clock still runs on the case (``one_live_clock_per_kind`` would
# refuse the whole batch at the clocks' insert).
_INSERT = """
INSERT INTO followup_followup (case_id, campaign_id, trigger, trigger_on, due_on, status,
                               created_at, version, result, commitments, recurrence_risk,
                               repeat_risk, pestering_risk, notes)
SELECT c.id, %(campaign)s, %(trigger)s, %(today)s, %(today)s, %(status)s, %(now)s, 1, '', '',
       '', false, false, ''
  FROM unnest(%(cases)s::bigint[]) AS c(id)
 WHERE NOT EXISTS (SELECT 1 FROM cases_deadline d WHERE d.case_id = c.id
                   AND d.kind = %(clock)s AND d.status = ANY(%(live)s))
ON CONFLICT DO NOTHING
RETURNING id, case_id
"""


@transaction.atomic
def campaign_create(*, actor: User, name: str, filters: Mapping[str, Any] | None,
                    finish_by: date | None, at: datetime | None = None) -> Campaign:
    """Give every concluded case the filters select a follow-up, to be finished by
    ``finish_by``, in one step and a fixed number of statements (DECISIONS F12)."""
    at = at or timezone.now()
    if not can(actor, Action.CAMPAIGN_CREATE):
        raise PermissionDenied(_("A 回头看 campaign is started by a supervisor."))
    today = office_today(at)
    name = _check_fields(name=name, finish_by=finish_by, today=today)
    with connection.cursor() as cursor:  # the scheduler's lock: one writer of follow-ups
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [SCHEDULE_LOCK])
    selection = campaign_selection(user=actor, filters=filters, now=at)
    if selection.errors:
        raise _filters_error(selection)
    ids = list(selection.cases.order_by("pk").values_list("pk", flat=True)[:CAMPAIGN_LIMIT + 1])
    _check_count(len(ids))
    campaign = Campaign.objects.create(name=name, unit=_campaign_unit(actor),
                                       filters=selection.data, finish_by=finish_by,
                                       created_by=actor, created_at=at, selected=len(ids),
                                       made=0)
    created = _followups_insert(campaign, ids, today=today, at=at)
    if not created:
        raise ValidationError(_("Every case selected already has an open follow-up, or was "
                                "given one by a campaign today: no campaign was started."),
                              code="nothing_made")
    followups_clocks_start(created, now=at, days=(finish_by - today).days)
    events.record(*[events.follow_up_campaigned(case=row.case_id, actor=actor, at=at,
                                                follow_up=row) for row in created])
    campaign.made = len(created)
    campaign.save(update_fields=["made"])
    return campaign


def _check_fields(*, name: str, finish_by: date | None, today: date) -> str:
    errors = {}
    name = (name or "").strip()
    limit = Campaign._meta.get_field("name").max_length
    if not name:
        errors["name"] = ValidationError(_("Give the campaign a name."), code="required")
    elif len(name) > limit:
        errors["name"] = ValidationError(_("Keep the name to %(limit_value)d characters."),
                                         code="max_length", params={"limit_value": limit})
    if finish_by is None:
        errors["finish_by"] = ValidationError(
            _("Say by which day the follow-ups are to be finished."), code="required")
    elif finish_by <= today:
        errors["finish_by"] = ValidationError(_("The day to finish by must be after today."),
                                              code="finish_by_past")
    elif (finish_by - today).days > CAMPAIGN_MAX_DAYS:
        errors["finish_by"] = ValidationError(
            _("The day to finish by is at most %(days)d days from today."),
            code="finish_by_far", params={"days": CAMPAIGN_MAX_DAYS})
    if errors:
        raise ValidationError(errors)
    return name


def _check_count(count: int) -> None:
    if not count:
        raise ValidationError(_("No concluded case you may see matches these filters."),
                              code="none")
    if count > CAMPAIGN_LIMIT:
        raise ValidationError(
            _("More than %(limit)d cases match, and a campaign takes at most %(limit)d. Narrow "
              "the filters, for example by unit, category or the days concluded."),
            code="too_many", params={"limit": CAMPAIGN_LIMIT})


def _campaign_unit(actor: User) -> OrgUnit:
    """The unit the campaign belongs to: where the actor is a supervisor; of several, the
    highest (the shortest path, then the first), whose view covers the others."""
    paths = held_roles(actor)[Role.SUPERVISOR]
    return OrgUnit.objects.get(path=min(paths, key=lambda path: (len(path), path)))


def _followups_insert(campaign: Campaign, ids: list[int], *, today: date,
                      at: datetime) -> list[FollowUp]:
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, {"campaign": campaign.pk, "trigger": Trigger.CAMPAIGN,
                                 "today": today, "status": FollowUpStatus.SCHEDULED, "now": at,
                                 "cases": ids, "clock": ClockKind.FOLLOW_UP,
                                 "live": [ClockStatus.OPEN, ClockStatus.PAUSED]})
        return [FollowUp(id=pk, case_id=case_id, campaign=campaign, trigger=Trigger.CAMPAIGN,
                         trigger_on=today, due_on=today, status=FollowUpStatus.SCHEDULED,
                         created_at=at)
                for pk, case_id in cursor.fetchall()]


# --- Reading a campaign --------------------------------------------------------------------

def campaigns_visible(*, user: User) -> QuerySet[Campaign]:
    """The campaigns of the units ``user`` follows as supervisor, head or clerk, newest
    first, each with its count of follow-ups done (DECISIONS F12)."""
    rows = scope(user, Action.CAMPAIGN_VIEW, Campaign.objects.select_related("unit",
                                                                             "created_by"))
    return rows.annotate(done=Count("follow_ups", filter=Q(
        follow_ups__status=FollowUpStatus.DONE))).order_by("-created_at", "-pk")


def campaign_progress(campaign: Campaign, *, now: datetime | None = None) -> dict[str, int]:
    """The campaign's follow-ups by state: scheduled, in progress, done, cancelled; of the
    open ones, those unassigned and those past their clock's due time; of the done, those
    unreachable; in one query (DECISIONS F12)."""
    now = now or timezone.now()
    is_open = Q(status__in=OPEN_STATUSES)
    counts = FollowUp.objects.filter(campaign=campaign).aggregate(
        total=Count("pk"),
        **{status: Count("pk", filter=Q(status=status)) for status in FollowUpStatus.values},
        open=Count("pk", filter=is_open),
        unassigned=Count("pk", filter=is_open & Q(assignee__isnull=True)),
        overdue=Count("pk", filter=is_open & Q(deadline__due_at__lte=now)),
        unreachable=Count("pk", filter=Q(status=FollowUpStatus.DONE,
                                         result=Result.UNREACHABLE)),
    )
    counts["percent_done"] = _percent(counts[FollowUpStatus.DONE], counts["total"])
    return counts


# The by-unit figures (DECISIONS F12): each counts the campaign's follow-ups of the unit.
_DONE = Q(status=FollowUpStatus.DONE)
SUMMARY_FIGURES = {
    "cases": Q(),
    "done": _DONE,
    "satisfied": _DONE & Q(satisfaction__rating=Rating.SATISFIED),
    "basically_satisfied": _DONE & Q(satisfaction__rating=Rating.BASICALLY_SATISFIED),
    "dissatisfied": _DONE & Q(satisfaction__rating=Rating.DISSATISFIED),
    "unreachable": _DONE & Q(result=Result.UNREACHABLE),
    "commitments_broken": _DONE & Q(commitments__in=BROKEN_COMMITMENTS),
    "high_risk": _DONE & Q(recurrence_risk=Risk.HIGH),
}


def campaign_summary(campaign: Campaign) -> list[dict[str, Any]]:
    """The campaign's outcomes by the unit that handled each case (the lead unit; the
    petition office for a case answered before routing), in the tree's order; one query."""
    rows = (FollowUp.objects.filter(campaign=campaign)
            .annotate(unit_pk=Coalesce("case__lead_unit", "case__registered_unit"),
                      unit_name=Coalesce("case__lead_unit__name",
                                         "case__registered_unit__name"),
                      unit_path=Coalesce("case__lead_unit__path",
                                         "case__registered_unit__path"))
            .values("unit_pk", "unit_name", "unit_path")
            .annotate(**{figure: Count("pk", filter=condition)
                         for figure, condition in SUMMARY_FIGURES.items()})
            .order_by("unit_path"))
    return list(rows)


def summary_total(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The by-unit figures added up, for the table's last row."""
    return {figure: sum(row[figure] for row in rows) for figure in SUMMARY_FIGURES}


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0
