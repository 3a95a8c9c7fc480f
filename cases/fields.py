"""Model fields for personal data encrypted at rest (issue 9; the cryptography: config/crypto.py).

``EncryptedTextField`` stores an SM4 token and gives back the clear value, so code
that reads ``petitioner.id_number`` (masking, notices, the intake lookup) is unchanged.
Its tokens are randomised, so the database cannot compare them: the only lookups
allowed are "is empty" (``= ""``) and ``isnull``. Anything else raises FieldError
rather than silently matching nothing; look a value up through its
``BlindIndexField`` instead, which holds the HMAC-SM3 of the value and is filled
from it on every save.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldError
from django.db import connection, models, transaction
from django.db.models.lookups import Exact, IsNull

from config.crypto import blind_index, current_key_id, sm4_decrypt, sm4_encrypt, sm4_reseal

__all__ = ["BlindIndexField", "EncryptedTextField", "Resealed", "encrypted_values_reseal"]


class _EmptyOnlyExact(Exact):
    """``field = ""``: whether a value is there at all is the one question a token answers."""

    def get_prep_lookup(self):
        if self.rhs != "":
            raise FieldError(
                f"{self.lhs.output_field.name} is stored encrypted: look a value up through "
                "its blind index (e.g. id_number_index=blind_index(value)), not the column.")
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """Text sealed with SM4 in the database, clear in Python; "" stays "" (nothing to hide)."""

    def from_db_value(self, value, expression, connection):
        return sm4_decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return sm4_encrypt(value) if value else value

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(f"{self.name} is stored encrypted: the lookup {lookup_name!r} cannot "
                         "work on it; look it up through its blind index.")

    def get_transform(self, lookup_name):
        return None


class BlindIndexField(models.CharField):
    """The blind index of another field (``source``), recomputed on every save; "" when empty.

    A save with ``update_fields`` must name this field too (Petitioner.save does);
    ``QuerySet.update()`` and ``bulk_update()`` bypass it: set both columns there.
    """

    def __init__(self, *args, source: str, **kwargs) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = blind_index(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


# --- Key rotation ------------------------------------------------------------------

@dataclass
class Resealed:
    """One encrypted column after a rotation run: values per key id before, and re-sealed."""

    label: str  # app_label.Model.field
    before: Counter
    resealed: int = 0
    after: Counter | None = None


def encrypted_values_reseal(*, batch: int = 5000,
                            progress: Callable[[Resealed], None] | None = None) -> list[Resealed]:
    """Re-seal under the current key every value of every EncryptedTextField sealed under
    another; batch by batch, each its own transaction, so a stopped run just starts again.

    A row changed meanwhile is left alone (its new value is under the current key already).
    """
    current = current_key_id()
    reports = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                reports.append(_column_reseal(model, field, current=current, batch=batch,
                                              progress=progress))
    return reports


def _column_reseal(model, field, *, current: str, batch: int, progress) -> Resealed:
    # Names from the model's _meta, quoted: no user input reaches the SQL text.
    qn = connection.ops.quote_name
    table, column, pk = qn(model._meta.db_table), qn(field.column), qn(model._meta.pk.column)
    count = (f"SELECT split_part({column}, ':', 1), count(*) FROM {table} "  # noqa: S608
             f"WHERE {column} <> '' GROUP BY 1")
    with connection.cursor() as cursor:
        cursor.execute(count)
        report = Resealed(label=f"{model._meta.label}.{field.name}", before=Counter(dict(cursor)))
    select = (f"SELECT {pk}, {column} FROM {table} WHERE {pk} > %s AND {column} <> ''"  # noqa: S608
              f" AND split_part({column}, ':', 1) <> %s ORDER BY {pk} LIMIT %s")
    update = (f"UPDATE {table} AS t SET {column} = v.new FROM unnest(%s, %s, %s) "  # noqa: S608
              f"AS v(id, old, new) WHERE t.{pk} = v.id AND t.{column} = v.old")
    last = 0  # our primary keys are identity columns, from 1
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(select, [last, current, batch])
            rows = cursor.fetchall()
            if not rows:
                cursor.execute(count)
                report.after = Counter(dict(cursor))
                return report
            cursor.execute(update, [[row[0] for row in rows], [row[1] for row in rows],
                                    [sm4_reseal(row[1]) for row in rows]])
            report.resealed += cursor.rowcount
            last = rows[-1][0]
        if progress is not None:
            progress(report)
