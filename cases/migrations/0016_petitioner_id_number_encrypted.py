"""ID numbers encrypted at rest (issue 9): seal every stored number, index it blind.

The clear column's unique index goes first (it indexes clear numbers, and every row
is rewritten anyway). The rows are read through a server-side cursor, BATCH at a
time, and each batch is written back with one UPDATE joined to ``unnest`` of the
ids, tokens and blind indexes. The unique index on the blind index is built once, at
the end. The keys come from the settings (config/crypto.py): without them this stops
before writing anything. Reversible: going back opens every value again.

The clear numbers stay in the table's dead row versions until PostgreSQL reuses the
space: run ``VACUUM (FULL) cases_petitioner`` afterwards (cases/DECISIONS.md).
"""

from django.db import migrations, models

import cases.fields

BATCH = 50_000


def _rewrite(schema_editor, transform) -> None:
    """Stream every (id, id_number) with a number; write back ``transform``'s (value, index)."""
    connection = schema_editor.connection
    connection.ensure_connection()
    raw = connection.connection  # psycopg2's, for a named (server-side) cursor
    reader = raw.cursor(name="petitioner_id_numbers")
    reader.itersize = BATCH
    reader.execute("SELECT id, id_number FROM cases_petitioner WHERE id_number <> '' ORDER BY id")
    with raw.cursor() as writer:
        while rows := reader.fetchmany(BATCH):
            pairs = [transform(value) for _pk, value in rows]
            writer.execute(
                "UPDATE cases_petitioner AS p SET id_number = r.id_number, "
                "id_number_index = r.id_number_index "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS r(id, id_number, id_number_index) "
                "WHERE p.id = r.id",
                [[pk for pk, _value in rows], [value for value, _index in pairs],
                 [index for _value, index in pairs]])
    reader.close()


def seal(apps, schema_editor):
    from config.crypto import blind_index, sm4_encrypt

    blind_index("probe")  # without keys: ImproperlyConfigured here, before any row is read
    sm4_encrypt("probe")
    _rewrite(schema_editor, lambda number: (sm4_encrypt(number), blind_index(number)))


def unseal(apps, schema_editor):
    from config.crypto import sm4_decrypt

    _rewrite(schema_editor, lambda token: (sm4_decrypt(token), ""))


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0015_supervision_orders"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="petitioner",
            name="petitioner_one_row_per_id",
        ),
        migrations.AlterField(
            model_name="petitioner",
            name="id_number",
            field=cases.fields.EncryptedTextField(blank=True, max_length=32, verbose_name="ID number"),
        ),
        migrations.AddField(
            model_name="petitioner",
            name="id_number_index",
            field=cases.fields.BlindIndexField(blank=True, default="", editable=False, max_length=64,
                                               source="id_number", verbose_name="ID number index"),
        ),
        migrations.RunPython(seal, unseal, elidable=False),
        migrations.AddConstraint(
            model_name="petitioner",
            constraint=models.UniqueConstraint(condition=models.Q(("id_number_index", ""), _negated=True),
                                               fields=("id_number_index", "id_type"),
                                               name="petitioner_one_row_per_id"),
        ),
    ]
