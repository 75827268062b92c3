"""Streaming readers for CSV, JSON arrays and JSON Lines.

Every reader takes a binary stream and yields one `SourceRecord` at a time, so memory stays
flat whatever the file size: CSV and JSON Lines are read line by line, JSON arrays with an
incremental decoder that holds one record (and a block of text) at a time.

Row numbers are where a person finds the record in the file:
- CSV: the spreadsheet row, the header being row 1 (the first data row is 2; a quoted value
  spanning several lines is still one row);
- JSON Lines: the line number;
- JSON array: the position of the object in the array, from 1.

A record that cannot be read (bytes that are not valid in the encoding, a wrong number of
values, a line that is not JSON) is yielded with a `problem` and never stops the others; a file
that cannot be read at all raises `FileProblem` with a one-line reason.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any

import orjson

FORMATS = ("csv", "json", "jsonl")
ENCODINGS = ("utf-8", "cp1252", "latin-1")
CSV_DELIMITERS = (",", ";", "\t", "|")
# Bytes read from the stream at a time.
BLOCK_BYTES = 1 << 20
# A single line (or JSON record) larger than this is not data we can stream: refuse the file.
MAX_LINE_BYTES = 32 << 20
# A quoted CSV value larger than this is almost always an unclosed quote swallowing the file.
MAX_FIELD_CHARACTERS = 16 << 20
# Lines looked at to choose the CSV delimiter.
SNIFF_LINES = 20
# JSON records looked at to list the columns (keys) of a JSON file.
JSON_COLUMN_SAMPLE = 200

csv.field_size_limit(MAX_FIELD_CHARACTERS)

_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class FileProblem(ValueError):
    """The file as a whole cannot be read: a one-line reason a person can act on."""


@dataclass(frozen=True)
class FileLayout:
    """How to read a file: its format, CSV delimiter and the columns (CSV header / JSON keys)."""

    format: str
    columns: tuple[str, ...]
    delimiter: str = ","
    encoding: str = "utf-8"


@dataclass(frozen=True)
class SourceRecord:
    """One record as read: values by column, the raw CSV cells, or why it could not be read."""

    row_number: int
    values: dict[str, Any] = field(default_factory=dict)
    cells: tuple[str, ...] | None = None
    problem: str = ""


def detect_format(filename: str, head: bytes) -> str:
    """csv, json or jsonl from the file name, checked against the first bytes."""
    name = filename.lower()
    first = head.lstrip(_UTF8_BOM).lstrip()[:1]
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        return "jsonl" if first == b"{" else "json"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    if first == b"[":
        return "json"
    if first == b"{":
        return "jsonl"
    return "csv"


def _check_encoding(encoding: str) -> str:
    encoding = (encoding or "utf-8").lower().replace("_", "-")
    if encoding in ("utf8", "utf-8-sig"):
        encoding = "utf-8"
    if encoding not in ENCODINGS:
        raise FileProblem(
            f"encoding {encoding!r} is not supported; use one of {', '.join(ENCODINGS)}"
        )
    return encoding


def _byte_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream's lines (ending with b"\\n" except maybe the last), one block read at a time."""
    pending = b""
    first = True
    while True:
        block = stream.read(BLOCK_BYTES)
        if not block:
            break
        if first:
            if block.startswith(_UTF16_BOMS):
                raise FileProblem(
                    "the file is UTF-16 encoded; save it as UTF-8 (CSV UTF-8 in Excel)"
                )
            if block.startswith(_UTF8_BOM):
                block = block[len(_UTF8_BOM) :]
            if b"\r" in block and b"\n" not in block and len(block) < BLOCK_BYTES:
                raise FileProblem(
                    "the file uses old Mac line endings (CR only); save it with LF or CRLF"
                )
            first = False
        if pending:
            block = pending + block
        lines = block.split(b"\n")
        pending = lines.pop()
        if len(pending) > MAX_LINE_BYTES:
            raise FileProblem(
                f"a line is longer than {MAX_LINE_BYTES >> 20} MB; is this a data file?"
            )
        for line in lines:
            yield line + b"\n"
    if pending:
        yield pending


