"""Layered conformed tables (fraud/layers.py): a night writes its re-decided records as
a layer over hard links to the earlier night's files; readers see each key's latest
version; too many layers are compacted into one plain directory."""

import shutil

import pytest

from fraud import layers

SCHEMA = "id string, value int"


def _write(spark, path, rows):
    spark.createDataFrame(rows, SCHEMA).write.parquet(str(path))
    return path


def _rows(spark, path):
    return sorted(tuple(r) for r in layers.read_table(spark, path, "id").collect())


def _night(spark, tmp_path, previous, name, rows):
    night = _write(spark, tmp_path / f"night-{name}", rows)
    final = tmp_path / name
    return final, layers.add_layer(spark, previous, night, final, "id")


def test_a_night_is_a_layer_over_links_and_readers_see_the_latest_versions(spark, tmp_path):
    base = _write(spark, tmp_path / "base", [("a", 1), ("b", 2), ("c", 3)])
    first, how = _night(spark, tmp_path, base, "first", [("b", 20), ("d", 4)])
    assert how == "layered"
    assert _rows(spark, first) == [("a", 1), ("b", 20), ("c", 3), ("d", 4)]
    second, how = _night(spark, tmp_path, first, "second", [("a", 100), ("d", 40)])
    assert how == "layered"
    assert _rows(spark, second) == [("a", 100), ("b", 20), ("c", 3), ("d", 40)]
    stack = layers.layers(second)
    assert [layer["rows"] for layer in stack] == [3, 2, 2]
    # The base's files are the same inodes, not copies.
    base_file = next(base.glob("part-*.parquet"))
    linked = second / layers.LAYERS_DIR / "0000" / base_file.name
    assert linked.stat().st_ino == base_file.stat().st_ino
    # Each night holds its own links: deleting the earlier nights changes nothing.
    shutil.rmtree(base)
    shutil.rmtree(first)
    assert _rows(spark, second) == [("a", 100), ("b", 20), ("c", 3), ("d", 40)]


def test_a_plain_read_of_a_layered_table_fails_rather_than_showing_old_versions(spark, tmp_path):
    base = _write(spark, tmp_path / "base", [("a", 1)])
    night, _ = _night(spark, tmp_path, base, "night", [("a", 2)])
    with pytest.raises(Exception, match="(?i)infer schema|UNABLE_TO_INFER_SCHEMA"):
        spark.read.parquet(str(night)).collect()


def test_too_many_layers_or_rows_are_compacted_into_one_plain_directory(spark, tmp_path, monkeypatch):
    monkeypatch.setattr(layers, "MAX_LAYERS", 3)
    table = _write(spark, tmp_path / "base", [("a", 0), ("b", 0)])
    hows = []
    for night in range(1, 4):
        table, how = _night(spark, tmp_path, table, f"n{night}", [("a", night)])
        hows.append(how)
    assert hows == ["layered", "layered", "compacted"]
    assert layers.layers(table) is None
    assert sorted(tuple(r) for r in spark.read.parquet(str(table)).collect()) == [("a", 3), ("b", 0)]
    assert not (tmp_path / "night-n3").exists()

    monkeypatch.setattr(layers, "MAX_LAYERS", 8)
    monkeypatch.setattr(layers, "MAX_LAYER_ROWS", 2)
    table, how = _night(spark, tmp_path, table, "big", [("a", 9), ("c", 9), ("d", 9)])
    assert how == "compacted"
    assert _rows(spark, table) == [("a", 9), ("b", 0), ("c", 9), ("d", 9)]


def test_a_night_that_re_decided_nothing_adds_no_layer(spark, tmp_path):
    base = _write(spark, tmp_path / "base", [("a", 1)])
    first, _ = _night(spark, tmp_path, base, "first", [("a", 2)])
    second, how = _night(spark, tmp_path, first, "second", [])
    assert how == "unchanged"
    assert layers.layers(second) == layers.layers(first)
    assert _rows(spark, second) == [("a", 2)]


def test_link_tree_copies_only_what_the_file_system_refuses_to_link_and_raises_on_anything_else(
    tmp_path, monkeypatch, caplog
):
    import errno
    import os

    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "a.parquet").write_bytes(b"a")
    (source / "sub" / "b.parquet").write_bytes(b"b")
    assert layers.link_tree(source, tmp_path / "linked") == 0
    assert (tmp_path / "linked" / "sub" / "b.parquet").stat().st_ino == (source / "sub" / "b.parquet").stat().st_ino

    def refuse(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", refuse)
    with caplog.at_level("WARNING", logger="fraud.layers"):
        assert layers.link_tree(source, tmp_path / "copied") == 2
    assert (tmp_path / "copied" / "sub" / "b.parquet").read_bytes() == b"b"
    assert [r.getMessage() for r in caplog.records if "refused hard links" in r.getMessage()] == [
        f"{source}: the file system refused hard links (Invalid cross-device link); copied 2 file(s) instead: "
        "a night then costs a copy of the history"
    ]

    def vanished(src, dst):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")

    monkeypatch.setattr(os, "link", vanished)
    with pytest.raises(FileNotFoundError):  # a base swapped away mid-link is not papered over with copies
        layers.link_tree(source, tmp_path / "gone")


def test_rows_are_counted_from_the_files_and_a_layered_tables_rows_kept_in_its_marker(spark, tmp_path):
    partitioned = tmp_path / "partitioned"
    spark.createDataFrame(
        [("a", 1, "2026-03-02"), ("b", 2, "2026-03-03"), ("c", 3, "2026-03-03")],
        "id string, value int, _drop_date string",
    ).write.partitionBy("_drop_date").parquet(str(partitioned))
    # Spark's _SUCCESS and .crc files are not rows; a partition directory is.
    assert layers.parquet_rows(partitioned) == 3 == spark.read.parquet(str(partitioned)).count()
    assert layers.parquet_rows(partitioned / "_drop_date=2026-03-03") == 2
    assert layers.table_rows(partitioned) == 3

    base = _write(spark, tmp_path / "base", [("a", 1), ("b", 2)])
    counted = tmp_path / "counted"
    layers.add_layer(spark, base, _write(spark, tmp_path / "n1", [("b", 20), ("c", 3)]), counted, "id", rows=3)
    assert layers.table_rows(counted) == 3 == layers.read_table(spark, counted, "id").count()
    # Without the caller's count the marker says nothing, and nothing is guessed.
    uncounted = tmp_path / "uncounted"
    layers.add_layer(spark, base, _write(spark, tmp_path / "n2", [("d", 4)]), uncounted, "id")
    assert layers.table_rows(uncounted) is None
