"""Read a delivered CSV file into records, keeping each record's original text.

Spark's CSV reader cannot say what line a row came from, cannot decode CP949, and
cannot keep the text of a row it rejects, so the files are read here, once, as a
stream: decoded (UTF-8 with or without BOM, or CP949), split per RFC 4180 (a quoted
field may hold commas and newlines), and written to Parquet as strings with the record
number and the original text of every record. Validation then runs in Spark.

Two readers give the same records. The record reader (`iter_records`, Python's csv
module) reads anything. The columnar reader reads a file a block of lines at a time:
the lines that are plainly one record each (no quote, no carriage return inside the
line, no NUL, not empty, decodable, not huge) are split by pyarrow's CSV parser at C
speed, all of a block's in one call, their original text taken from the decoded
block (a line with more or fewer fields than the header becomes an error record, as
the record reader would make it); every other line, with the lines its quotes run on
to, goes to the record reader. The header is always the record reader's. A thread of
the file's own compresses and writes each row group while the next block is read.

Every record comes out: one that cannot be split into the header's fields, or that
holds bytes the declared encoding cannot decode, carries an `_error` and is
quarantined later with its original text.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, ContextManager, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fraud import contract

log = logging.getLogger(__name__)

# Large enough for any honest field; a longer one is an error row, not a crash.
MAX_FIELD_CHARS = 1 << 20
BATCH_ROWS = 100_000
# The columnar reader's block: about this many bytes of whole lines at a time.
BLOCK_BYTES = 16 << 20

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
        yield from _records(binary, encoding, _python_codec(encoding), 0)


def _records(
    binary: BinaryIO, encoding: str, codec: str, first: int
) -> Iterator[tuple[int, str, list[str] | None, str | None]]:
    """The records of `binary` decoded with `codec`, numbered from `first`."""
    text = io.TextIOWrapper(binary, encoding=codec, errors="surrogateescape", newline="")
    tap = _LineTap(iter(text))
    reader = csv.reader(tap, strict=True)
    number = first
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


def landed_schema(path: Path, table: contract.Table):
    """The Spark schema of the landed file `path` of `table` when it has the schema
    this reader writes, so Spark need not infer it (a job of its own per file); None
    for any other, such as an older reader's (Spark infers that one, and a column it
    lacks fails as it always did, never read as nulls)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    written = _arrow_schema(table)
    if not pq.read_schema(path).equals(written, check_metadata=False):
        return None
    return from_arrow_schema(written)


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


