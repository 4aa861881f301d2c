"""How a stage table's files are grouped into read tasks (``read_groups``)."""

from __future__ import annotations

import pytest

from curate.tables import byte_size, read_groups

MIB = 1024 * 1024
# Spark's defaults for spark.sql.files.maxPartitionBytes and openCostInBytes.
PACK_BYTES, OPEN_COST = 128 * MIB, 4 * MIB


def _files(mib: list[float]) -> list[dict]:
    return [{"name": f"part-{i:05d}.parquet", "rows": 1, "bytes": int(m * MIB)}
            for i, m in enumerate(mib)]  # fmt: skip


def test_one_group_per_core_balanced_by_bytes():
    groups = read_groups(_files([9, 1, 5, 4, 2, 3]), 2, PACK_BYTES, OPEN_COST)
    # 4 MiB OPEN_COST a file: 13, 9, 8, 7, 6, 5 MiB, each into the lighter group.
    assert groups == [[0, 1, 5], [2, 3, 4]]  # 25 and 23 MiB
    assert sorted(i for g in groups for i in g) == list(range(6))


def test_more_groups_when_a_group_would_pass_the_cap_and_never_more_than_files():
    groups = read_groups(_files([32] * 12), 2, PACK_BYTES, OPEN_COST)
    assert len(groups) == 4  # 12 x 36 MiB (with OPEN_COST) need 4 groups of 128, not 2
    assert [len(g) for g in groups] == [3, 3, 3, 3]
    assert read_groups(_files([1]), 8, PACK_BYTES, OPEN_COST) == [[0]]
    assert read_groups(_files([1, 1, 1]), 8, PACK_BYTES, OPEN_COST) == [[0], [1], [2]]
    # A small maxPartitionBytes (as a user may set it): every file its own task.
    assert len(read_groups(_files([1] * 5), 2, 16 * 1024, 0)) == 5


def test_spark_size_settings():
    assert byte_size("128MB") == PACK_BYTES and byte_size("4194304") == OPEN_COST
    assert byte_size("16k") == 16 * 1024 and byte_size("2g") == 2 << 30
    with pytest.raises(ValueError, match="not a size"):
        byte_size("lots")


def test_local_table_read_by_spark_scan_with_columns_and_rows(spark, tmp_path):
    """A local table is read by Spark's own Parquet scan (no Python task): the columns
    asked for, the rows picked by the null test, a path with an `=` in it not taken for a
    partition column, and an empty table with its schema; a path Spark would take for a
    glob pattern is read by the Python reader, to the same rows."""
    from curate.storage import Storage
    from curate.tables import Table, read_table, write_table

    st = Storage()
    df = spark.createDataFrame(
        [("a", "x", 1), ("b", None, 2), ("c", "y", 3)], "id string, reason string, n int"
    ).repartition(2)
    table = write_table(df, st, str(tmp_path / "crawl=2024 a" / "docs"), "zstd")
    plan = read_table(spark, st, table)._jdf.queryExecution().executedPlan().toString()
    assert "FileScan parquet" in plan and "MapInArrow" not in plan
    kept = read_table(spark, st, table, ["id", "n"], ("reason", True))
    assert kept.columns == ["id", "n"] and [tuple(r) for r in kept.collect()] == [("b", 2)]
    removed = read_table(spark, st, table, ["id"], ("reason", False))
    assert sorted(r["id"] for r in removed.collect()) == ["a", "c"]
    assert read_table(spark, st, table).columns == ["id", "reason", "n"]
    empty = Table(str(tmp_path / "none"), table.schema)
    assert read_table(spark, st, empty).count() == 0
    globbed = write_table(df, st, str(tmp_path / "run[1]"), "zstd")
    plan = read_table(spark, st, globbed)._jdf.queryExecution().executedPlan().toString()
    assert "MapInArrow" in plan
    again = read_table(spark, st, globbed, ["id", "n"], ("reason", True))
    assert [tuple(r) for r in again.collect()] == [("b", 2)]


def _doubled(batches):
    import pyarrow as pa
    import pyarrow.compute as pc

    for batch in batches:
        kept = batch.filter(pc.greater(batch.column("n"), 1))  # some batches come out empty
        yield pa.RecordBatch.from_arrays(
            [kept.column("id"), pc.multiply(kept.column("n"), 2)], names=["id", "n2"]
        )


def test_write_through_a_function_is_mapinarrow_then_write(spark, tmp_path):
    """``through`` runs the function in the writing task: the same table as writing
    ``df.mapInArrow(fn)``, files and schema, and an output with no rows still has one."""
    import pyarrow as pa

    from curate.storage import Storage
    from curate.tables import read_table, write_table

    st = Storage()
    df = spark.createDataFrame(
        [("a", 1), ("b", 2), ("c", 3), ("d", 1)], "id string, n bigint"
    ).repartition(3, "id")
    schema = pa.schema([("id", pa.string()), ("n2", pa.int64())])
    fused = write_table(df, st, str(tmp_path / "fused"), "zstd", True, (_doubled, schema))
    chained = write_table(df.mapInArrow(_doubled, "id string, n2 bigint"), st,
                          str(tmp_path / "chained"), "zstd", True)  # fmt: skip
    assert fused.files == chained.files and fused.schema == chained.schema
    rows = sorted(tuple(r) for r in read_table(spark, st, fused).collect())
    assert rows == [("b", 4), ("c", 6)]
    none = write_table(df.where("n > 5"), st, str(tmp_path / "none"), "zstd", True,
                       (_doubled, schema))  # fmt: skip
    assert [f["rows"] for f in none.files] == [0] and read_table(spark, st, none).count() == 0
