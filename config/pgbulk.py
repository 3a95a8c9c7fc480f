"""Bulk writes to PostgreSQL for batches of thousands of rows (the deadline sweep and the
notifications it writes): COPY streamed as the rows are written, and array literals.

Why not ``bulk_create`` or a VALUES list: for 5,000-row batches, building model
instances, or adapting every value into a VALUES list the server must then parse, took
longer than the database spent writing (``make bench``, sweep_fire_100k_s). COPY's text
format and one array literal per column are what the server reads fastest.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from django.db import connection

COPY_CHUNK = 64 * 1024
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """A value as a field of COPY's text format: ``\\N`` for NULL, escapes for the
    backslash, tab and line breaks."""
    if value is None:
        return "\\N"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def copy_line(*values) -> str:
    """One row in COPY's text format: tab-separated fields and a line break."""
    return "\t".join(copy_text(value) for value in values) + "\n"


def copy_rows(sql: str, lines: Iterable[str]) -> None:
    """Run one ``COPY … FROM STDIN`` of ``lines``, written as the server reads them. Django
    logs it like any statement (the query counts of the tests and ``make bench`` see it);
    its errors are mapped to Django's like any other."""
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(sql, _Stream(lines), COPY_CHUNK)


class _Stream:
    """A file whose ``read`` writes the next rows when COPY asks for them: each chunk goes
    to the server while the next is being written, so the rows are written in Python
    and inserted by PostgreSQL at the same time (on two cores)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)

    def read(self, size: int = 8192) -> str:
        chunk, length = [], 0
        for line in self._lines:
            chunk.append(line)
            length += len(line)
            if length >= size:
                break
        return "".join(chunk)


def array_literal(values) -> str:
    """An array literal (``'{1,2,NULL}'``) of numbers, or of elements quoted by
    ``array_element``: one string parameter, read by the server's array parser (a list
    parameter would be an ``ARRAY[…]`` expression of thousands of terms to parse)."""
    return "{" + ",".join(["NULL" if value is None else str(value) for value in values]) + "}"


@lru_cache(maxsize=10_000)  # a batch repeats a few steps, recipient lists and instants
def array_element(value: str | datetime | tuple) -> str:
    """A value quoted as an element of an array literal; a tuple becomes an array literal
    itself (of numbers, or of text)."""
    if isinstance(value, tuple):
        text = array_literal(item if isinstance(item, int) else array_element(item)
                             for item in value)
    elif isinstance(value, datetime):
        text = value.isoformat()
    else:
        text = value
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
