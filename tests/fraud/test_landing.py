"""Which drops a run sees, and manifests that disagree with their files."""

import json
from datetime import date

import pytest

from conftest import claim_row, csv_text, write_drop
from fraud.landing import DropError, discover, sources_missing


def test_only_complete_drops_dated_on_or_before_ds_are_visible(tmp_path):
    write_drop(tmp_path, "ei", "2026-03-02", {"claims": csv_text([claim_row()])})
    write_drop(tmp_path, "ei", "2026-03-04", {"claims": csv_text([claim_row()])})
    unfinished = write_drop(tmp_path, "nts", "2026-03-02", {})
    (unfinished / "_MANIFEST.json").unlink()
    drops = discover(tmp_path, date(2026, 3, 3))
    assert [d.label for d in drops] == ["ei/2026-03-02"]
    assert sources_missing(tmp_path, date(2026, 3, 2)) == ["nts", "moj"]


def test_altered_file_is_named_in_a_one_line_error(tmp_path):
    drop = write_drop(tmp_path, "ei", "2026-03-02", {"claims": csv_text([claim_row()])})
    with open(drop / "claims.csv", "ab") as handle:
        handle.write(b"C2,x\r\n")
    with pytest.raises(DropError) as error:
        discover(tmp_path, date(2026, 3, 2))
    message = str(error.value)
    assert "ei/2026-03-02/claims.csv" in message and "sha256" in message and "\n" not in message


@pytest.mark.parametrize(
    "extra, expected",
    [
        ({"source": "nts"}, "does not match directory"),
        ({"drop_date": "2026-03-01"}, "does not match directory"),
        ({"encoding": "latin-1"}, "encoding 'latin-1'"),
        ({"tables": {"salaries.csv": {"rows": 0}}}, "not a table of source ei"),
        ({"tables": {"claims.csv": {"rows": 3, "sha256": "0" * 64}}}, "listed in the manifest with 3 rows but missing"),
    ],
)
def test_manifest_that_disagrees_with_its_drop_fails(tmp_path, extra, expected):
    write_drop(tmp_path, "ei", "2026-03-02", {}, manifest_extra=extra)
    with pytest.raises(DropError, match=expected):
        discover(tmp_path, date(2026, 3, 2))


def test_unlisted_file_and_broken_manifest_fail(tmp_path):
    drop = write_drop(tmp_path, "ei", "2026-03-02", {})
    (drop / "claims.csv").write_text("claim_id\n")
    with pytest.raises(DropError, match="claims.csv: file is not listed"):
        discover(tmp_path, date(2026, 3, 2))
    (drop / "claims.csv").unlink()
    (drop / "_MANIFEST.json").write_text("{not json")
    with pytest.raises(DropError, match="not valid JSON"):
        discover(tmp_path, date(2026, 3, 2))


def test_table_with_no_changes_may_be_absent_or_zero(tmp_path):
    write_drop(tmp_path, "ei", "2026-03-02", {}, manifest_extra={"tables": {"claims.csv": {"rows": 0}}})
    [drop] = discover(tmp_path, date(2026, 3, 2))
    assert drop.file("claims").rows == 0 and not drop.file("claims").present
    assert drop.file("findings") is None
    json.loads((tmp_path / "ei" / "2026-03-02" / "_MANIFEST.json").read_text())
