"""The follow-up scheduler: every case whose rule day has come gets its follow-up, at once.

Set-based, like the escalation sweep (STYLE.md): one query finds every trigger without a
follow-up yet and the most specific active rule for it; the due days are counted in Python
on the office calendar (a few distinct trigger days and rules, each counted once); one
``INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING`` writes the follow-ups,
and one ``bulk_create`` their ``follow_up_scheduled`` events, in the same transaction. The
statement count does not grow with the number due. A rerun, or two workers at once, insert
nothing twice: the unique (case, trigger, trigger day) key refuses the second row, and the
advisory lock makes the second run wait for the first and then find nothing to do.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection, transaction

from cases import events
from cases.choices import ClockKind
from cases.deadlines.clocks import OFFICE_TZ, clocks_start_bulk, office_calendar
from cases.services.undertakings import office_today

from .models import FollowUp, FollowUpStatus, Trigger

# One writer of follow-ups at a time: the scheduler and the campaigns take this lock.
SCHEDULE_LOCK = "followup:schedule"

# Each trigger with its day (the office's day, Asia/Shanghai), one row per case and trigger
# (DECISIONS F1): the latest written decision delivered and still standing, on a case that
# rests on it (not back in handling or under review); the on-the-spot answer; the closing.
# Of the active rules for the trigger, the most specific (deepest category, then a named
# urgency, then the oldest) is the case's, whether or not its day has come: a general rule
# never stands in for a specific one that is not yet due.
_CANDIDATES = """
WITH since AS (
    -- No rule reaches back before its first day: older cases are not scanned at all.
    SELECT min(applies_from) AS day FROM followup_followuprule WHERE active
), triggers AS (
    SELECT d.case_id, %(reply)s AS trigger, max(d.delivered_on) AS trigger_on
      FROM cases_decision d JOIN cases_case c ON c.id = d.case_id
     WHERE d.delivered_on >= (SELECT day FROM since) AND d.superseded_at IS NULL
       AND c.status IN ('replied', 'reviewed', 'final', 'closed')
     GROUP BY d.case_id
    UNION ALL
    SELECT c.id, %(answered)s, (c.closed_at AT TIME ZONE %(tz)s)::date
      FROM cases_case c WHERE c.status = 'answered'
       AND c.closed_at >= (SELECT day FROM since)::timestamp AT TIME ZONE %(tz)s
    UNION ALL
    SELECT c.id, %(closed)s, (c.closed_at AT TIME ZONE %(tz)s)::date
      FROM cases_case c WHERE c.status = 'closed'
       AND c.closed_at >= (SELECT day FROM since)::timestamp AT TIME ZONE %(tz)s
), chosen AS (
    SELECT DISTINCT ON (t.case_id, t.trigger)
           t.case_id, t.trigger, t.trigger_on, r.id AS rule_id, r.days, r.unit,
           r.applies_from
      FROM triggers t
      JOIN cases_case c ON c.id = t.case_id
      JOIN cases_category cat ON cat.id = c.category_id
      JOIN followup_followuprule r ON r.trigger = t.trigger AND r.active
           AND (r.urgency = '' OR r.urgency = c.urgency)
      LEFT JOIN cases_category rc ON rc.id = r.category_id
     WHERE r.category_id IS NULL OR cat.path LIKE rc.path || '%%'
     ORDER BY t.case_id, t.trigger, length(rc.path) DESC NULLS LAST, r.urgency = '', r.id
)
SELECT case_id, trigger, trigger_on, rule_id, days, unit FROM chosen ch
 WHERE trigger_on >= applies_from AND trigger_on + days <= %(today)s
   AND NOT EXISTS (SELECT 1 FROM followup_followup f WHERE f.case_id = ch.case_id
                   AND f.trigger = ch.trigger AND f.trigger_on = ch.trigger_on)
