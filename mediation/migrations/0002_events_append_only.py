"""The grid's and mediation's trail is append-only like the cases' audit trail.

The same triggers as followup/migrations/0002 (accounts/migrations/0005's function);
config/dbroles.py lists the table, so the runtime role may only add and read its rows.
"""

from django.db import migrations

TABLE = "mediation_mediationevent"

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
        ("mediation", "0001_initial"),
        ("accounts", "0005_audit_append_only"),
    ]

    operations = [migrations.RunSQL(PROTECT, UNPROTECT)]
