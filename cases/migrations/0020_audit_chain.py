"""The audit trail's chain (issue 9): each event's link and HMAC-SM3; the rows on file sealed.

The rows on file are sealed here, case by case in id order, each linked to the row before
it (cases/audit_chain.py). Set-based enough for millions of rows: they stream through a
server-side cursor, their links and MACs go back by COPY into a temporary table, and one
UPDATE … FROM writes them. The trigger that refuses UPDATE on the trail (0019) is switched
off for that UPDATE alone, inside this migration's transaction (migrations run as the
owner): a failure rolls the switch back with the rest, and it is on again before commit.

It needs the audit key (``AUDIT_MAC_KEYS``, config/crypto.py) and stops, saying so, without.
"""

import io
import json

from django.core.exceptions import ImproperlyConfigured
from django.db import migrations, models

BATCH = 50_000
NULL = "\\N"


def seal_existing(apps, schema_editor) -> None:
    from cases.audit_chain import body, frame, mac_of
    from config.crypto import audit_key_ids

    try:
        audit_key_ids()
    except ImproperlyConfigured as error:
        raise ImproperlyConfigured(
            "Migration cases.0020_audit_chain seals the case events on file with the audit "
            f"key, and there is none. {error}") from None
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE audit_chain_seal (id bigint, prev bigint, "
                       "mac text) ON COMMIT DROP")
    with connection.chunked_cursor() as rows, connection.cursor() as out:
        rows.execute("SELECT id, case_id, kind, actor_id, at, from_status, to_status, "
                     "details::text FROM cases_caseevent ORDER BY case_id, id")
        case, prev, prev_mac = None, None, ""
        while batch := rows.fetchmany(BATCH):
            lines = []
            for row_id, case_id, kind, actor_id, at, from_status, to_status, details in batch:
                if case_id != case:
                    case, prev, prev_mac = case_id, None, ""
                row_body = body(kind=kind, actor_id=actor_id, at=at, from_status=from_status,
                                to_status=to_status, details=json.loads(details))
                mac = mac_of(frame(row_id, case_id, row_body, prev), prev_mac)
                lines.append(f"{row_id}\t{NULL if prev is None else prev}\t{mac}\n")
                prev, prev_mac = row_id, mac
            out.copy_expert("COPY audit_chain_seal (id, prev, mac) FROM STDIN",
                            io.StringIO("".join(lines)))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_chain_seal")
        cursor.execute("ALTER TABLE cases_caseevent DISABLE TRIGGER audit_append_only_update")
        cursor.execute("UPDATE cases_caseevent e SET prev = s.prev, mac = s.mac "
                       "FROM audit_chain_seal s WHERE e.id = s.id")
        cursor.execute("ALTER TABLE cases_caseevent ENABLE TRIGGER audit_append_only_update")


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0019_events_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseevent",
            name="prev",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="caseevent",
            name="mac",
            field=models.CharField(editable=False, max_length=81, null=True),
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="caseevent",
            name="mac",
            field=models.CharField(editable=False, max_length=81),
        ),
        migrations.AddConstraint(
            model_name="caseevent",
            constraint=models.CheckConstraint(condition=models.Q(("mac", ""), _negated=True),
                                              name="caseevent_sealed"),
        ),
    ]