"""

_INSERT = """
INSERT INTO followup_followup (case_id, rule_id, trigger, trigger_on, due_on, status,
                               created_at, version, result, commitments, recurrence_risk,
                               repeat_risk, pestering_risk, notes)
SELECT case_id, rule_id, trigger, trigger_on, due_on, %(status)s, %(now)s, 1, '', '', '',
       false, false, ''
  FROM unnest(%(cases)s::bigint[], %(rules)s::bigint[], %(triggers)s::varchar[],
              %(triggered)s::date[], %(due)s::date[])
       AS new(case_id, rule_id, trigger, trigger_on, due_on)
 -- A follow-up clock still running (one left by a corrected follow-up) waits, rather than
 -- refuse the whole run at the clocks' insert (one_live_clock_per_kind).
 WHERE NOT EXISTS (SELECT 1 FROM cases_deadline d WHERE d.case_id = new.case_id
                   AND d.kind = %(clock)s AND d.status IN ('open', 'paused'))
ON CONFLICT DO NOTHING
RETURNING id, case_id, rule_id, trigger, trigger_on, due_on
"""


@transaction.atomic
def followups_schedule(*, now: datetime) -> list[FollowUp]:
    """Create the follow-ups whose rule day has come (DECISIONS F1-F3); return them."""
    today = office_today(now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [SCHEDULE_LOCK])
        cursor.execute(_CANDIDATES, {"reply": Trigger.REPLY_DELIVERED,
                                     "answered": Trigger.ANSWERED, "closed": Trigger.CLOSED,
                                     "tz": str(OFFICE_TZ), "today": today})
        candidates = cursor.fetchall()
    due = _due_days(candidates, today)
    if not due:
        return []
    columns = list(zip(*due, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, {"status": FollowUpStatus.SCHEDULED, "now": now,
                                 "cases": list(columns[0]), "rules": list(columns[1]),
                                 "triggers": list(columns[2]), "triggered": list(columns[3]),
                                 "due": list(columns[4]), "clock": ClockKind.FOLLOW_UP})
        created = [FollowUp(id=pk, case_id=case_id, rule_id=rule_id, trigger=trigger,
                            trigger_on=trigger_on, due_on=due_on)
                   for pk, case_id, rule_id, trigger, trigger_on, due_on in cursor.fetchall()]
    if created:
        events.record(*[events.follow_up_scheduled(case=row.case_id, at=now, follow_up=row)
                        for row in created])
        followups_clocks_start(created, now=now)
    return created


_LINK_CLOCKS = """
UPDATE followup_followup AS f SET deadline_id = v.deadline_id
  FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, deadline_id)
 WHERE f.id = v.id
"""


def followups_clocks_start(created: list[FollowUp], *, now: datetime,
                           days: int | None = None) -> None:
    """Start each new follow-up's own clock (DECISIONS F10): the follow-up rule's period
    from the day it is made, or ``days`` calendar days (a campaign's day to finish by),
    escalated by the ladder like any other; two statements and the events' for all."""
    clocks = clocks_start_bulk(case_ids=[row.case_id for row in created],
                               kind=ClockKind.FOLLOW_UP, start=now, at=now, days=days)
    for row in created:
        row.deadline = clocks[row.case_id]
    with connection.cursor() as cursor:
        cursor.execute(_LINK_CLOCKS, [[row.pk for row in created],
                                      [row.deadline_id for row in created]])


def _due_days(candidates: list[tuple], today: date) -> list[tuple]:
    """Count each rule day on the office calendar (DECISIONS F2); keep those come."""
    calendar = office_calendar()
    counted: dict[tuple, date] = {}
    due = []
    for case_id, trigger, trigger_on, rule_id, days, unit in candidates:
        key = (trigger_on, days, unit)
        if key not in counted:
            counted[key] = calendar.due_date(trigger_on, days, unit).due
        if counted[key] <= today:
            due.append((case_id, rule_id, trigger, trigger_on, counted[key]))
    return due
