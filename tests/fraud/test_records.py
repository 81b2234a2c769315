"""Reading delivered files: encodings, BOM, quoting, broken records, headers."""

import pyarrow.parquet as pq
from conftest import P1, claim_row, csv_text

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
