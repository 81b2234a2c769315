"""Reading delivered files: encodings, BOM, quoting, broken records, headers."""

import pyarrow.parquet as pq
import pytest
from conftest import P1, claim_row, csv_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fraud import contract, records

CLAIMS = contract.TABLES["claims"]


def _read(tmp_path, data: bytes, encoding="utf-8"):
    source = tmp_path / "claims.csv"
    source.write_bytes(data)
    out = tmp_path / "claims.parquet"
    reading = records.tokenize(source, encoding, CLAIMS, out)
    return reading, pq.read_table(out).to_pylist()


def test_utf8_with_bom_and_extra_column_in_the_middle(tmp_path):
    header = [
        "claim_id",
        "person_key",
        "remark",
        *[c for c in CLAIMS.column_names if c not in ("claim_id", "person_key")],
    ]
    text = csv_text([claim_row(remark="비고")], header)
    reading, rows = _read(tmp_path, b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert reading.rows == 1 and reading.rejected is None
    assert reading.extra_columns == ["remark"]
    assert rows[0]["claim_id"] == "C1" and rows[0]["person_key"] == P1
    assert "remark" not in rows[0]
    assert rows[0][records.RAW_LINE].startswith("C1,")


def test_cp949_is_decoded(tmp_path):
    workplaces = contract.TABLES["workplaces"]
    row = {
        "workplace_id": "12345678901",
        "business_no": "1234567890",
        "name": "(주)한빛물산",
        "representative_key": P1,
        "address": "서울특별시 강남구 테헤란로 123 4층",
        "phone": "02-555-1234",
        "bank_account_key": "",
        "industry_code": "47",
        "region_code": "11",
        "opened_on": "2020-01-01",
        "closed_on": "",
        "updated_at": "2026-03-01T10:00:00+09:00",
    }
    source = tmp_path / "workplaces.csv"
    source.write_bytes(csv_text([row]).encode("cp949"))
    reading = records.tokenize(source, "cp949", workplaces, tmp_path / "w.parquet")
    decoded = pq.read_table(tmp_path / "w.parquet").to_pylist()[0]
    assert reading.error_rows == 0
    assert decoded["name"] == "(주)한빛물산" and decoded["address"].endswith("4층")
    assert decoded["bank_account_key"] is None  # an empty field is null


def test_quoted_newline_and_comma_stay_in_one_record_with_its_original_text(tmp_path):
    text = csv_text([claim_row(status="APPROVED")])
    text = text.replace("APPROVED", '"APPRO\r\nVED, late"')
    reading, rows = _read(tmp_path, text.encode())
    assert reading.rows == 1
    assert rows[0]["status"] == "APPRO\r\nVED, late"
    assert rows[0][records.RAW_LINE].count("\r\n") == 1  # the embedded newline, not the record's end
    assert rows[0][records.RAW_LINE].endswith("+09:00")


def test_wrong_field_count_and_invalid_bytes_are_error_records_with_their_text(tmp_path):
    good = csv_text([claim_row()])
    header, line = good.rstrip("\r\n").split("\r\n")
    data = (
        (header + "\r\n" + line + "\r\n" + "C2,short,row\r\n").encode()
        + line.replace("C1", "C3").encode().replace(b"APPROVED", b"APPR\xff")
        + b"\r\n"
    )
    reading, rows = _read(tmp_path, data)
    assert reading.rows == 3 and reading.error_rows == 2
    assert rows[0][records.ERROR] is None
    assert rows[1][records.ERROR] == "expected 11 fields as in the header, got 3"
    assert rows[1][records.RAW_LINE] == "C2,short,row"
    assert rows[2][records.ERROR].startswith("encoding:")
    assert "APPR\\xff" in rows[2][records.RAW_LINE]
    assert [r[records.LINE_NO] for r in rows] == [1, 2, 3]


def test_unterminated_quote_is_one_error_record_not_a_crash(tmp_path):
    text = csv_text([claim_row()]) + 'C9,"never closed\r\n'
    reading, rows = _read(tmp_path, text.encode())
    assert reading.rows == 2
    assert rows[1][records.ERROR].startswith("malformed CSV record")
    assert rows[1][records.RAW_LINE] == 'C9,"never closed'


def test_missing_required_column_rejects_every_row_of_the_file(tmp_path):
    header = [c for c in CLAIMS.column_names if c != "daily_amount"]
    reading, rows = _read(tmp_path, csv_text([claim_row(), claim_row("C2")], header).encode())
    assert reading.missing_columns == ["daily_amount"]
    assert reading.rejected == "file rejected: header lacks required column(s) daily_amount"
    assert [r[records.ERROR] for r in rows] == [reading.rejected] * 2


# --- the columnar reader gives the record reader's records ----------------------------

_HEADER = ",".join(CLAIMS.column_names)
_GOOD = ",".join(claim_row().values())
# Lines and line fragments a delivered file may hold, well or badly formed: plain rows,
# quoted fields with commas, quotes and line breaks in them, a quote the csv module
# reads as a literal character, an unclosed quote, blank lines, a field too many or too
# few, NUL, bytes no encoding decodes, Hangul, a lone carriage return.
_PIECES = [
    _GOOD,
    _GOOD.replace("C1", "C2"),
    _GOOD.replace(",APPROVED,", ',"APP,ROVED",'),
    _GOOD.replace(",APPROVED,", ',"APP\nROVED",'),
    _GOOD.replace(",APPROVED,", ',"APP""ROVED",'),
    _GOOD.replace(",APPROVED,", ',APP"ROVED,'),
    _GOOD.replace(",APPROVED,", ',"APPROVED,'),
    '"',
    "",
    _GOOD + ",extra",
    _GOOD.rsplit(",", 1)[0],
    _GOOD.replace("C1", "C\x003"),
    _GOOD.replace("C1", "한빛"),
    _GOOD.replace("C1", "C\r4"),
    "\ufeff" + _GOOD.replace("C1", "C5"),  # a BOM that is text: only the file's first is not
    ",".join([""] * len(CLAIMS.column_names)),
]


def _file(pieces: list[int], ending: str, bad_byte: int | None, encoding: str, bom: bool, header: str) -> bytes:
    text = ending.join([header, *(_PIECES[i] for i in pieces)])
    data = text.encode("utf-8") if encoding == "utf-8" else text.encode("cp949", errors="replace")
    if bad_byte is not None and len(data) > 1:
        position = bad_byte % len(data)
        data = data[:position] + b"\xff" + data[position:]
    return (b"\xef\xbb\xbf" if bom else b"") + data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pieces=st.lists(st.integers(0, len(_PIECES) - 1), max_size=25),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    final=st.booleans(),
    bad_byte=st.none() | st.integers(0, 10_000),
    encoding=st.sampled_from(["utf-8", "cp949"]),
    bom=st.booleans(),
    header=st.sampled_from([_HEADER, _HEADER + ",remark", "claim_id,claim_id", '"claim_id,' + _HEADER]),
    block=st.sampled_from([1, 64, 300, 1 << 16]),
)
def test_the_columnar_reader_gives_the_record_readers_records(
    tmp_path, pieces, ending, final, bad_byte, encoding, bom, header, block
):
    data = _file(pieces, ending, bad_byte, encoding, bom and encoding == "utf-8", header)
    if final:
        data += ending.encode()
    source = tmp_path / "claims.csv"
    source.write_bytes(data)

    def read(columnar: bool):
        out = tmp_path / f"{columnar}.parquet"
        seen = []
        reading = records.tokenize(source, encoding, CLAIMS, out, seen.append, columnar=columnar, block_bytes=block)
        return reading, pq.read_table(out).to_pylist(), sum(seen)

    columnar, by_record = read(True), read(False)
    assert columnar[0] == by_record[0]
    assert columnar[1] == by_record[1]
    assert columnar[2] == by_record[2] == by_record[0].rows


