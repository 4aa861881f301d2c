"""Parquet tables of a run, written and read by the executors through the storage layer.

Spark's own Parquet reader and writer need Hadoop connectors (s3a, gs) for object stores;
these go through ``curate.storage`` instead, so a run works wherever pyarrow reaches
(local tables are read by Spark's own scan, see ``read_table``; every file is written by
curate's writer, so its bytes depend on its rows alone). A
``Table`` is a folder and the files in it that count (a stage's marker lists them, see
``curate.runner``): a reader never lists the folder, so a crashed writer's leftovers are
never read.
"""

from __future__ import annotations

import heapq
import json
import math
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark import TaskContext
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema
from pyspark.sql.types import StructType

from curate.storage import Storage, StorageError, absolute, is_local, join

# Rows per row group: fixed, so a file's bytes depend on its rows alone, never on how
# Spark batched them.
ROW_GROUP_ROWS = 8192
READ_BATCH_ROWS = 8192
# How read_table groups a table's files into tasks: the settings Spark's own Parquet scans
# use, with their defaults (128 MiB, 4 MiB).
PACK_SETTINGS = ("spark.sql.files.maxPartitionBytes", "spark.sql.files.openCostInBytes")
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
FILES_DDL = "name string, rows bigint, bytes bigint"
_GLOB = re.compile(r"[*?\[\]{}\\]")
# A stage's per-batch work inside map_table: a batch in, a batch out.
Kernel = Callable[[pa.RecordBatch], pa.RecordBatch]
# A partition's batches in, others out: what Spark's mapInArrow runs.
Partitions = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]


@dataclass
class Table:
    """``files``: {"name", "rows", "bytes"} of each file under ``folder`` that counts."""

    folder: str
    schema: str  # Spark StructType as JSON
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(f["rows"] for f in self.files)

    @property
    def uris(self) -> list[str]:
        return [join(self.folder, f["name"]) for f in self.files]

    @property
    def struct(self) -> StructType:
        return StructType.fromJson(json.loads(self.schema))

    def to_json(self, root: str) -> dict[str, Any]:
        """With the folder relative to ``root`` (the output folder), so a moved output
        stays readable."""
        rel = self.folder[len(root.rstrip("/")) + 1 :] if self.folder.startswith(root) else None
        return {"folder": rel or self.folder, "schema": json.loads(self.schema),
                "files": self.files}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any], root: str) -> Table:
        folder = data["folder"]
        if "://" not in folder and not folder.startswith("/"):
            folder = join(root, folder)
        return cls(folder, json.dumps(data["schema"]), data["files"])


class _RowGroups:
    """A Parquet file written in row groups of exactly ``ROW_GROUP_ROWS`` rows."""

    def __init__(self, sink: Any, schema: pa.Schema, compression: str) -> None:
        codec = None if compression == "none" else compression
        self.writer = pq.ParquetWriter(sink, schema, compression=codec)
        self.pending: list[pa.RecordBatch] = []
        self.n_pending = 0
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.pending.append(batch)
        self.n_pending += batch.num_rows
        if self.n_pending >= ROW_GROUP_ROWS:
            table = pa.Table.from_batches(self.pending)
            full = (self.n_pending // ROW_GROUP_ROWS) * ROW_GROUP_ROWS
            self.writer.write_table(table.slice(0, full), row_group_size=ROW_GROUP_ROWS)
            self.pending = table.slice(full).to_batches()
            self.n_pending -= full
            self.rows += full

    def close(self) -> int:
        if self.n_pending or not self.rows:
            table = pa.Table.from_batches(self.pending, self.writer.schema)
            self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            self.rows += self.n_pending
        self.writer.close()
        return self.rows


def part_name(index: int, compression: str, token: str | None) -> str:
    """``part-00003.zstd.parquet`` (stable), or with a run token (unique)."""
    codec = "" if compression == "none" else f".{compression}"
    unique = f"-{token}" if token else ""
    return f"part-{index:05d}{unique}{codec}.parquet"


def write_file(
    st: Storage, uri: str, batches: Iterator[pa.RecordBatch], schema: pa.Schema, compression: str
) -> int:
    """Stream ``batches`` into one Parquet file at ``uri``; its rows."""
    try:
        with st.open_output(uri) as sink:
            writer = _RowGroups(sink, schema, compression)
            for batch in batches:
                writer.add(batch)
            return writer.close()
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"{uri}: write failed: {exc}") from None