class _Sink:
    """Collects the records of one file, in order, into Parquet row groups."""

    def __init__(self, writer: pq.ParquetWriter, table: contract.Table, progress: Callable[[int], None] | None):
        self.reading = FileReading()
        self.header_read = False
        self.table = table
        self._writer, self._progress = writer, progress
        self._schema = _arrow_schema(table)
        self._columns: dict[str, list] = {name: [] for name in self._schema.names}
        self._positions: dict[str, int] = {}
        # Records read but not yet written, in order: whole tables, then `_columns`.
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="landing-writer")
        self._writing: Future | None = None

    def record(self, number: int, raw: str, fields: list[str] | None, error: str | None) -> None:
        """One record from the record reader (record 0 is the header)."""
        if number == 0:
            reading = self.reading
            if fields is None:
                reading.rejected = f"file rejected: header unreadable ({error})"
                fields = []
            else:
                _check_header(fields, self.table, reading)
            self._positions = {name: i for i, name in enumerate(reading.header) if name in self.table.column_names}
            self.header_read = True
            return
        self._add(self._columns, number, raw, fields, error)
        if self._pending_rows + len(self._columns[LINE_NO]) >= BATCH_ROWS:
            self.flush()

    def _add(
        self, columns: dict[str, list], number: int, raw: str, fields: list[str] | None, error: str | None
    ) -> None:
        """Append one record after the header to `columns`, counting it."""
        reading = self.reading
        reading.rows += 1
        if error is None and reading.rejected is not None:
            error = reading.rejected
        if error is None and len(fields) != len(reading.header):
            error = f"expected {len(reading.header)} fields as in the header, got {len(fields)}"
        columns[LINE_NO].append(number)
        columns[RAW_LINE].append(raw)
        columns[ERROR].append(error)
        for name in self.table.column_names:
            value = None
            if error is None:
                value = fields[self._positions[name]]
                if value == "":
                    value = None
            columns[name].append(value)
        if error is not None:
            reading.error_rows += 1

    def block(self, numbers: np.ndarray, raw: pa.Array, parsed: pa.Table | None, records: list[tuple]) -> None:
        """A block's records after the header: those of its plain lines (their record
        numbers, original text and fields as parsed by pyarrow; `parsed` is None in a
        rejected file, whose records all carry its reason) and those the record reader
        read, `records`, put in record order."""
        self._take_columns()
        parts = []
        count = len(numbers)
        if count:
            rejected = self.reading.rejected
            arrays = [
                pa.array(numbers, pa.int64()),
                raw,
                pa.array([rejected] * count, pa.string()) if rejected else pa.nulls(count, pa.string()),
            ]
            for name in self.table.column_names:
                arrays.append(pa.nulls(count, pa.string()) if parsed is None else parsed.column(name))
            parts.append(pa.Table.from_arrays(arrays, schema=self._schema))
            self.reading.rows += count
            if rejected:
                self.reading.error_rows += count
        if records:
            columns: dict[str, list] = {name: [] for name in self._schema.names}
            for record in sorted(records, key=lambda record: record[0]):
                self._add(columns, *record)
            parts = _in_record_order(parts[0] if parts else None, pa.table(columns, schema=self._schema))
        self._pending.extend(parts)
        self._pending_rows += sum(part.num_rows for part in parts)
        if self._pending_rows >= BATCH_ROWS:
            self.flush()

    def _take_columns(self) -> None:
        columns = self._columns
        count = len(columns[LINE_NO])
        if count:
            self._pending.append(pa.table(columns, schema=self._schema))
            self._pending_rows += count
            for values in columns.values():
                values.clear()

    def flush(self) -> None:
        """Hand what was read to the writer as one row group. The writer's thread
        compresses and writes it while the next block is read (the two take both
        cores); one row group at a time waits, so memory stays a block or two."""
        self._take_columns()
        if self._pending_rows:
            self.wait()
            self._writing = self._writes.submit(self._writer.write_table, pa.concat_tables(self._pending))
            if self._progress:
                self._progress(self._pending_rows)
            self._pending, self._pending_rows = [], 0

    def wait(self) -> None:
        """Wait until the row group handed to the writer is written (raising its error).
        Interrupted, it is still waited for by `close`."""
        if self._writing is not None:
            self._writing.result()
            self._writing = None

    def close(self, failing: bool = False) -> None:
        """Wait for the last row group; the writer's thread ends. When the reading is
        `failing`, the write's own error is not raised: the reading's is the one to say."""
        try:
            self.wait()
        except Exception:
            if not failing:
                raise
        finally:
            self._writes.shutdown()


def _in_record_order(plain: pa.Table | None, read: pa.Table) -> list[pa.Table]:
    """A block's plain lines' records and the record reader's (each in record order),
    as slices of the two in record order: no copy of either."""
    if plain is None:
        return [read]
    numbers = plain.column(LINE_NO).to_numpy()
    # Where each of the record reader's records goes among the plain lines' records.
    places = np.searchsorted(numbers, read.column(LINE_NO).to_numpy())
    parts, taken, start = [], 0, 0
    for place, run in zip(*np.unique(places, return_counts=True)):
        parts += [plain.slice(taken, int(place) - taken), read.slice(start, int(run))]
        taken, start = int(place), start + int(run)
    parts.append(plain.slice(taken))
    return [part for part in parts if part.num_rows]


