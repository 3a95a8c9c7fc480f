"""The clocks of grid reports, mediation cases and agreement terms (``DisputeClock``).

The same rules as a case's clocks, from the same places: the length and unit from the
``DeadlineRule`` of the kind (edited in the admin), the due day by the office calendar's
counting rule (``count_due``: the start day not counted, a last day on a rest day moved),
and the next ladder level from the same ``LadderStep`` rows and firing rule
(``escalation_schedule``). Only the owner differs: a report, a mediation case or a term
instead of a case, so these rows have their own table and their own sweep
(``mediation/escalation.py``). Each service writes one ``MediationEvent``.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from cases.choices import ClockKind, ClockStatus
from cases.deadlines.calendar import Unit
from cases.deadlines.clocks import OFFICE_TZ, ClockError, count_due, office_calendar
from cases.deadlines.schedule import escalation_schedule, ladder_active
from cases.models import DeadlineRule

from .models import (
    DisputeClock,
    DisputeEscalation,
    EventKind,
    GridReport,
    MediationCase,
    MediationEvent,
    Term,
)

Owner = GridReport | MediationCase | Term


def _owner_field(owner: Owner) -> str:
    return {GridReport: "report", MediationCase: "mediation", Term: "term"}[type(owner)]


def _local_day(instant: datetime) -> date:
    return timezone.localtime(instant, OFFICE_TZ).date()


def dispute_clocks_schedule(clocks: list[DisputeClock]) -> None:
    """Set each clock's next ladder level and when, from the ladder and what it fired."""
    ids = [clock.pk for clock in clocks if clock.pk is not None]
    fired: dict[int, set[int]] = {}
    for clock_id, level in (DisputeEscalation.objects.filter(clock_id__in=ids)
                            .values_list("clock_id", "level")):
        fired.setdefault(clock_id, set()).add(level)
    escalation_schedule(clocks, ladder=ladder_active(), fired=fired,
                        calendar=office_calendar(), tz=OFFICE_TZ)


@transaction.atomic
def dispute_clocks_refresh() -> int:
    """Recount every live clock's due day on the office calendar as it is now, and its next
    ladder level from the ladder as it is now: the nightly run after an administrator edited
    the calendar or the ladder (M-clocks). Returns how many changed."""
    fields = ["due_on", "due_at", "provisional", "next_level", "next_fire_at"]
    clocks = list(DisputeClock.objects.select_for_update()
                  .filter(status__in=(ClockStatus.OPEN, ClockStatus.PAUSED)).order_by("pk"))
    before = {clock.pk: tuple(getattr(clock, name) for name in fields) for clock in clocks}
    calendar = office_calendar()
    for clock in clocks:
        due = count_due(calendar, starts_on=clock.starts_on, length=clock.length, paused_days=0,
                        extension_days=0, unit=clock.unit)
        clock.due_on, clock.due_at = due.due, due.ends_at(OFFICE_TZ)
        clock.provisional = due.provisional
    dispute_clocks_schedule(clocks)
    changed = [clock for clock in clocks
               if tuple(getattr(clock, name) for name in fields) != before[clock.pk]]
    DisputeClock.objects.bulk_update(changed, fields, batch_size=1000)
    return len(changed)


@transaction.atomic
def dispute_clock_start(*, owner: Owner, kind: ClockKind | str, start: datetime, at: datetime,
                        actor: User | None = None, days: int | None = None) -> DisputeClock:
    """Start a clock of the rule's length on ``owner`` (or ``days`` calendar days: a term's
    own deadline); the start day is not counted. A second live clock of a kind is refused."""
    rule = DeadlineRule.objects.filter(kind=kind).first()
    if rule is None:
        raise ClockError(_("No deadline rule is set for the %(kind)s clock.")
                         % {"kind": ClockKind(kind).label}, code="no_rule")
    length, unit = (rule.length, rule.unit) if days is None else (days, Unit.CALENDAR)
    starts_on = _local_day(start)
    due = count_due(office_calendar(), starts_on=starts_on, length=length, paused_days=0,
                    extension_days=0, unit=unit)
    clock = DisputeClock(**{_owner_field(owner): owner}, kind=kind, starts_on=starts_on,
                         length=length, unit=unit, is_window=rule.is_window, due_on=due.due,
                         due_at=due.ends_at(OFFICE_TZ), provisional=due.provisional)
    dispute_clocks_schedule([clock])
    try:
        with transaction.atomic():
            clock.save(force_insert=True)
    except IntegrityError as exc:
        raise ClockError(_("A %(kind)s clock is already running here.")
                         % {"kind": ClockKind(kind).label}, code="already_running") from exc
    _event(owner, actor=actor, at=at, action="started", clock=clock)
    return clock


@transaction.atomic
def dispute_clock_meet(*, owner: Owner, kind: ClockKind | str, at: datetime,
                       actor: User | None = None) -> DisputeClock | None:
    """Stop the live clock of ``kind`` as met (a window run out: lapsed); None if none runs."""
    return _close(owner, kind, ClockStatus.MET, at=at, actor=actor)


@transaction.atomic
def dispute_clock_cancel(*, owner: Owner, kind: ClockKind | str, at: datetime,
                         actor: User | None = None) -> DisputeClock | None:
    """Stop the live clock of ``kind`` unmet (the matter went elsewhere); None if none runs."""
    return _close(owner, kind, ClockStatus.CANCELLED, at=at, actor=actor)


def live_clock(owner: Owner, kind: ClockKind | str) -> DisputeClock | None:
    return (DisputeClock.objects.filter(**{_owner_field(owner): owner}, kind=kind,
                                        status__in=(ClockStatus.OPEN, ClockStatus.PAUSED))
            .first())


def _close(owner: Owner, kind: str, status: str, *, at: datetime,
           actor: User | None) -> DisputeClock | None:
    clock = (DisputeClock.objects.select_for_update()
             .filter(**{_owner_field(owner): owner}, kind=kind,
                     status__in=(ClockStatus.OPEN, ClockStatus.PAUSED)).first())
    if clock is None:
        return None
    if clock.is_window and at >= clock.due_at:  # a right that ran out unused
        status = ClockStatus.LAPSED
    clock.status, clock.closed_at = status, at
    clock.next_level = clock.next_fire_at = None
    clock.save(update_fields=["status", "closed_at", "next_level", "next_fire_at"])
    _event(owner, actor=actor, at=at, action=status, clock=clock)
    return clock


def _event(owner: Owner, *, actor: User | None, at: datetime, action: str,
           clock: DisputeClock) -> None:
    report = owner if isinstance(owner, GridReport) else None
    mediation = (owner if isinstance(owner, MediationCase)
                 else owner.agreement.case if isinstance(owner, Term) else None)
    MediationEvent.objects.create(
        report=report, mediation=mediation, kind=EventKind.CLOCK, actor=actor, at=at,
        details={"clock": clock.pk, "kind": clock.kind, "action": action,
                 "due_on": clock.due_on.isoformat(),
                 **({"term": owner.pk} if isinstance(owner, Term) else {})})
