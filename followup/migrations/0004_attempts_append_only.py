"""The attempts to reach a petitioner are records too: append-only like the audit trail.

The same triggers as 0002 (accounts/migrations/0005's function); config/dbroles.py lists
the table, so the runtime role may only add and read its rows.
"""

from django.db import migrations

TABLE = "followup_followupattempt"

PROTECT = f"""
CREATE TRIGGER audit_append_only_row BEFORE DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_append_only_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""
UNPROTECT = (f"DROP TRIGGER audit_append_only_row ON {TABLE};"
             f"DROP TRIGGER audit_append_only_update ON {TABLE};"
             f"DROP TRIGGER audit_append_only_truncate ON {TABLE};")


class Migration(migrations.Migration):

    dependencies = [
        ("followup", "0003_follow_ups"),
    ]

    operations = [migrations.RunSQL(PROTECT, UNPROTECT)]