def tokenize(
    source: Path | BinaryIO,
    encoding: str,
    table: contract.Table,
    out: Path,
    progress: Callable[[int], None] | None = None,
    *,
    columnar: bool = True,
    block_bytes: int = BLOCK_BYTES,
) -> FileReading:
    """Read one delivered file (a path or a binary file object) into `out` (Parquet, all
    strings, plus record number, original text and error). Empty fields become nulls;
    extra columns are dropped. `columnar=False` reads every record with the record
    reader; both give the same rows."""
    schema = _arrow_schema(table)
    # Every record's text and number are its own: a dictionary of them, or the text's
    # min and max, costs the writer time and the file bytes for nothing.
    unique = (LINE_NO, RAW_LINE)
    with (
        _opened(source) as binary,
        pq.ParquetWriter(
            out,
            schema,
            compression="zstd",
            use_dictionary=[name for name in schema.names if name not in unique],
            write_statistics=[name for name in schema.names if name != RAW_LINE],
        ) as writer,
    ):
        sink = _Sink(writer, table, progress)
        try:
            if columnar:
                _ColumnarReader(binary, encoding, sink, block_bytes).read()
            else:
                for record in _records(binary, encoding, _python_codec(encoding), 0):
                    sink.record(*record)
            sink.flush()
        except BaseException:
            sink.close(failing=True)
            raise
        sink.close()
    return sink.reading


_NEWLINE, _CR, _QUOTE = 0x0A, 0x0D, 0x22
# A record left open over this many blocks sends the rest of the file to the record reader.
CARRY_BLOCKS = 2


class _Chained(io.RawIOBase):
    """The bytes of `head`, then the rest of `tail` (a binary file): a stream for the
    record reader."""

    def __init__(self, head: bytes, tail: BinaryIO):
        self._head, self._tail = memoryview(head), tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if len(self._head):
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._tail.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


_UNCLOSED = "(unexpected end of data)"