def _undecodable(line: bytes, error: UnicodeDecodeError, encoding: str) -> str:
    bad = line[error.start : error.start + 1].hex()
    return (
        f"byte 0x{bad} at position {error.start + 1} is not valid {encoding.upper()}; "
        "save the file as UTF-8 (or choose its encoding)"
    )


class _DecodedLines:
    """Decodes byte lines one at a time, remembering which lines held undecodable bytes.

    csv.reader pulls from this iterator; a record spanning lines first..last asks which of
    them were bad, so the row with bad bytes is reported and the others go on.
    """

    def __init__(self, lines: Iterator[bytes], encoding: str) -> None:
        self._lines = lines
        self._encoding = encoding
        self.line_number = 0
        self._bad: dict[int, str] = {}

    def __iter__(self) -> _DecodedLines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.line_number += 1
        try:
            return line.decode(self._encoding)
        except UnicodeDecodeError as error:
            self._bad[self.line_number] = _undecodable(line, error, self._encoding)
            return line.decode(self._encoding, errors="replace")

    def take_problems(self, first: int, last: int) -> str:
        """The decoding problem of the first bad line in first..last (and forget older ones)."""
        problem = ""
        for line_number in sorted(self._bad):
            if line_number > last:
                break
            reason = self._bad.pop(line_number)
            if line_number >= first and not problem:
                problem = f"line {line_number}: {reason}"
        return problem


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines into the same, largest number of columns."""
    best, best_score = ",", 0
    for delimiter in CSV_DELIMITERS:
        try:
            rows = [row for row in csv.reader(lines, delimiter=delimiter) if row]
        except csv.Error:
            continue
        if not rows:
            continue
        width = len(rows[0])
        complete = rows[:-1] if len(rows) > 1 else rows  # the last sampled line may be cut
        consistent = all(len(row) == width for row in complete)
        score = width * (2 if consistent else 1) if width > 1 else 0
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _header(cells: list[str]) -> tuple[str, ...]:
    columns = []
    seen: dict[str, int] = {}
    for position, cell in enumerate(cells, start=1):
        name = cell.strip() or f"column_{position}"
        if name in seen:
            raise FileProblem(
                f"columns {seen[name]} and {position} are both named {name!r}; rename one"
            )
        seen[name] = position
        columns.append(name)
    return tuple(columns)


def _csv_rows(
    stream: IO[bytes], *, encoding: str, delimiter: str | None
) -> tuple[str, Iterator[tuple[int, list[str] | None, str]]]:
    """(delimiter, iterator of (row number, cells or None, problem)); row 1 is the header."""
    decoded = _DecodedLines(_byte_lines(stream), encoding)
    sample = list(islice(decoded, SNIFF_LINES))
    chosen = delimiter or sniff_delimiter(sample)

    def lines() -> Iterator[str]:
        yield from sample
        yield from decoded

    reader = csv.reader(lines(), delimiter=chosen, strict=True)

    def rows() -> Iterator[tuple[int, list[str] | None, str]]:
        row_number = 0
        previous_line = 0
        while True:
            try:
                cells: list[str] | None = next(reader)
                problem = ""
            except StopIteration:
                return
            except csv.Error as error:
                cells, problem = None, f"not valid CSV: {error}"
                if reader.line_num > previous_line + 1:
                    problem += f" (lines {previous_line + 1}-{reader.line_num})"
            row_number += 1
            decoding = decoded.take_problems(previous_line + 1, reader.line_num)
            previous_line = reader.line_num
            yield row_number, cells, decoding or problem

    return chosen, rows()


def _csv_records(
    stream: IO[bytes], *, encoding: str, delimiter: str | None
) -> tuple[FileLayout, Iterator[SourceRecord]]:
    chosen, rows = _csv_rows(stream, encoding=encoding, delimiter=delimiter)
    header: list[str] | None = None
    for _row_number, cells, problem in rows:
        if problem:
            raise FileProblem(f"the header row cannot be read: {problem}")
        if cells:
            header = cells
            break
    if header is None:
        raise FileProblem("the file is empty: no header row")
    columns = _header(header)
    layout = FileLayout(format="csv", columns=columns, delimiter=chosen, encoding=encoding)

    def records() -> Iterator[SourceRecord]:
        width = len(columns)
        for row_number, cells, problem in rows:
            if cells is not None and not any(cell.strip() for cell in cells):
                continue  # blank line
            cells_tuple = tuple(cells) if cells is not None else None
            if not problem and cells is not None:
                if len(cells) != width:
                    problem = f"the row has {len(cells)} values but the header has {width} columns"
                elif any("\x00" in cell for cell in cells):
                    problem = "the row contains a NUL character"
            values = dict(zip(columns, cells, strict=False)) if cells is not None else {}
            yield SourceRecord(
                row_number=row_number, values=values, cells=cells_tuple, problem=problem
            )

    return layout, records()


def _jsonl_records(stream: IO[bytes]) -> Iterator[SourceRecord]:
    for line_number, line in enumerate(_byte_lines(stream), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            yield SourceRecord(row_number=line_number, problem=f"not valid JSON: {error}")
            continue
        if not isinstance(value, dict):
            yield SourceRecord(
                row_number=line_number,
                problem=f"expected a JSON object, got {_json_type(value)}",
            )
            continue
        yield SourceRecord(row_number=line_number, values=value)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


class _JsonArrayReader:
    """Yields the elements of a top-level JSON array one at a time from a byte stream."""

    _WHITESPACE = " \t\r\n"

    def __init__(self, stream: IO[bytes], encoding: str) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        self._json = json.JSONDecoder()
        self._buffer = ""
        self._position = 0
        self._eof = False
        self._lines_before = 0  # newlines in text already dropped from the buffer
        self._bytes_read = 0
        self._first = True

    def _fill(self) -> bool:
        if self._eof:
            return False
        block = self._stream.read(BLOCK_BYTES)
        if self._first and block:
            if block.startswith(_UTF16_BOMS):
                raise FileProblem("the file is UTF-16 encoded; save it as UTF-8")
            if block.startswith(_UTF8_BOM):
                block = block[len(_UTF8_BOM) :]
            self._first = False
        try:
            text = self._decoder.decode(block, final=not block)
        except UnicodeDecodeError as error:
            offset = self._bytes_read + error.start
            raise FileProblem(
                f"byte {offset + 1} (0x{block[error.start : error.start + 1].hex()}) is not "
                "valid UTF-8; save the file as UTF-8"
            ) from None
        self._bytes_read += len(block)
        if not block:
            self._eof = True
        if self._position > BLOCK_BYTES:
            self._lines_before += self._buffer.count("\n", 0, self._position)
            self._buffer = self._buffer[self._position :]
            self._position = 0
        self._buffer += text
        return True

    def _where(self, position: int) -> str:
        line = self._lines_before + self._buffer.count("\n", 0, position) + 1
        start = self._buffer.rfind("\n", 0, position) + 1
        return f"line {line}, column {position - start + 1}"

    def _next_character(self) -> str:
        """The next character that is not whitespace ('' at the end of the file)."""
        while True:
            while self._position < len(self._buffer):
                if self._buffer[self._position] not in self._WHITESPACE:
                    return self._buffer[self._position]
                self._position += 1
            if not self._fill():
                return ""

    def _fail(self, message: str) -> FileProblem:
        return FileProblem(f"not valid JSON at {self._where(self._position)}: {message}")

    def _decode_value(self) -> Any:
        while True:
            try:
                value, end = self._json.raw_decode(self._buffer, self._position)
            except json.JSONDecodeError as error:
                too_big = len(self._buffer) - self._position > MAX_LINE_BYTES
                if not too_big and self._fill():
                    continue  # maybe only cut off by the end of the block: read on
                if too_big:
                    raise FileProblem(
                        f"a record at {self._where(self._position)} is larger than "
                        f"{MAX_LINE_BYTES >> 20} MB or not valid JSON"
                    ) from None
                raise FileProblem(
                    f"not valid JSON at {self._where(error.pos)}: {error.msg}"
                ) from None
            if end == len(self._buffer) and self._fill():
                continue  # a number or literal may go on in the next block
            self._position = end
            return value

    def __iter__(self) -> Iterator[SourceRecord]:
        first = self._next_character()
        if first == "":
            raise FileProblem("the file is empty")
        if first == "{":
            raise FileProblem(
                "the file holds one JSON object; expected an array of records "
                "([{...}, {...}]) or JSON Lines (one object per line)"
            )
        if first != "[":
            raise self._fail("expected '[' (an array of records)")
        self._position += 1
        index = 0
        while True:
            character = self._next_character()
            if character == "]" and index == 0:
                self._position += 1
                break
            if index > 0:
                if character == "]":
                    self._position += 1
                    break
                if character != ",":
                    raise self._fail("expected ',' or ']' after a record")
                self._position += 1
                if self._next_character() in ("]", ""):
                    raise self._fail("a record is missing after ','")
            elif character == "":
                raise self._fail("the array is never closed with ']'")
            value = self._decode_value()
            index += 1
            if isinstance(value, dict):
                yield SourceRecord(row_number=index, values=value)
            else:
                yield SourceRecord(
                    row_number=index, problem=f"expected a JSON object, got {_json_type(value)}"
                )
        if self._next_character() != "":
            raise self._fail("unexpected text after the closing ']'")


def _json_columns(records: Iterator[SourceRecord]) -> tuple[str, ...]:
    columns: dict[str, None] = {}
    for record in islice(records, JSON_COLUMN_SAMPLE):
        for key in record.values:
            columns.setdefault(str(key), None)
    return tuple(columns)


def open_records(
    stream: IO[bytes],
    *,
    format: str,
    encoding: str = "utf-8",
    delimiter: str | None = None,
) -> tuple[FileLayout, Iterator[SourceRecord]]:
    """The layout of a file and an iterator over its records (one pass over the stream).

    For JSON the columns are the keys of the records read so far; call `read_layout` on a
    fresh stream to list the keys of the first records before importing.
    """
    encoding = _check_encoding(encoding)
    if format == "csv":
        if delimiter is not None and delimiter not in CSV_DELIMITERS:
            raise FileProblem(f"delimiter {delimiter!r} is not one of , ; tab |")
        return _csv_records(stream, encoding=encoding, delimiter=delimiter)
    if format == "jsonl":
        if encoding != "utf-8":
            raise FileProblem("JSON files are UTF-8 by definition; leave the encoding out")
        return FileLayout(format="jsonl", columns=()), _jsonl_records(stream)
    if format == "json":
        if encoding != "utf-8":
            raise FileProblem("JSON files are UTF-8 by definition; leave the encoding out")
        return FileLayout(format="json", columns=()), iter(_JsonArrayReader(stream, encoding))
    raise FileProblem(f"format {format!r} is not one of {', '.join(FORMATS)}")


def read_layout(
    stream: IO[bytes], *, format: str, encoding: str = "utf-8", delimiter: str | None = None
) -> FileLayout:
    """Format, delimiter and columns, from the head of the file (reads little of it)."""
    layout, records = open_records(stream, format=format, encoding=encoding, delimiter=delimiter)
    if format == "csv":
        return layout
    columns = _json_columns(records)
    if not columns:
        raise FileProblem("no JSON object with keys among the first records")
    return FileLayout(format=format, columns=columns, encoding=layout.encoding)


def preview_records(
    stream: IO[bytes], *, layout: FileLayout, limit: int = 10
) -> list[SourceRecord]:
    """The first `limit` records, for the column-mapping preview."""
    _, records = open_records(
        stream, format=layout.format, encoding=layout.encoding, delimiter=layout.delimiter
    )
    return list(islice(records, limit))


def count_records(stream: IO[bytes], *, layout: FileLayout) -> int:
    """Data records in the file (blank lines left out). Checks the JSON structure on the way."""
    _, records = open_records(
        stream, format=layout.format, encoding=layout.encoding, delimiter=layout.delimiter
    )
    return sum(1 for _ in records)
