"""Mark the windows, tie extensions to their reply clock, name the deciding unit (issue 6)."""

from django.db import migrations

from cases.deadlines.rules import STATUTORY_RULES, rules_seed

WINDOWS = [rule.kind for rule in STATUTORY_RULES if rule.is_window]


def forwards(apps, schema_editor):
    rules_seed(apps.get_model("cases", "DeadlineRule"))
    Deadline = apps.get_model("cases", "Deadline")
    Deadline.objects.filter(kind__in=WINDOWS).update(is_window=True)
    with schema_editor.connection.cursor() as cursor:
        # Each extension belongs to the latest reply clock its case had when it was asked for.
        cursor.execute("""
            UPDATE cases_extension AS e SET deadline_id = (
                SELECT d.id FROM cases_deadline AS d
                 WHERE d.case_id = e.case_id AND d.kind = 'reply'
                 ORDER BY d.id DESC LIMIT 1)
             WHERE e.deadline_id IS NULL
        """)
        # A reply was decided by the lead unit that issued it.
        cursor.execute("""
            UPDATE cases_decision AS dec SET unit_id = c.lead_unit_id
              FROM cases_case AS c
             WHERE dec.case_id = c.id AND dec.kind = 'reply' AND dec.unit_id IS NULL
        """)


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_statutory_corrections")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