def _record_reader_numbers(monkeypatch) -> list[int]:
    """The numbers of the records the record reader reads from now on, as it reads them."""
    handed = []
    real = records._records

    def counted(binary, encoding, codec, first):
        found = list(real(binary, encoding, codec, first))
        handed.extend(number for number, *_ in found)
        return iter(found)

    monkeypatch.setattr(records, "_records", counted)
    return handed


def test_the_columnar_reader_reads_plain_lines_without_the_record_reader(tmp_path, monkeypatch):
    rows = [claim_row(claim_id=f"C{i}") for i in range(1, 2001)]
    rows[700]["status"] = "APP,ROVED"  # quoted: read by the record reader
    source = tmp_path / "claims.csv"
    source.write_bytes(csv_text(rows).encode("utf-8"))
    handed = _record_reader_numbers(monkeypatch)
    reading = records.tokenize(source, "utf-8", CLAIMS, tmp_path / "c.parquet", block_bytes=4096)
    landed = pq.read_table(tmp_path / "c.parquet").to_pylist()
    assert reading.rows == 2000 and reading.error_rows == 0
    assert handed == [0, 701]  # the header and the quoted row
    assert [row[records.LINE_NO] for row in landed] == list(range(1, 2001))
    assert landed[700]["status"] == "APP,ROVED" and landed[700][records.RAW_LINE].count('"') == 2
    assert landed[1]["claim_id"] == "C2" and landed[1][records.RAW_LINE] == csv_text([rows[1]]).splitlines()[1]


