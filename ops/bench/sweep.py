"""Time the escalation sweep on 100,000 clocks crossing a level at once (issue 8).

Everything here runs inside one transaction that is rolled back at the end: the bench
adds reply clocks to cases of 城关镇 (the demo township with a handler and a head), all
due the same day and all reaching level 1 (the warning to the lead unit) at the same
instant, then

* ``sweep_fire_100k_s``: ``escalation_sweep`` fires them: escalation rows, audit rows,
  notifications (two per clock: the handler and the head), in batches of SWEEP_BATCH;
* ``sweep_statements_per_batch``: the statements one batch costs (constant);
* ``sweep_bare_sql_100k_s``: the same rows written by bare ``INSERT … SELECT``s on the
  same clocks (the floor: the audit rows linked to their cases' heads, but with a stand-in
  for the MAC, which needs the key), and ``sweep_ratio``, the first over the second;
* ``sweep_idle_ms``: a sweep a minute before, with the 100,000 clocks waiting: nothing due.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import OrgUnit
from cases.deadlines.clocks import OFFICE_TZ, office_calendar
from cases.deadlines.schedule import fire_at
from cases.services.escalation import SWEEP_BATCH, escalation_sweep

CLOCKS = 100_000
TOWNSHIP = "341122100"
DUE_ON = date(2030, 6, 28)  # a Friday far from the seeded clocks; level 1 is 3 working days before


class _Rollback(Exception):
    """Raised to leave the bench's transaction without keeping anything."""