def _writer(st: Storage, folder: str, compression: str, token: str | None, arrow_schema: bytes,
            through: Partitions | None):  # fmt: skip
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        if through is not None:  # as after mapInArrow, a partition of no rows is none
            batches = (b for b in through(batches) if b.num_rows)
        first = next(batches, None)
        if first is None:
            return  # an empty partition writes no file
        ctx = TaskContext.get()
        # A retried task writes another unique name; only the attempt Spark keeps is listed.
        unique = f"{token}-{ctx.attemptNumber()}" if token else None
        name = part_name(ctx.partitionId(), compression, unique)
        uri = join(folder, name)
        schema = pa.ipc.read_schema(pa.py_buffer(arrow_schema))

        def all_batches() -> Iterator[pa.RecordBatch]:
            yield first
            yield from batches

        rows = write_file(st, uri, (b.cast(schema) for b in all_batches()), schema, compression)
        size = st.info(uri).size
        yield pa.RecordBatch.from_pydict({"name": [name], "rows": [rows], "bytes": [size]})

    return run


def write_table(
    df: DataFrame,
    st: Storage,
    folder: str,
    compression: str,
    stable_names: bool = False,
    through: tuple[Partitions, pa.Schema] | None = None,
) -> Table:
    """Each partition of ``df`` written by its task as one file under ``folder``: named
    ``part-<partition>`` (``stable_names``: the layout is the caller's, e.g. a hash
    partitioning) or with a token unique to this write. ``through`` (fn, its output
    schema): each partition passes through fn, as ``df.mapInArrow(fn)`` would, in the
    task that writes it: one Python worker a task where two would each start, import and
    load what they need, and the rows cross to the JVM once. Returns the files written."""
    struct = df.schema if through is None else from_arrow_schema(through[1])
    arrow = to_arrow_schema(struct, timezone="UTC")  # the session time zone (curate.spark)
    token = None if stable_names else uuid.uuid4().hex[:12]
    fn = _writer(st, folder, compression, token, arrow.serialize().to_pybytes(),
                 through[0] if through else None)  # fmt: skip
    rows = df.mapInArrow(fn, FILES_DDL).collect()
    files = sorted((r.asDict() for r in rows), key=lambda f: f["name"])
    if not files:  # an empty table still has its schema on disk, for outside readers
        name = part_name(0, compression, token)
        write_file(st, join(folder, name), iter(()), arrow, compression)
        files = [{"name": name, "rows": 0, "bytes": st.info(join(folder, name)).size}]
    return Table(folder, struct.json(), files)


def _file_batches(st: Storage, uri: str, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
    try:
        parquet = pq.ParquetFile(st.open_random(uri))
        yield from parquet.iter_batches(batch_size=READ_BATCH_ROWS, columns=columns)
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"{uri}: read failed: {exc}") from None


def item_tasks(spark: SparkSession, n: int) -> DataFrame:
    """``n`` one-row partitions, row k holding ``id`` k: task k works on item k of a list
    its function captures. Made in the JVM: a parallelized Python list would need Python
    workers of the RDD API (a second daemon and pool) only to hand each task its row."""
    return spark.range(0, n, 1, max(1, n))


def task_items(batches: Iterator[pa.RecordBatch]) -> Iterator[int]:
    """The item numbers of an ``item_tasks`` task."""
    for batch in batches:
        yield from batch.column("id").to_pylist()


def _mapper(st: Storage, folder: str, compression: str, token: str, arrow_schema: bytes,
            uris: list[str], columns: list[str] | None, kernel: Callable[[], Kernel]):  # fmt: skip
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        schema = pa.ipc.read_schema(pa.py_buffer(arrow_schema))
        fn = kernel()
        attempt = TaskContext.get().attemptNumber()
        for index in task_items(batches):
            name = part_name(index, compression, f"{token}-{attempt}")
            out = (fn(b) for b in _file_batches(st, uris[index], columns))
            rows = write_file(st, join(folder, name), out, schema, compression)
            size = st.info(join(folder, name)).size
            yield pa.RecordBatch.from_pydict({"name": [name], "rows": [rows], "bytes": [size]})

    return run


def map_table(
    spark: SparkSession,
    st: Storage,
    table: Table,
    folder: str,
    kernel: Callable[[], Kernel],
    schema: pa.Schema,
    compression: str,
    columns: list[str] | None = None,
) -> Table:
    """``table`` file by file through ``kernel()`` (built once per task; the batches of a
    file in, ``schema``'s batches out) into one file each under ``folder``: read, kernel
    and write in one Python task, so the rows never cross to the JVM and back, and the
    kernel's models and caches stay in the process that uses them."""
    token = uuid.uuid4().hex[:12]
    arrow = schema.serialize().to_pybytes()
    fn = _mapper(st, folder, compression, token, arrow, table.uris, columns, kernel)
    rows = item_tasks(spark, len(table.uris)).mapInArrow(fn, FILES_DDL).collect()
    found = sorted((r.asDict() for r in rows), key=lambda f: f["name"])
    return Table(folder, from_arrow_schema(schema).json(), found)


