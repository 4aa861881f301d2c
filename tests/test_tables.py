"""map_table with a side table: each file's rows joined, position for position, to the side
file written from it, and a side file that is not the file's rows refused by name."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from curate.storage import Storage
from curate.tables import map_table, read_table, write_table

OUT = pa.schema([("id", pa.string()), ("text", pa.string()), ("n", pa.int32())])


def _files(spark, folder, rows: int, files: int):
    docs = spark.range(rows).select(
        F.format_string("doc-%03d", "id").alias("id"), F.repeat(F.lit("ab"), "id").alias("text")
    )
    return write_table(docs.repartition(files, "id").sortWithinPartitions("id"), Storage(),
                       str(folder), "zstd")  # fmt: skip


def _with_length():
    def make():
        def join(batch: pa.RecordBatch, side: pa.Table) -> pa.RecordBatch:
            n = side.column("n").combine_chunks()
            return pa.RecordBatch.from_arrays([batch.column("id"), batch.column("text"), n],
                                              schema=OUT)  # fmt: skip

        return join

    return make


def test_side_rows_join_their_file(spark, tmp_path):
    st = Storage()
    table = _files(spark, tmp_path / "docs", 40, 3)
    lengths = read_table(spark, st, table, ["id", "text"]).select(
        "id", F.length("text").cast("int").alias("n")
    )
    side = write_table(lengths, st, str(tmp_path / "side"), "zstd", stable_names=True)
    out = map_table(spark, st, table, str(tmp_path / "out"), _with_length(), OUT, "zstd",
                    side=side)  # fmt: skip
    rows = pq.read_table(tmp_path / "out").to_pylist()
    assert len(rows) == 40 and all(r["n"] == len(r["text"]) for r in rows)
    assert out.rows == 40 and len(out.files) == len(table.files)


def test_a_side_file_of_other_rows_is_refused(spark, tmp_path):
    st = Storage()
    table = _files(spark, tmp_path / "docs", 40, 3)
    # Reshuffled: a side partition no longer holds its file's rows.
    moved = read_table(spark, st, table, ["id", "text"]).repartition(3, F.col("text"))
    lengths = moved.select("id", F.length("text").cast("int").alias("n"))
    side = write_table(lengths, st, str(tmp_path / "side"), "zstd", stable_names=True)
    with pytest.raises(Exception, match="side file"):
        map_table(spark, st, table, str(tmp_path / "out"), _with_length(), OUT, "zstd",
                  side=side)  # fmt: skip
