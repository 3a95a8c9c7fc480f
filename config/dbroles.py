"""Two database roles (issue 9): the owner migrates, the runtime role runs everything else.

等保 level 3 asks that the audit records be protected from deletion, change and
overwriting (GB/T 22239-2019, 8.1.4.3 安全审计 c). The application itself is the
likeliest way to reach them, so the role it runs as cannot:

* the **owning role** (``DATABASE_OWNER_URL``) owns the tables and is used by
  ``migrate`` alone (``ops/management/commands/migrate.py`` switches to it);
* the **runtime role** (``DATABASE_URL``) is what the web, the Celery workers and beat,
  and every other management command (``shell`` and ``dbshell`` included) connect as. It
  may read and write the working tables, but on the audit tables below it may only
  INSERT and SELECT: no UPDATE, DELETE or TRUNCATE. Not owning the tables, it cannot
  drop or disable their triggers either.

The grants are made by :func:`grant_runtime` after every ``migrate``, so a new table is
covered the moment it exists. Privileges bind the runtime role only; the triggers of
``accounts/migrations/0005_audit_append_only.py`` refuse UPDATE, DELETE and TRUNCATE of
the same tables to the owner too, whatever ``SET pgtrigger.ignore`` says, and the HMAC
chain of ``cases/audit_chain.py`` shows a change made where neither holds (a database
superuser, a restored backup).

Readings, for the office to check:

* **What counts as an audit record.** The case events (every change and every reveal
  of personal data), the admin's change log and the login log (sign-ins, sign-outs and
  failures): the records GB/T 22239-2019 8.1.4.3 a) asks of "重要的用户行为和重要安全事件".
  The lockout counters (``axes_accessattempt``) are state, not record: the security
  administrator resets them, and each failure stays in the failure log.
* **How long they are kept.** At least 180 days (网络安全法 Art.21(3): network logs kept
  "不少于六个月"; GB/T 22239-2019 8.1.4.3 d)). The application deletes none, ever, and
  offers no purge: the database refuses one. Archiving rows older than an office's own
  retention period is a database administrator's work as the owner, outside the
  application, and must leave the newest 180 days in place. The audit administrator
  exports any period (the admin's audit pages, `accounts/admin/audit.py`).
* **The sign-out time** on a login's row is the one change allowed: it completes the
  record rather than altering it.

``DATABASE_RUNTIME_ROLE`` names the runtime role when the connection itself is the
owner's (the test runner, which creates its own databases); it defaults to the user of
``DATABASE_URL`` when ``DATABASE_OWNER_URL`` is set. With neither, there is one role and
nothing to grant: ``check --deploy`` warns (``ops.W001``).
"""

from __future__ import annotations

from psycopg2 import sql

# The audit trail: case events, the admin's change log, the login log; and the records
# of the follow-ups (every lookup of the public page, the ratings, every attempt to reach
# a petitioner).
AUDIT_TABLES = ("cases_caseevent", "django_admin_log", "axes_accesslog",
                "axes_accessfailurelog", "followup_queryattempt", "followup_satisfaction",
                "followup_followupattempt", "mediation_mediationevent")
# axes records the sign-out time on the login's row: that one column may be set.
AUDIT_UPDATABLE_COLUMNS = {"axes_accesslog": ("logout_time",)}
# Read, never written, at run time.
READ_ONLY_TABLES = ("django_migrations",)
# PostgreSQL 17 lets a non-owner VACUUM and ANALYZE a table it holds MAINTAIN on; the
# bulk seeder ANALYZEs what it wrote, or the planner would guess at a million rows. On the
# audit tables too: MAINTAIN changes no row (it also allows LOCK TABLE, which stalls
# writers; a role that could do that could as well stop writing events).
MAINTAIN_SINCE = 170000


def grant_runtime(connection, role: str) -> None:
    """Give ``role`` what the application needs at run time, and nothing on the audit rows.

    Idempotent; run as the owner after ``migrate``. Revokes before it grants the one
    column, so a grant made by hand earlier does not survive.
    """
    name = sql.Identifier(role)
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}")
        .format(name),
        sql.SQL("REVOKE TRUNCATE, TRIGGER ON ALL TABLES IN SCHEMA public FROM {}").format(name),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
    ]
    for table in AUDIT_TABLES:
        statements.append(sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}")
                          .format(sql.Identifier(table), name))
        for column in AUDIT_UPDATABLE_COLUMNS.get(table, ()):
            statements.append(sql.SQL("GRANT UPDATE ({}) ON {} TO {}").format(
                sql.Identifier(column), sql.Identifier(table), name))
    for table in READ_ONLY_TABLES:
        statements.append(sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {} FROM {}")
                          .format(sql.Identifier(table), name))
    if connection.pg_version >= MAINTAIN_SINCE:
        statements.append(sql.SQL("GRANT MAINTAIN ON ALL TABLES IN SCHEMA public TO {}")
                          .format(name))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def runtime_role_exists(connection, role: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        return cursor.fetchone() is not None
