"""Case events: pgtrigger's Protect, which ``SET pgtrigger.ignore`` lifts, gives way to the
plain triggers of accounts/migrations/0005_audit_append_only.py, TRUNCATE included."""

import pgtrigger.migrations
from django.db import migrations

PROTECT = """
CREATE TRIGGER audit_append_only_row BEFORE DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_append_only_truncate BEFORE TRUNCATE ON cases_caseevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""
UNPROTECT = """
DROP TRIGGER audit_append_only_row ON cases_caseevent;
DROP TRIGGER audit_append_only_update ON cases_caseevent;
DROP TRIGGER audit_append_only_truncate ON cases_caseevent;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0018_undertakings_warned"),
        ("accounts", "0005_audit_append_only"),
    ]

    operations = [
        # The new triggers first: the table is never without one.
        migrations.RunSQL(PROTECT, UNPROTECT),
        pgtrigger.migrations.RemoveTrigger(
            model_name="caseevent",
            name="case_event_append_only",
        ),
    ]
