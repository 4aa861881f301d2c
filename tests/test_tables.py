"""Stage tables: a small per-document table written beside the files of a big one
(``write_by_part``) and joined onto them file by file (``map_table(side=...)``)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from curate.storage import Storage, join
from curate.tables import PART, Table, attach, map_table, read_table, write_by_part, write_file

SCHEMA = pa.schema([("id", pa.string()), ("n", pa.int64())])


def test_attach_is_a_left_join_that_keeps_the_order():
    batch = pa.RecordBatch.from_pydict({"id": ["c", "a", "b"], "n": [3, 1, 2]}, schema=SCHEMA)
    side = pa.table({"id": ["b", "c", "z"], "mark": ["B", "C", "Z"]})
    fields = [pa.field("mark", pa.string())]
    assert attach(batch, side, fields).to_pylist() == [
        {"id": "c", "n": 3, "mark": "C"},
        {"id": "a", "n": 1, "mark": None},
        {"id": "b", "n": 2, "mark": "B"},
    ]
    none = attach(batch, None, fields)
    assert none.column("mark").null_count == 3 and none.schema.names == ["id", "n", "mark"]


def test_side_rows_meet_the_file_they_came_from(spark, tmp_path):
    st = Storage()
    folder = str(tmp_path / "big")
    files = []
    for k, ids in enumerate([["a", "b", "c"], ["d", "e"], ["f", "g", "h", "i"]]):
        name = f"part-{k:05d}.parquet"
        rows = {"id": ids, "n": list(range(len(ids)))}
        batch = pa.RecordBatch.from_pydict(rows, schema=SCHEMA)
        n = write_file(st, join(folder, name), iter([batch]), SCHEMA, "zstd")
        files.append({"name": name, "rows": n, "bytes": 0})
    big = Table(folder, from_arrow_schema(SCHEMA).json(), files)

    # Marks for the documents whose n is even, but none in file 1: it gets no side file.
    ids = read_table(spark, st, big, ["id", "n"], part=True)
    assert sorted((r["id"], r[PART]) for r in ids.collect())[:4] == [
        ("a", 0), ("b", 0), ("c", 0), ("d", 1)
    ]  # fmt: skip
    marks = ids.where((F.col("n") % 2 == 0) & (F.col(PART) != 1)).select(
        "id", F.concat(F.lit("even-"), "id").alias("mark"), PART
    )
    side = write_by_part(marks, st, str(tmp_path / "marks"), "zstd")
    assert [f["name"] for f in side.files] == ["part-00000.zstd.parquet", "part-00002.zstd.parquet"]
    assert pq.read_table(join(side.folder, side.files[1]["name"])).column_names == ["id", "mark"]

    out_schema = SCHEMA.append(pa.field("mark", pa.string()))
    out = map_table(spark, st, big, str(tmp_path / "out"), lambda: (lambda b: b), out_schema,
                    "zstd", side=side)  # fmt: skip
    got = [pq.read_table(uri).to_pylist() for uri in out.uris]
    assert [[(r["id"], r["mark"]) for r in rows] for rows in got] == [
        [("a", "even-a"), ("b", None), ("c", "even-c")],
        [("d", None), ("e", None)],
        [("f", "even-f"), ("g", None), ("h", "even-h"), ("i", None)],
    ]
