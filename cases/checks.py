"""System checks of the cases app: what the database must offer for the case rules to work.

Similar-text repeat detection (``cases.selectors.repeats``) compares Chinese summaries
by pg_trgm trigrams. PostgreSQL builds trigrams only from characters its ``LC_CTYPE``
calls alphanumeric: in a database created with ``C`` or ``POSIX`` no Chinese character
is, so every similarity is 0 and the check finds nothing, silently. Reading the ctype
and deciding about it are kept apart, so the decision is tested without a database.

Tagged ``database``, as Django's own database checks are: ``migrate`` (which every
start of the stack runs) and ``manage.py check --database default`` run it.
"""

from __future__ import annotations

from django.core import checks
from django.db import DatabaseError, connections
from django.utils.translation import gettext_lazy as _

NON_UTF8_CTYPES = frozenset({"c", "posix"})


@checks.register(checks.Tags.database)
def check_database_ctype(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """Refuse a database whose LC_CTYPE gives Chinese text no trigrams (issue 7)."""
    errors = []
    for alias in databases or ():
        ctype = database_ctype(alias)
        if ctype is not None:
            errors += ctype_errors(ctype, database=connections[alias].settings_dict["NAME"])
    return errors


def database_ctype(alias: str) -> str | None:
    """The current database's ``datctype``; None when it is not PostgreSQL or unreachable."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT datctype FROM pg_database WHERE datname = current_database()")
            row = cursor.fetchone()
    except DatabaseError:
        return None  # unreachable: the other checks and the first query will say so
    return row[0] if row else None


def ctype_errors(ctype: str, *, database: str = "") -> list[checks.CheckMessage]:
    """The error for a ctype in which CJK characters are not alphanumeric (C, POSIX)."""
    if ctype.strip().lower() not in NON_UTF8_CTYPES:
        return []
    return [checks.Error(
        _("The database %(database)s has LC_CTYPE %(ctype)s: pg_trgm makes no trigrams of "
          "Chinese text there, so similar-text repeat detection finds nothing.")
        % {"database": database or "?", "ctype": ctype},
        hint=_("Create the database with a UTF-8 ctype, e.g. CREATE DATABASE petitiondesk "
               "TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' "
               "(or 'zh_CN.UTF-8'), and restore the data into it."),
        id="cases.E001",
    )]
