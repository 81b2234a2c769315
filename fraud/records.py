"""Read a delivered CSV file into records, keeping each record's original text.

Spark's CSV reader cannot say what line a row came from, cannot decode CP949, and
cannot keep the text of a row it rejects, so the files are read here, once, as a
stream: decoded (UTF-8 with or without BOM, or CP949), split per RFC 4180 (a quoted
field may hold commas and newlines), and written to Parquet as strings with the line
number and the original text of every record. Validation then runs in Spark.

Every record comes out: one that cannot be split into the header's fields, or that
holds bytes the declared encoding cannot decode, carries an `_error` and is
quarantined later with its original text.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, ContextManager, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from fraud import contract

log = logging.getLogger(__name__)

# Large enough for any honest field; a longer one is an error row, not a crash.
MAX_FIELD_CHARS = 1 << 20
BATCH_ROWS = 100_000

LINE_NO = "_line_no"
RAW_LINE = "_raw_line"
ERROR = "_error"

csv.field_size_limit(MAX_FIELD_CHARS)


class _LineTap:
    """Feeds lines to csv.reader and remembers the ones the current record used."""

    def __init__(self, lines: Iterator[str]):
        self._lines = lines
        self.taken: list[str] = []

    def __iter__(self) -> "_LineTap":
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken.append(line)
        return line

    def release(self) -> str:
        text = "".join(self.taken)
        self.taken = []
        if text.endswith("\r\n"):
            return text[:-2]
        if text.endswith(("\n", "\r")):
            return text[:-1]
        return text


def _python_codec(encoding: str) -> str:
    # utf-8-sig strips a BOM when there is one and reads plain UTF-8 otherwise.
    return {"utf-8": "utf-8-sig", "cp949": "cp949"}[encoding]


def _has_undecodable(text: str) -> bool:
    # surrogateescape turns each undecodable byte into a lone surrogate U+DC80..U+DCFF.
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _printable(text: str) -> str:
    """The original text, with bytes the encoding could not decode shown as \\xNN."""
    if not _has_undecodable(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass
class FileReading:
    """What reading one file found: the header, and the counts."""

    header: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    rejected: str | None = None  # a reason that rejects every row of the file
    rows: int = 0
    error_rows: int = 0


def _opened(source: Path | BinaryIO) -> ContextManager[BinaryIO]:
    # A delivered file comes already opened (fraud/landing.py:open_delivered checks what it is).
    return contextlib.nullcontext(source) if hasattr(source, "read") else open(source, "rb")


def iter_records(source: Path | BinaryIO, encoding: str) -> Iterator[tuple[int, str, list[str] | None, str | None]]:
    """Yield (record number, original text, fields, error) for every record of the file
    (a path, or a binary file object: the caller's to close). Record 0 is the header.
    Fields is None when the record could not be split."""
    with _opened(source) as binary:
        text = io.TextIOWrapper(binary, encoding=_python_codec(encoding), errors="surrogateescape", newline="")
        tap = _LineTap(iter(text))
        reader = csv.reader(tap, strict=True)
        number = 0
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                yield number, _printable(tap.release()), None, f"malformed CSV record ({error})"
                number += 1
                continue
            raw = tap.release()
            if _has_undecodable(raw):
                yield number, _printable(raw), None, f"encoding: bytes that are not valid {encoding}"
            else:
                yield number, raw, fields, None
            number += 1


def _arrow_schema(table: contract.Table) -> pa.Schema:
    return pa.schema(
        [pa.field(LINE_NO, pa.int64()), pa.field(RAW_LINE, pa.string()), pa.field(ERROR, pa.string())]
        + [pa.field(name, pa.string()) for name in table.column_names]
    )


def _check_header(header: list[str], table: contract.Table, reading: FileReading) -> None:
    names = [name.strip() for name in header]
    reading.header = names
    duplicated = sorted({n for n in names if names.count(n) > 1})
    reading.missing_columns = [c for c in table.column_names if c not in names]
    reading.extra_columns = [n for n in names if n not in table.column_names]
    if duplicated:
        reading.rejected = f"file rejected: header repeats column(s) {', '.join(duplicated)}"
    elif reading.missing_columns:
        reading.rejected = f"file rejected: header lacks required column(s) {', '.join(reading.missing_columns)}"


def tokenize(
    source: Path | BinaryIO,
    encoding: str,
    table: contract.Table,
    out: Path,
    progress: Callable[[int], None] | None = None,
) -> FileReading:
    """Read one delivered file (a path or a binary file object) into `out` (Parquet, all
    strings, plus line number, original text and error). Empty fields become nulls;
    extra columns are dropped."""
    reading = FileReading()
    schema = _arrow_schema(table)
    columns: dict[str, list] = {name: [] for name in schema.names}
    positions: dict[str, int] = {}

    def flush(writer: pq.ParquetWriter) -> None:
        if columns[LINE_NO]:
            writer.write_table(pa.table(columns, schema=schema))
            for values in columns.values():
                values.clear()

    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for number, raw, fields, error in iter_records(source, encoding):
            if number == 0:
                if fields is None:
                    reading.rejected = f"file rejected: header unreadable ({error})"
                    fields = []
                else:
                    _check_header(fields, table, reading)
                positions = {name: i for i, name in enumerate(reading.header) if name in table.column_names}
                continue
            reading.rows += 1
            if error is None and reading.rejected is not None:
                error = reading.rejected
            if error is None and len(fields) != len(reading.header):
                error = f"expected {len(reading.header)} fields as in the header, got {len(fields)}"
            columns[LINE_NO].append(number)
            columns[RAW_LINE].append(raw)
            columns[ERROR].append(error)
            for name in table.column_names:
                value = None
                if error is None:
                    value = fields[positions[name]]
                    if value == "":
                        value = None
                columns[name].append(value)
            if error is not None:
                reading.error_rows += 1
            if len(columns[LINE_NO]) >= BATCH_ROWS:
                flush(writer)
                if progress:
                    progress(BATCH_ROWS)
        flush(writer)
    if progress:
        progress(reading.rows % BATCH_ROWS)
    return reading


def write_empty(table: contract.Table, out: Path) -> None:
    """A table the drop did not deliver: zero records, same schema."""
    pq.write_table(_arrow_schema(table).empty_table(), out)