def test_a_record_left_open_for_blocks_sends_the_rest_to_the_record_reader(tmp_path, monkeypatch):
    # A quote the csv module reads as a literal (O"Neil) leaves the quote count odd to
    # the end of the file: the reader must not scan the rest again with every block.
    rows = [claim_row(claim_id=f"C{i}") for i in range(1, 3001)]
    rows[10]["status"] = 'APP"ROVED'
    text = csv_text(rows).replace('"APP""ROVED"', 'APP"ROVED')
    source = tmp_path / "claims.csv"
    source.write_bytes(text.encode("utf-8"))
    scanned = []
    real = records._ColumnarReader._block

    def counted(self, block, eof):
        scanned.append(len(block))
        return real(self, block, eof)

    monkeypatch.setattr(records._ColumnarReader, "_block", counted)
    reading = records.tokenize(source, "utf-8", CLAIMS, tmp_path / "c.parquet", block_bytes=4096)
    expected = records.tokenize(source, "utf-8", CLAIMS, tmp_path / "r.parquet", columnar=False)
    assert reading == expected and reading.rows == 3000
    assert pq.read_table(tmp_path / "c.parquet").to_pylist() == pq.read_table(tmp_path / "r.parquet").to_pylist()
    # Scanned once or twice, not once a block.
    assert len(text) > 100 * 4096 and sum(scanned) < 2 * len(text)


def test_spark_is_told_the_schema_of_a_file_this_reader_landed_and_of_no_other(tmp_path):
    """The schema the reader writes, converted, is what Spark would infer from it (the
    line number a long, every other column a string, all nullable, in the file's
    order). A file another reader version wrote gets none, so Spark infers it: a
    column it lacks then fails, where a schema told would read it as nulls."""
    import pyarrow as pa

    _read(tmp_path, csv_text([claim_row()]).encode("utf-8"))
    schema = records.landed_schema(tmp_path / "claims.parquet", CLAIMS)
    assert [(f.name, f.dataType.simpleString(), f.nullable) for f in schema.fields] == [
        (records.LINE_NO, "bigint", True),
        (records.RAW_LINE, "string", True),
        (records.ERROR, "string", True),
        *[(name, "string", True) for name in CLAIMS.column_names],
    ]
    older = pa.table({records.LINE_NO: [1], **{name: ["x"] for name in CLAIMS.column_names}})
    pq.write_table(older, tmp_path / "older.parquet")
    assert records.landed_schema(tmp_path / "older.parquet", CLAIMS) is None


