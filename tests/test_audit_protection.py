"""An audit trail no one can erase: the runtime role's privileges and the owner's triggers.

Each test tries what an attacker with that role would try, on the real database. The
test runner connects as the owner (a superuser: it creates databases); ``SET LOCAL
ROLE`` makes the statement the runtime role's, as the web and the workers are.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.admin.models import ADDITION, LogEntry
from django.db import connection, transaction
from django.db.utils import InternalError, ProgrammingError
from django.utils import timezone

from cases import events
from cases.tests.factories import CaseFactory
from config.dbroles import AUDIT_TABLES
from followup.models import (
    FollowUp,
    FollowUpAttempt,
    FollowUpRule,
    Method,
    QueryAttempt,
    Rating,
    Satisfaction,
    Source,
    Trigger,
)
from mediation.models import EventKind as MediationEventKind
from mediation.models import MediationEvent

pytestmark = pytest.mark.django_db
ROOT = Path(settings.BASE_DIR)
RUNTIME = settings.DATABASE_RUNTIME_ROLE
REFUSED = (ProgrammingError, InternalError)  # permission denied / raised by the trigger
IGNORE_THEM_ALL = ",".join(f"{table}:{trigger}" for table in AUDIT_TABLES for trigger in
                           ("audit_append_only_row", "audit_append_only_update",
                            "audit_append_only_truncate"))


@pytest.fixture
def audit_rows(clerk):
    """A row in each audit table."""
    case = CaseFactory()
    events.record(events.note(case=case, actor=clerk, at=timezone.now(), text="原文"))
    LogEntry.objects.create(user=clerk, object_repr="x", action_flag=ADDITION)
    AccessLog.objects.create(username="clerk", ip_address="10.0.0.1", user_agent="t",
                             http_accept="*/*", path_info="/accounts/login/")
    AccessFailureLog.objects.create(username="clerk", ip_address="10.0.0.1", user_agent="t",
                                    http_accept="*/*", path_info="/accounts/login/",
                                    locked_out=False)
    QueryAttempt.objects.create(number=case.number, address="10.0.0.2", at=timezone.now(),
                                ok=False)
    Satisfaction.objects.create(case=case, source=Source.PETITIONER,
                                rating=Rating.SATISFIED, at=timezone.now())
    follow_up = FollowUp.objects.create(
        case=case, rule=FollowUpRule.objects.first(), trigger=Trigger.CLOSED,
        trigger_on=timezone.localdate(), due_on=timezone.localdate(), created_at=timezone.now())
    FollowUpAttempt.objects.create(follow_up=follow_up, at=timezone.now(), method=Method.PHONE,
                                   reached=False, by=clerk)
    MediationEvent.objects.create(kind=MediationEventKind.VIEWED, actor=clerk, at=timezone.now())


def _as(role: str | None, statement: str, *, ignore: bool = True) -> None:
    """Run ``statement`` as ``role`` (None: the owner), in a savepoint the error rolls back."""
    with transaction.atomic(), connection.cursor() as cursor:
        if role:
            cursor.execute(f'SET LOCAL ROLE "{role}"')
        if ignore:  # pgtrigger's way around its own triggers: it must open no way around ours
            cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)",
                           ["{" + IGNORE_THEM_ALL + "}"])
        cursor.execute(statement)
        cursor.execute("RESET ROLE")  # SET LOCAL outlives the savepoint it was set in


def _counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        found = {}
        for table in AUDIT_TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own names
            found[table] = cursor.fetchone()[0]
        return found


def test_the_runner_names_a_runtime_role_that_is_not_a_superuser():
    assert RUNTIME, "Set DATABASE_RUNTIME_ROLE to a non-superuser role (README, Tests)."
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
                       "WHERE rolname = %s", [RUNTIME])
        assert cursor.fetchone() == (False, False, False)


# TRUNCATE goes by statement, rowless: rows inserted in the test's own transaction would
# make PostgreSQL refuse it for their pending foreign-key checks instead.
CHANGES = ["UPDATE {table} SET id = -id", "DELETE FROM {table}"]


@pytest.mark.parametrize("table", AUDIT_TABLES)
@pytest.mark.parametrize("statement", CHANGES)
def test_the_runtime_role_cannot_update_or_delete_audit_rows(audit_rows, table, statement):
    before = _counts()
    # when the application's role tries, having set pgtrigger.ignore first
    with pytest.raises(ProgrammingError, match="permission denied"):
        _as(RUNTIME, statement.format(table=table))
    # then the database said no, and every row is still there
    assert _counts() == before


@pytest.mark.parametrize("table", AUDIT_TABLES)
@pytest.mark.parametrize("statement", CHANGES)
def test_the_owner_is_refused_too_whatever_pgtrigger_ignore_says(audit_rows, table, statement):
    before = _counts()
    with pytest.raises(REFUSED, match="append-only"):
        _as(None, statement.format(table=table))
    assert _counts() == before


@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_neither_role_may_truncate_an_audit_table(table):
    with pytest.raises(ProgrammingError, match="permission denied"):
        _as(RUNTIME, f"TRUNCATE {table}")
    with pytest.raises(REFUSED, match="append-only"):
        _as(None, f"TRUNCATE {table}")


def test_the_runtime_role_writes_the_trail_and_does_its_work(audit_rows, clerk):
    # the runtime role adds events, reads them, and changes the working tables
    case = CaseFactory()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{RUNTIME}"')
        events.record(events.note(case=case, actor=clerk, at=timezone.now(), text="新增"))
    assert case.events.count() == 1
    _as(RUNTIME, f"UPDATE cases_case SET summary = 'x' WHERE id = {case.pk}", ignore=False)
    _as(RUNTIME, "SELECT count(*) FROM cases_caseevent", ignore=False)
    # and records a sign-out on the login log, which is all it may change there
    _as(RUNTIME, "UPDATE axes_accesslog SET logout_time = now()", ignore=False)
    # once: a sign-out already written is neither moved nor wiped
    for statement in ("UPDATE axes_accesslog SET logout_time = now() - interval '1 day'",
                      "UPDATE axes_accesslog SET logout_time = NULL"):
        with pytest.raises(REFUSED, match="append-only"):
            _as(RUNTIME, statement, ignore=False)
    with pytest.raises(REFUSED):
        _as(RUNTIME, "UPDATE axes_accesslog SET username = 'someone'", ignore=False)
    with pytest.raises(REFUSED, match="append-only"):  # the owner neither
        _as(None, "UPDATE axes_accesslog SET username = 'someone', logout_time = now()")


def test_the_runtime_role_may_not_touch_the_triggers_or_the_migrations(audit_rows):
    for statement in ("ALTER TABLE cases_caseevent DISABLE TRIGGER audit_append_only_row",
                      "DROP TRIGGER audit_append_only_row ON cases_caseevent",
                      "DELETE FROM django_migrations",
                      "SET session_replication_role = replica"):
        with pytest.raises(REFUSED):
            _as(RUNTIME, statement, ignore=False)


def test_every_table_is_granted_to_the_runtime_role():
    """A table added by a later migration is covered without anyone remembering to."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n "
                       "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
                       "AND NOT (has_table_privilege(%s, c.oid, 'SELECT') "
                       "AND has_table_privilege(%s, c.oid, 'INSERT'))", [RUNTIME, RUNTIME])
        assert [name for (name,) in cursor.fetchall()] == ["django_migrations"]


