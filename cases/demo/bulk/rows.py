"""Pieces of COPY text shared by the generator and the writer."""

from __future__ import annotations

NULL = "\\N"  # COPY text for NULL


class RowId:
    """The id of a row drawn in the generator thread; the writer takes it from the sequence."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: int | None = None


class WithId:
    """A line of COPY text with a row's id inside (an event naming its decision or leadership).

    ``str()`` renders it once the writer has given the row its id.
    """

    __slots__ = ("head", "row_id", "tail")

    def __init__(self, head: str, row_id: RowId, tail: str) -> None:
        self.head, self.row_id, self.tail = head, row_id, tail

    def __str__(self) -> str:
        return f"{self.head}{self.row_id.value}{self.tail}"


def escape(text: str) -> str:
    """COPY text format: backslash, tab and newlines are escaped (fast path: none present)."""
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return text
