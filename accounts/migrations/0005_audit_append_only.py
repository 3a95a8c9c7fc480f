"""The audit tables refuse UPDATE, DELETE and TRUNCATE to every role (issue 9).

Plain triggers rather than django-pgtrigger's: pgtrigger wraps each trigger function
in a check of the ``pgtrigger.ignore`` setting, which any session may SET, and that
would be a way around. These functions have no such check. A database superuser can
still disable them (so can ``session_replication_role = replica``, superuser-only):
that is what the HMAC chain (cases/audit_chain.py) is for. The tables are listed in
config/dbroles.py, which also keeps the runtime role's privileges off them.
"""

from django.db import migrations

REFUSE = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

-- axes writes the sign-out time on the row of the sign-in: that column alone may change.
CREATE OR REPLACE FUNCTION audit_only_logout_time() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - 'logout_time') IS DISTINCT FROM (to_jsonb(OLD) - 'logout_time') THEN
        RAISE EXCEPTION 'audit rows are append-only: UPDATE on % refused', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
"""


def protect(table: str, *, update: str = "audit_append_only") -> str:
    return f"""
DROP TRIGGER IF EXISTS audit_append_only_row ON {table};
DROP TRIGGER IF EXISTS audit_append_only_update ON {table};
DROP TRIGGER IF EXISTS audit_append_only_truncate ON {table};
CREATE TRIGGER audit_append_only_row BEFORE DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {update}();
CREATE TRIGGER audit_append_only_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""


def unprotect(table: str) -> str:
    return (f"DROP TRIGGER IF EXISTS audit_append_only_row ON {table};"
            f"DROP TRIGGER IF EXISTS audit_append_only_update ON {table};"
            f"DROP TRIGGER IF EXISTS audit_append_only_truncate ON {table};")


TABLES = {"django_admin_log": "audit_append_only",
          "axes_accessfailurelog": "audit_append_only",
          "axes_accesslog": "audit_only_logout_time"}


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_password_policy"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [
        migrations.RunSQL(REFUSE, "DROP FUNCTION IF EXISTS audit_only_logout_time(); "
                                  "DROP FUNCTION IF EXISTS audit_append_only();"),
        *(migrations.RunSQL(protect(table, update=update), unprotect(table))
          for table, update in TABLES.items()),
    ]
