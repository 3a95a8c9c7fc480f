"""On the day a commitment or a leader's instruction falls due, tell the lead unit, once.

Commitments and instructions are clocks of the case's own making (``OwnClock``), not
statutory ones: they have no ladder. The sweep tells the lead unit's handlers and heads
at 00:00 of the due day, while the row is still open (cases/DECISIONS.md, "Commitments
and leaders' instructions"). Set-based like the ladder's sweep: per kind, one UPDATE
marks the rows due (``warned_at``, skipping rows another sweep holds) and returns them,
one query reads the units' staff, one bulk write notifies: a fixed number of statements
whatever the number of rows. The mark is what makes it once: a rerun finds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction

from accounts.choices import Role
from accounts.selectors import unit_staff

# What each kind is called in SQL, and the message its warning sends.
_KINDS = (("cases_commitment", "commitment.due"), ("cases_instruction", "instruction.due"))
BATCH = 5000


def undertakings_warn(*, now: datetime) -> int:
    """Tell the lead units of the open commitments and instructions due today or before
    that they have not been told of; return how many rows were marked."""
    from notifications.services import NotificationDraft, notify_bulk

    # 24:00 of the due day is ``due_at``: the day has begun once ``due_at - 1 day <= now``.
    until = now + timedelta(days=1)
    marked = 0
    for table, message in _KINDS:
        while True:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(_MARK.format(table=table), [until, BATCH, now])
                    rows = cursor.fetchall()  # (case id, number, lead unit, due day)
                staff = unit_staff(unit_ids={unit for _c, _n, unit, _d in rows if unit},
                                   roles=(Role.HANDLER, Role.UNIT_HEAD))
                notify_bulk([
                    NotificationDraft(user_id=user, case_id=case_id, kind="undertaking",
                                      message=message, url=f"/cases/{number}/", mail=True,
                                      params={"case_number": number,
                                              "due_on": due_on.isoformat()})
                    for case_id, number, unit, due_on in rows
                    for user in sorted(staff.get(unit, ()))], at=now)
            marked += len(rows)
            if len(rows) < BATCH:
                break
    return marked


# Rows open, not yet told, whose day has begun; SKIP LOCKED: another sweep's are its own.
_MARK = """
    WITH due AS (
        SELECT id FROM {table}
         WHERE done_at IS NULL AND warned_at IS NULL AND due_at <= %s
         ORDER BY due_at, id
         LIMIT %s
           FOR UPDATE SKIP LOCKED)
    UPDATE {table} AS t SET warned_at = %s
      FROM due, cases_case AS c
     WHERE t.id = due.id AND c.id = t.case_id
    RETURNING t.case_id, c.number, c.lead_unit_id, t.due_on
"""