# --- the columnar reader's shortcuts ---------------------------------------------------


@settings(max_examples=2000, deadline=None)
@given(
    data=st.binary(max_size=12)
    | st.lists(
        st.sampled_from(
            [b"a", b",", b"\xed", b"\xa0", b"\x80", b"\xbf", b"\xc0", b"\xc2", b"\xe0", b"\xf0", b"\xf4", b"\xf5"]
        ),
        max_size=8,
    ).map(b"".join)
)
def test_arrows_utf8_check_agrees_with_pythons_decoder(data):
    try:
        data.decode("utf-8")
        decodes = True
    except UnicodeDecodeError:
        decodes = False
    assert records._valid_utf8(data) == decodes


def test_lines_with_a_field_too_many_or_too_few_are_error_records_in_their_place(tmp_path, monkeypatch):
    # Parsed by pyarrow with the plain lines (no record reader), between quoted records.
    rows = [",".join(claim_row(claim_id=f"C{i}").values()) for i in range(1, 9)]
    rows[1] += ",extra"
    rows[2] = rows[2].replace(",APPROVED,", ',"APP,ROVED",')
    rows[4] = rows[4].rsplit(",", 1)[0]
    rows[6] = rows[6].replace(",APPROVED,", ',"APP,ROVED",')
    source = tmp_path / "claims.csv"
    source.write_bytes("\n".join([",".join(CLAIMS.column_names), *rows]).encode())
    handed = _record_reader_numbers(monkeypatch)
    reading = records.tokenize(source, "utf-8", CLAIMS, tmp_path / "c.parquet")
    landed = pq.read_table(tmp_path / "c.parquet").to_pylist()
    assert handed == [0, 3, 7]  # the header and the two quoted records
    assert [row[records.LINE_NO] for row in landed] == list(range(1, 9))
    assert [row[records.RAW_LINE] for row in landed] == rows
    fields = len(CLAIMS.column_names)
    assert [row[records.ERROR] for row in landed] == [
        None,
        f"expected {fields} fields as in the header, got {fields + 1}",
        None,
        None,
        f"expected {fields} fields as in the header, got {fields - 1}",
        None,
        None,
        None,
    ]
    assert landed[1]["claim_id"] is None and landed[2]["status"] == "APP,ROVED"
    assert reading.rows == 8 and reading.error_rows == 2


def test_a_failed_write_fails_the_reading(tmp_path, monkeypatch):
    source = tmp_path / "claims.csv"
    source.write_bytes(csv_text([claim_row()]).encode())

    def full(self, table):
        raise OSError("No space left on device")

    monkeypatch.setattr(records.pq.ParquetWriter, "write_table", full)
    with pytest.raises(OSError, match="No space left"):
        records.tokenize(source, "utf-8", CLAIMS, tmp_path / "c.parquet")


def test_a_failed_reading_is_the_error_said_though_its_last_write_failed_too(tmp_path, monkeypatch):
    source = tmp_path / "claims.csv"
    source.write_bytes(csv_text([claim_row("C1"), claim_row("C2")]).encode())

    def full(self, table):
        raise OSError("No space left on device")

    real_block = records._Sink.block

    def broken(self, *args):
        real_block(self, *args)  # hands a row group to the writer (BATCH_ROWS = 1)
        raise RuntimeError("the reader broke")

    monkeypatch.setattr(records, "BATCH_ROWS", 1)
    monkeypatch.setattr(records.pq.ParquetWriter, "write_table", full)
    monkeypatch.setattr(records._Sink, "block", broken)
    with pytest.raises(RuntimeError, match="the reader broke"):
        records.tokenize(source, "utf-8", CLAIMS, tmp_path / "c.parquet")


def test_a_source_that_cannot_be_opened_leaves_no_landed_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        records.tokenize(tmp_path / "missing.csv", "utf-8", CLAIMS, tmp_path / "c.parquet")
    assert not (tmp_path / "c.parquet").exists()
