"""Extra non-crawl sources (Parquet / JSONL with a text column) read one task per file."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession

from curate.config import ConfigError, ExtraSource
from curate.storage import Storage, basename
from curate.tables import item_tasks, task_items

SOURCE_DDL = "id string, url string, text string, domain string"


def source_files(source: ExtraSource, st: Storage) -> list[str]:
    files = sorted(st.glob(source.path))
    if not files:
        raise ConfigError(f"mixture.sources ({source.domain}): {source.path} matches no file")
    return files


def read_source_file(path: str, source: ExtraSource, st: Storage) -> pa.RecordBatch:
    """Rows of one file: id (the id column, else blake2b of file name and row), text."""
    if source.format == "parquet":
        table = pq.read_table(st.open_random(path))
    else:
        table = pa_json.read_json(pa.BufferReader(st.read_bytes(path)))
    if source.text_column not in table.column_names:
        raise ConfigError(f"{path}: no column {source.text_column!r} (mixture.sources.text_column)")
    text = table.column(source.text_column).cast(pa.string())
    if source.id_column:
        if source.id_column not in table.column_names:
            raise ConfigError(f"{path}: no column {source.id_column!r} (mixture.sources.id_column)")
        ids = table.column(source.id_column).cast(pa.string())
    else:
        name = basename(path)
        ids = pa.array(
            [
                hashlib.blake2b(f"{name}:{i}".encode(), digest_size=16).hexdigest()
                for i in range(table.num_rows)
            ]
        )
    n = table.num_rows
    return pa.RecordBatch.from_arrays(
        [
            pa.array(ids.to_pylist(), pa.string()),
            pa.nulls(n, pa.string()),
            pa.array(text.to_pylist(), pa.string()),
            pa.array([source.domain] * n, pa.string()),
        ],
        names=["id", "url", "text", "domain"],
    )


def read_sources(spark: SparkSession, st: Storage, sources: list[ExtraSource]) -> DataFrame | None:
    jobs = [(path, s.model_dump_json()) for s in sources for path in source_files(s, st)]
    if not jobs:
        return None

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for k in task_items(batches):
            path, cfg = jobs[k]
            yield read_source_file(path, ExtraSource.model_validate_json(cfg), st)

    return item_tasks(spark, len(jobs)).mapInArrow(run, SOURCE_DDL)