class _ColumnarReader:
    """Reads a file in blocks of whole lines; see the module's docstring."""

    def __init__(self, binary: BinaryIO, encoding: str, sink: _Sink, block_bytes: int):
        self._binary, self._encoding, self._sink, self._block_bytes = binary, encoding, sink, block_bytes
        # A BOM is stripped at the start of the file only.
        self._plain = {"utf-8": "utf-8", "cp949": "cp949"}[encoding]
        self._number = 0

    def read(self) -> None:
        carry = b""
        eof = False
        while not eof:
            if len(carry) > CARRY_BLOCKS * self._block_bytes:
                # A record left open for blocks on end (a stray quote, or lines that end
                # in a lone CR): reading it again with every block would cost the square
                # of the file. The record reader takes the rest, from that record on.
                self._rest_by_record(carry)
                return
            chunk = self._binary.read(self._block_bytes)
            eof = not chunk
            data = carry + chunk
            if eof:
                block, carry = data, b""
            else:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    carry = data
                    continue
                block, carry = data[:cut], data[cut:]
            if block:
                carry = self._block(block, eof) + carry

    def _codec(self) -> str:
        """The record reader's codec from here on: a BOM is stripped at the file's start only."""
        return _python_codec(self._encoding) if self._number == 0 else self._plain

    def _rest_by_record(self, carry: bytes) -> None:
        rest = io.BufferedReader(_Chained(carry, self._binary))
        for record in _records(rest, self._encoding, self._codec(), self._number):
            self._sink.record(*record)
            self._number += 1

    def _block(self, block: bytes, eof: bool) -> bytes:
        """Read the records of `block` (whole lines); return the tail that holds a record
        left open at its end, to be read again with the next block (never at EOF)."""
        data = np.frombuffer(block, dtype=np.uint8)
        breaks = np.flatnonzero(data == _NEWLINE)
        starts = np.concatenate(([0], breaks + 1))
        stops = np.concatenate((breaks + 1, [len(data)]))
        if starts[-1] == len(data):
            starts, stops = starts[:-1], stops[:-1]
        lines = len(starts)

        def per_line(mask: np.ndarray) -> np.ndarray:
            """How many of the bytes `mask` marks each line holds."""
            return np.bincount(np.searchsorted(starts, np.flatnonzero(mask), "right") - 1, minlength=lines)

        quotes = per_line(data == _QUOTE)
        content_end = stops - (data[stops - 1] == _NEWLINE)
        trailing_cr = (content_end > starts) & (data[np.maximum(content_end - 1, 0)] == _CR)
        # pyarrow drops a UTF-8 BOM at the start of what it parses; the csv module keeps
        # it as text: a line that starts with one is read by the record reader.
        bom = np.zeros(lines, dtype=bool)
        if self._plain == "utf-8":
            long_enough = stops - starts >= 3
            first = np.where(long_enough, starts, 0)
            bom = long_enough & (data[first] == 0xEF) & (data[np.minimum(first + 1, len(data) - 1)] == 0xBB)
            bom &= data[np.minimum(first + 2, len(data) - 1)] == 0xBF
        plain = (
            ~bom
            & (quotes == 0)
            & (per_line(data == 0) == 0)
            & (per_line(data == _CR) - trailing_cr == 0)
            & (stops - starts <= MAX_FIELD_CHARS)
        )
        position = 0
        if not self._sink.header_read:
            position = self._group(block, starts, stops, quotes, 0, eof)
            if position is None:
                return block
        reading = self._sink.reading
        if not reading.rejected:
            # pyarrow reads an empty line as a record of nulls, the csv module as one of
            # no fields. A line with too few or too many fields is found as it is parsed.
            plain &= content_end - trailing_cr > starts
        plain[:position] = False
        self._decodable(block, starts, stops, plain)

        # The block's plain runs of lines and the records the record reader read between
        # them, all handed to the sink at once: pyarrow parses every plain line of the
        # block in one call, however many quoted records break them up.
        runs: list[tuple[int, int, int]] = []  # (first line, line after the last, first record number)
        read: list[tuple] = []
        tail = b""
        for line in np.flatnonzero(~plain):
            if line < position:
                continue  # read with the record before it
            if line > position:
                runs.append((position, int(line), self._number))
                self._number += int(line) - position
            position = self._group(block, starts, stops, quotes, int(line), eof, read)
            if position is None:
                tail = block[starts[line] :]
                break
        else:
            if position < lines:
                runs.append((position, lines, self._number))
                self._number += lines - position
        self._emit(block, starts, stops, runs, read)
        return tail

    def _decodable(self, block: bytes, starts, stops, plain: np.ndarray) -> None:
        """Leave as plain only lines the encoding decodes (all of them, nearly always)."""
        # A whole block's UTF-8 is checked by Arrow, without making a Python string of it.
        whole = _valid_utf8(block) if self._plain == "utf-8" else _decodes(block, self._plain)
        if whole:
            return
        for line in np.flatnonzero(plain):
            if not _decodes(block[starts[line] : stops[line]], self._plain):
                plain[line] = False

    def _group(
        self, block: bytes, starts, stops, quotes, first: int, eof: bool, into: list | None = None
    ) -> int | None:
        """Read, with the record reader, the records starting at line `first` and
        running on while a quoted field is open, into the list `into` (None: straight to
        the sink, as the header goes). Returns the line after them, or None if they run
        past the block (and it is not the file's last)."""
        last = first
        open_quotes = quotes[first] % 2
        while open_quotes and last + 1 < len(starts):
            last += 1
            open_quotes ^= quotes[last] % 2
        while True:
            if open_quotes and not eof:
                return None
            text = block[starts[first] : stops[last]]
            found = list(_records(io.BytesIO(text), self._encoding, self._codec(), self._number))
            # A quote the csv module read as a literal character can leave a field open
            # that the quote count called closed: take one more line and read again.
            unclosed = bool(found) and (found[-1][3] or "").endswith(_UNCLOSED)
            if unclosed and last + 1 < len(starts):
                last += 1
                continue
            if unclosed and not eof:
                return None
            break
        if into is None:
            for record in found:
                self._sink.record(*record)
        else:
            into.extend(found)
        self._number += len(found)
        return last + 1

    def _emit(self, block: bytes, starts, stops, runs: list[tuple[int, int, int]], read: list[tuple]) -> None:
        """Hand the sink the block's plain lines, `runs` of them, each one record,
        parsed by pyarrow in one call, and the records `read` by the record reader. The
        lines' original text is cut from their UTF-8 bytes, without making a Python
        string of each."""
        if not runs:
            if read:
                self._sink.block(np.empty(0, np.int64), pa.array([], pa.string()), None, read)
            return
        view = memoryview(block)
        pieces = [view[starts[first] : stops[stop - 1]] for first, stop, _ in runs]
        segment = pieces[0] if len(pieces) == 1 else b"".join(pieces)  # one run: no copy
        numbers = np.concatenate([np.arange(n, n + stop - first, dtype=np.int64) for first, stop, n in runs])
        utf8 = segment if self._plain == "utf-8" else bytes(segment).decode(self._plain).encode("utf-8")
        breaks = np.flatnonzero(np.frombuffer(utf8, dtype=np.uint8) == _NEWLINE)
        offsets = np.concatenate(([0], breaks + 1, [len(utf8)])).astype(np.int64)
        if offsets[-2] == len(utf8):
            offsets = offsets[:-1]
        count = len(offsets) - 1
        if count != len(numbers):  # cannot happen: a plain line holds one line break at most
            raise RuntimeError(f"columnar reader: {count} lines in runs of {len(numbers)}")
        # Each line with its line break; a plain line holds no other CR or LF to trim.
        lines = pa.LargeStringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(utf8))
        raw = pc.utf8_rtrim(lines, characters="\r\n").cast(pa.string())
        reading = self._sink.reading
        parsed = None
        if not reading.rejected:
            parsed, miscounted = _parse_lines(utf8, reading.header, self._sink.table.column_names)
            if parsed.num_rows + len(miscounted) != count:  # cannot happen for plain lines; never guess
                raise RuntimeError(f"columnar reader: {parsed.num_rows} rows parsed from {count} lines")
            if miscounted:
                # Lines with more or fewer fields than the header: records of their own,
                # which the sink marks as errors, as it does the record reader's.
                keep = np.ones(count, dtype=bool)
                keep[miscounted] = False
                for line in miscounted:
                    text = raw[line].as_py()
                    read.append((int(numbers[line]), text, text.split(","), None))
                numbers, raw = numbers[keep], raw.filter(pa.array(keep))
        self._sink.block(numbers, raw, parsed, read)


