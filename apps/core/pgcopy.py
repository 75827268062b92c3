"""PostgreSQL COPY in text format: the one encoder and writer every bulk path uses.

Event ingestion, order imports, the demo loader and score upserts all stream many rows into a
table with `COPY ... FROM STDIN`; the format (tab-separated, `\\N` for NULL, backslash escapes
for backslash, tab, newline and carriage return) is the same for all, so it lives here once.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    """One value in COPY text format (JSON must be dumped to a string by the caller)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).translate(COPY_ESCAPES)


def copy_line(values: Iterable[Any]) -> str:
    """One row in COPY text format, without its newline."""
    return "\t".join(map(copy_text, values))


def copy_rows(
    cursor: Any, *, table: str, columns: Sequence[str] | None, rows: Iterable[Iterable[Any]]
) -> None:
    """COPY `rows` into `table` (already quoted as needed); `columns` None means all of them."""
    buffer = io.StringIO("".join(copy_line(row) + "\n" for row in rows))
    column_list = f" ({', '.join(columns)})" if columns is not None else ""
    cursor.copy_expert(f"COPY {table}{column_list} FROM STDIN", buffer)
