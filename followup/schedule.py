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
from cases.deadlines.clocks import OFFICE_TZ, office_calendar
from cases.services.undertakings import office_today

from .models import FollowUp, FollowUpStatus, Trigger

_LOCK = "followup:schedule"

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
ON CONFLICT DO NOTHING
RETURNING id, case_id, rule_id, trigger, trigger_on, due_on
"""


@transaction.atomic
def followups_schedule(*, now: datetime) -> list[FollowUp]:
    """Create the follow-ups whose rule day has come (DECISIONS F1-F3); return them."""
    today = office_today(now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_LOCK])
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
                                 "due": list(columns[4])})
        created = [FollowUp(id=pk, case_id=case_id, rule_id=rule_id, trigger=trigger,
                            trigger_on=trigger_on, due_on=due_on)
                   for pk, case_id, rule_id, trigger, trigger_on, due_on in cursor.fetchall()]
    if created:
        events.record(*[events.follow_up_scheduled(case=row.case_id, at=now, follow_up=row)
                        for row in created])
    return created


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