def _parse_lines(utf8: bytes | memoryview, header: list[str], columns: tuple[str, ...]) -> tuple[pa.Table, list[int]]:
    """Parse lines that hold no quote, no CR and no NUL, one record each, with
    pyarrow: the records of the lines with the header's number of fields, and the
    indexes of the others (skipped)."""
    miscounted: list[int] = []

    def skip(row) -> str:
        if row.number is None:  # pyarrow gives the line's number when parsing in one thread
            raise RuntimeError("columnar reader: pyarrow did not say which line has the wrong number of fields")
        miscounted.append(row.number - 1)
        return "skip"

    parsed = pacsv.read_csv(
        pa.BufferReader(pa.py_buffer(utf8)),
        read_options=pacsv.ReadOptions(column_names=header, block_size=max(1 << 20, len(utf8) + 1), use_threads=False),
        parse_options=pacsv.ParseOptions(
            quote_char=False, double_quote=False, escape_char=False, ignore_empty_lines=False, invalid_row_handler=skip
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=True,
            null_values=[""],
            include_columns=list(columns),
        ),
    )
    return parsed, miscounted


def _decodes(data: bytes, codec: str) -> bool:
    """Whether `codec` decodes `data` strictly."""
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def _valid_utf8(data: bytes) -> bool:
    """Whether `data` is valid UTF-8, as Python's strict decoder judges it (surrogates,
    overlong forms and code points past U+10FFFF are not), checked by Arrow without
    making a Python string of it."""
    offsets = np.array([0, len(data)], dtype=np.int64)
    try:
        pa.LargeStringArray.from_buffers(1, pa.py_buffer(offsets), pa.py_buffer(data)).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def write_empty(table: contract.Table, out: Path) -> None:
    """A table the drop did not deliver: zero records, same schema."""
    pq.write_table(_arrow_schema(table).empty_table(), out)