def _url(role: str) -> str:
    db = connection.settings_dict
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host", "")
    port = db.get("PORT") or db.get("OPTIONS", {}).get("port", "")
    query = f"host={quote(str(host))}" + (f"&port={port}" if port else "")
    return f"postgres://{quote(role)}@/{db['NAME']}?{query}"


@pytest.mark.django_db(transaction=True)
def test_manage_commands_run_as_the_runtime_role_and_migrate_as_the_owner(clerk):
    """`shell` cannot erase the trail; `migrate` runs as the owner and grants again.

    Run as separate processes with the two URLs `make run` gives them, on this test's
    database (a socket the runner's own role reaches without a password).
    """
    owner = connection.settings_dict["USER"]
    case = CaseFactory()
    events.record(events.note(case=case, actor=clerk, at=timezone.now(), text="原文"))
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_RUNTIME_ROLE"},
           "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "DATABASE_URL": _url(RUNTIME), "DATABASE_OWNER_URL": _url(owner)}
    script = ("from django.db import connection\n"
              "cursor = connection.cursor()\n"
              "cursor.execute('SELECT current_user')\n"
              "print(cursor.fetchone()[0])\n"
              "cursor.execute('DELETE FROM cases_caseevent')\n")
    shell = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", script],  # noqa: S603
                           cwd=ROOT, env=env, capture_output=True, text=True)
    assert shell.stdout.strip() == RUNTIME
    assert "permission denied for table cases_caseevent" in shell.stderr
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"],  # noqa: S603
                             cwd=ROOT, env=env, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, 'cases_caseevent', 'DELETE'), "
                       "has_table_privilege(%s, 'cases_caseevent', 'INSERT')", [RUNTIME, RUNTIME])
        assert cursor.fetchone() == (False, True)
    assert case.events.count() == 1