def select_rows(
    batch: pa.RecordBatch, column: str, null: bool, columns: list[str]
) -> pa.RecordBatch:
    """The rows of ``batch`` where ``column`` is null (``null``) or set, as ``columns``."""
    is_null = pc.is_null(batch.column(column))
    return batch.filter(is_null if null else pc.invert(is_null)).select(columns)


def byte_size(text: str) -> int:
    """A Spark size setting in bytes: ``128MB``, ``16k``, ``4194304`` (bytes)."""
    match = re.fullmatch(r"\s*(\d+)\s*([bkmgt]?)b?\s*", text.lower())
    if match is None:
        raise ValueError(f"not a size in bytes: {text!r}")
    return int(match[1]) * _UNITS[match[2]]


def read_groups(
    files: list[dict[str, Any]], slots: int, pack_bytes: int, open_cost: int
) -> list[list[int]]:
    """The indices of ``files`` grouped into read tasks, as Spark groups a Parquet scan's
    files: at least ``slots`` groups (one per core) and more while a group would pass
    ``pack_bytes``, counting ``open_cost`` per file; the largest file first into the
    lightest group, each group in file order. A Python task has a fixed cost (about a
    tenth of a core second here), which one task per file paid on every read of a table."""
    sizes = [(f.get("bytes") or 0) + open_cost for f in files]
    n = min(len(files), max(slots, math.ceil(sum(sizes) / pack_bytes)))
    heap = [(0, g) for g in range(n)]
    groups: list[list[int]] = [[] for _ in range(n)]
    for i in sorted(range(len(files)), key=lambda i: (-sizes[i], i)):
        load, g = heapq.heappop(heap)
        groups[g].append(i)
        heapq.heappush(heap, (load + sizes[i], g))
    return [sorted(g) for g in groups if g]


def _reader(st: Storage, tasks: list[list[str]], columns: list[str],
            rows: tuple[str, bool] | None):  # fmt: skip
    read = columns if rows is None or rows[0] in columns else [*columns, rows[0]]

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for task in task_items(batches):
            for uri in tasks[task]:
                for part in _file_batches(st, uri, read):
                    yield part if rows is None else select_rows(part, *rows, columns)

    return run


def read_table(
    spark: SparkSession,
    st: Storage,
    table: Table,
    columns: list[str] | None = None,
    rows: tuple[str, bool] | None = None,
) -> DataFrame:
    """The table as a DataFrame read by the executors. ``rows`` (column, null): only the
    rows where that column is null (True) or set (False). Local files are Spark's own
    Parquet scan (in the JVM: no Python worker, columns pruned, the null test pushed
    down); an object store's are read by Python tasks through the storage layer, their
    files grouped into a few tasks (``read_groups``) and the rows picked in the reader, so
    the others' text never reaches Spark."""
    schema = table.struct
    if columns is not None:
        schema = StructType([schema[c] for c in columns])
    uris = table.uris
    if not uris:
        return spark.createDataFrame([], schema)
    paths = [f"file://{absolute(u)}" for u in uris if is_local(u)]  # whatever the default FS
    # Spark takes these characters in a path for a glob pattern.
    if len(paths) == len(uris) and not any(_GLOB.search(p) for p in paths):
        df = spark.read.schema(table.struct).parquet(*paths)
        if rows is not None:
            column, null = rows
            df = df.where(F.col(column).isNull() if null else F.col(column).isNotNull())
        return df.select(*schema.fieldNames())
    pack_bytes, open_cost = (byte_size(spark.conf.get(key)) for key in PACK_SETTINGS)
    groups = read_groups(table.files, spark.sparkContext.defaultParallelism, pack_bytes, open_cost)
    tasks = [[uris[i] for i in g] for g in groups]  # task k reads the files of tasks[k]
    return item_tasks(spark, len(tasks)).mapInArrow(
        _reader(st, tasks, schema.fieldNames(), rows), schema
    )


def list_table(st: Storage, folder: str) -> Table:
    """A published folder (``documents/``, ``signatures/``) as a table: its Parquet files,
    with the schema of the first."""
    entries = [e for e in st.list(folder) if e.uri.endswith(".parquet")]
    if not entries:
        raise FileNotFoundError(f"{folder}: no Parquet files")
    arrow = pq.ParquetFile(st.open_random(entries[0].uri)).schema_arrow
    files = [{"name": e.uri.rsplit("/", 1)[1], "rows": None, "bytes": e.size} for e in entries]
    return Table(folder, from_arrow_schema(arrow).json(), files)
