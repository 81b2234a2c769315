"""Which drops a run sees, and manifests that disagree with their files."""

import contextlib
import json
import os
import re
import signal
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


# --- hostile landing files (issue #19): only regular files inside the landing ---------


@contextlib.contextmanager
def no_hang(seconds=10):
    """Fail instead of waiting forever (a named pipe opened for reading waits for a writer)."""

    def timeout(signum, frame):
        raise TimeoutError(f"still waiting after {seconds}s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _refused(landing, expected):
    with no_hang(), pytest.raises(DropError) as error:
        discover(landing, date(2026, 3, 2))
    message = str(error.value)
    assert re.search(expected, message), message
    assert "\n" not in message
    return message


def _claims_drop(landing):
    return write_drop(landing, "ei", "2026-03-02", {"claims": csv_text([claim_row()])})


def test_a_listed_table_linked_to_a_device_outside_the_landing_is_refused(tmp_path):
    drop = _claims_drop(tmp_path)
    (drop / "claims.csv").unlink()
    (drop / "claims.csv").symlink_to("/dev/zero")
    _refused(tmp_path, r"^ei/2026-03-02/claims.csv: a symbolic link to /dev/zero, outside the landing: refused$")


def test_a_listed_table_linked_to_a_file_outside_the_landing_is_refused(tmp_path):
    landing = tmp_path / "landing"
    drop = _claims_drop(landing)
    outside = tmp_path / "elsewhere.csv"
    (drop / "claims.csv").rename(outside)
    (drop / "claims.csv").symlink_to(outside)
    _refused(landing, r"^ei/2026-03-02/claims.csv: a symbolic link to .*elsewhere.csv, outside the landing")


def test_a_listed_table_linked_to_a_file_inside_the_landing_is_read(tmp_path):
    drop = _claims_drop(tmp_path)
    kept = tmp_path / ".kept" / "claims.csv"
    kept.parent.mkdir()
    (drop / "claims.csv").rename(kept)
    (drop / "claims.csv").symlink_to(kept)
    [found] = discover(tmp_path, date(2026, 3, 2))
    with found.open(found.file("claims")) as handle:
        assert handle.read().startswith(b"claim_id,")


@pytest.mark.parametrize("linked", [False, True], ids=["pipe", "link-to-pipe"])
def test_a_listed_table_that_is_a_named_pipe_is_refused_without_waiting(tmp_path, linked):
    drop = _claims_drop(tmp_path)
    (drop / "claims.csv").unlink()
    pipe = drop / "claims.csv"
    if linked:
        pipe = tmp_path / "pipe"
        (drop / "claims.csv").symlink_to(pipe)
    os.mkfifo(pipe)
    _refused(tmp_path, r"^ei/2026-03-02/claims.csv: a named pipe, not a regular file: refused$")


def test_a_directory_in_place_of_a_table_is_refused(tmp_path):
    drop = _claims_drop(tmp_path)
    (drop / "claims.csv").unlink()
    (drop / "claims.csv").mkdir()
    _refused(tmp_path, r"^ei/2026-03-02/claims.csv: a directory, not a regular file: refused$")


def test_a_manifest_that_is_a_named_pipe_or_a_link_out_is_refused_without_waiting(tmp_path):
    drop = _claims_drop(tmp_path)
    (drop / "_MANIFEST.json").unlink()
    os.mkfifo(drop / "_MANIFEST.json")
    _refused(tmp_path, r"^ei/2026-03-02/_MANIFEST.json: a named pipe, not a regular file")
    (drop / "_MANIFEST.json").unlink()
    (drop / "_MANIFEST.json").symlink_to("/dev/zero")
    _refused(tmp_path, r"^ei/2026-03-02/_MANIFEST.json: a symbolic link to /dev/zero, outside the landing")


def test_a_drop_directory_linked_out_of_the_landing_is_refused(tmp_path):
    elsewhere = _claims_drop(tmp_path / "elsewhere")
    landing = tmp_path / "landing"
    (landing / "ei").mkdir(parents=True)
    (landing / "ei" / "2026-03-02").symlink_to(elsewhere)
    _refused(landing, r"^ei/2026-03-02/_MANIFEST.json: a symbolic link to .*elsewhere.*, outside the landing")


def test_a_manifest_nested_200000_levels_deep_is_refused_in_one_line(tmp_path):
    drop = _claims_drop(tmp_path)
    depth = 200_000
    (drop / "_MANIFEST.json").write_text('{"tables": ' + "[" * depth + "]" * depth + "}")
    _refused(tmp_path, r"^ei/2026-03-02/_MANIFEST.json: not valid JSON \(nested too deeply\)$")


def test_a_manifest_over_a_mebibyte_is_refused(tmp_path):
    drop = _claims_drop(tmp_path)
    (drop / "_MANIFEST.json").write_text('{"note": "' + "x" * (1 << 20) + '"}')
    _refused(tmp_path, r"^ei/2026-03-02/_MANIFEST.json: larger than 1048576 bytes, not a manifest$")


@pytest.mark.parametrize("rows", [True, False, 1.0, "1", None])
def test_rows_must_be_a_true_integer(tmp_path, rows):
    # bool is an int in Python: `"rows": true` would pass as 1.
    _claims_drop(tmp_path)
    manifest_path = tmp_path / "ei" / "2026-03-02" / "_MANIFEST.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["claims.csv"]["rows"] = rows
    manifest_path.write_text(json.dumps(manifest))
    _refused(tmp_path, r"^ei/2026-03-02/_MANIFEST.json: claims.csv: 'rows' must be a non-negative integer$")


def test_an_unlisted_file_with_a_line_break_in_its_name_is_named_on_one_line(tmp_path):
    drop = _claims_drop(tmp_path)
    (drop / "extra\nfile.csv").write_text("x")
    _refused(tmp_path, r"^ei/2026-03-02/extra\\x0afile.csv: file is not listed in the manifest$")