def bench_sweep(*, line: Callable[[str, object, str], None], err: Callable[[str], None],
                clocks: int = CLOCKS, idle_runs: int = 20) -> None:
    due_at = datetime.combine(DUE_ON + timedelta(days=1), datetime.min.time(), tzinfo=OFFICE_TZ)
    warn_at = fire_at(-3, due_on=DUE_ON, due_at=due_at, calendar=office_calendar(), tz=OFFICE_TZ)
    township = OrgUnit.objects.get(code=TOWNSHIP)
    timings: dict[str, float] = {}

    # The sweep, then the idle probe, on one set of clocks.
    try:
        with transaction.atomic():
            added = _add_clocks(township.pk, clocks, due_at=due_at, warn_at=warn_at)
            err(f"sweep: {added:,} reply clocks of {TOWNSHIP} due {DUE_ON}, warned at {warn_at}")
            idle = []
            for _ in range(idle_runs):
                started = time.perf_counter()
                escalation_sweep(now=warn_at - timedelta(minutes=1))
                idle.append((time.perf_counter() - started) * 1000)
            timings["idle_ms"] = statistics.median(idle)
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                report = escalation_sweep(now=warn_at)
                timings["fire_s"] = time.perf_counter() - started
            statements = [q for q in captured.captured_queries
                          if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
            timings["per_batch"] = (len(statements) - 1) / max(report.batches, 1)  # less ladder
            timings["fired"] = report.total
            raise _Rollback
    except _Rollback:
        pass

    # The same rows by bare SQL, on the same clocks.
    try:
        with transaction.atomic():
            _add_clocks(township.pk, clocks, due_at=due_at, warn_at=warn_at)
            started = time.perf_counter()
            with connection.cursor() as cursor:
                for statement in _BARE_SQL:
                    cursor.execute(statement, {"now": warn_at})
            timings["bare_s"] = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass

    line("sweep_clocks_fired", timings["fired"], "escalations")
    line("sweep_fire_100k_s", round(timings["fire_s"], 2), "s")
    line("sweep_statements_per_batch", round(timings["per_batch"], 1),
         f"statements (batches of {SWEEP_BATCH})")
    line("sweep_bare_sql_100k_s", round(timings["bare_s"], 2), "s")
    line("sweep_ratio", round(timings["fire_s"] / timings["bare_s"], 1), "x")
    line("sweep_idle_ms", round(timings["idle_ms"], 1), "ms")


def _add_clocks(township_id: int, count: int, *, due_at: datetime, warn_at: datetime) -> int:
    """Reply clocks on ``count`` cases of the township that have none running; every other
    clock's next escalation is set aside (in this rolled-back transaction), so the sweep
    measured fires these and nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_deadline SET next_fire_at = NULL "
                       "WHERE next_fire_at IS NOT NULL")
        cursor.execute("""
            INSERT INTO cases_deadline (case_id, kind, status, starts_on, length, unit, is_window,
                                        extension_days, paused_days, due_on, due_at, provisional,
                                        next_level, next_fire_at)
            SELECT c.id, 'reply', 'open', %(due_on)s::date - 60, 60, 'calendar', false, 0, 0,
                   %(due_on)s, %(due_at)s, false, 1, %(warn_at)s
              FROM cases_case c
             WHERE c.lead_unit_id = %(township)s
               AND NOT EXISTS (SELECT 1 FROM cases_deadline d WHERE d.case_id = c.id
                                AND d.kind = 'reply' AND d.status IN ('open', 'paused'))
             ORDER BY c.id
             LIMIT %(count)s
        """, {"due_on": DUE_ON, "due_at": due_at, "warn_at": warn_at, "township": township_id,
              "count": count})
        return cursor.rowcount


# The floor: the sweep's writes for level 1 of the waiting clocks, set-based, no Python.
# The audit rows link to their cases' heads as the sweep's do; their MAC is a stand-in of
# the same length (rolled back, never verified): an HMAC under a key the database does not
# hold is Python's work, and is what the sweep's figure has over this one for the chain.
_BARE_SQL = (
    """
    INSERT INTO cases_escalation (deadline_id, case_id, level, step_id, "offset", audiences,
                                  action, recipients, fire_at, fired_at)
    SELECT d.id, d.case_id, s.level, s.id, s."offset", s.audiences, s.action,
           coalesce((SELECT array_agg(ra.user_id ORDER BY ra.user_id)
                       FROM accounts_roleassignment ra
                      WHERE ra.unit_id = c.lead_unit_id AND ra.role IN ('handler', 'unit_head')),
                    '{}'),
           %(now)s, %(now)s
      FROM cases_deadline d
      JOIN cases_case c ON c.id = d.case_id
      JOIN cases_ladderstep s ON s.clock_kind = d.kind AND s.level = d.next_level
     WHERE d.next_fire_at <= %(now)s
    ON CONFLICT (deadline_id, level) DO NOTHING
    """,
    """
    INSERT INTO cases_caseevent (case_id, kind, actor_id, at, from_status, to_status, details,
                                 prev, mac)
    SELECT e.case_id, 'escalated', NULL, %(now)s, '', '',
           jsonb_build_object('deadline', e.deadline_id, 'clock', 'reply', 'level', e.level,
                              'offset', e."offset", 'action', e.action,
                              'audiences', to_jsonb(e.audiences),
                              'recipients', to_jsonb(e.recipients)),
           h.id, 'x1:' || repeat('0', 64)
      FROM cases_escalation e
      LEFT JOIN LATERAL (SELECT h.id FROM cases_caseevent h WHERE h.case_id = e.case_id
                          ORDER BY h.at DESC, h.id DESC LIMIT 1) AS h ON true
     WHERE e.fired_at = %(now)s
    """,
    """
    INSERT INTO notifications_notification (user_id, case_id, kind, message, params, url,
                                            created_at)
    SELECT r.user_id, e.case_id, 'escalation', 'escalation',
           jsonb_build_object('number', c.number, 'clock', 'reply', 'level', e.level),
           '/cases/' || c.number || '/', %(now)s
      FROM cases_escalation e
      JOIN cases_case c ON c.id = e.case_id
     CROSS JOIN LATERAL unnest(e.recipients) AS r(user_id)
     WHERE e.fired_at = %(now)s
    """,
    """
    UPDATE cases_deadline d SET next_level = 2, next_fire_at = d.due_at
     WHERE d.next_fire_at <= %(now)s
    """,
)
