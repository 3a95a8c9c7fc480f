"""The lookup log and the ratings are records: append-only like the audit trail.

The same triggers as accounts/migrations/0005_audit_append_only.py (its function), and
config/dbroles.py lists both tables, so the runtime role may only add and read them.
"""

from django.db import migrations

TABLES = ("followup_queryattempt", "followup_satisfaction")


def protect(table: str) -> str:
    return f"""
CREATE TRIGGER audit_append_only_row BEFORE DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_append_only_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""


def unprotect(table: str) -> str:
    return (f"DROP TRIGGER audit_append_only_row ON {table};"
            f"DROP TRIGGER audit_append_only_update ON {table};"
            f"DROP TRIGGER audit_append_only_truncate ON {table};")


class Migration(migrations.Migration):

    dependencies = [
        ("followup", "0001_initial"),
        ("accounts", "0005_audit_append_only"),
    ]

    operations = [migrations.RunSQL(protect(table), unprotect(table)) for table in TABLES]
