"""Column sets of the pipeline's tables, and how a stage's table is read by the next."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from curate.quality import SIGNAL_COLUMNS, classifier_columns
from curate.tables import select_rows

if TYPE_CHECKING:
    from curate.config import Config
    from curate.runner import Context
    from curate.tables import Table

RECORD_COLUMNS = [
    "id",
    "url",
    "host",
    "crawl_date",
    "warc_path",
    "warc_offset",
    "warc_record_id",
    "text",
    "n_chars",
    "repaired_chars",
]
DOCUMENT_COLUMNS = [*RECORD_COLUMNS, *SIGNAL_COLUMNS, "quality_bucket"]
# Published documents: after dedup (characters cut as repeated lines, cluster size), PII scrubbing
# (entities replaced, per entity) and decontamination (benchmarks matched, remove mode).
LATE_COLUMNS = {
    "line_chars_removed": "int",
    # A kept document's duplicate cluster: itself + the documents removed as its copies.
    "duplicate_count": "int",
    "pii_counts": "array<struct<entity:string,count:int>>",
    "contamination": "array<string>",
}


def document_columns(cfg: Config) -> list[str]:
    """DOCUMENT_COLUMNS with the run's classifier signals (one column per classifier)."""
    return [*RECORD_COLUMNS, *SIGNAL_COLUMNS, *classifier_columns(cfg), "quality_bucket"]


def output_columns(cfg: Config) -> list[str]:
    """Published documents' columns: the document columns, then the late ones."""
    return [*document_columns(cfg), *LATE_COLUMNS]


# Removed rows carry why, and for duplicates which document survived.
REMOVAL_COLUMNS = ["filter_reason", "duplicate_of"]


def read_kept(ctx: Context, table: Table, columns: list[str] | None = None) -> DataFrame:
    """A stage's documents that go on to the next stage (``filter_reason`` null), with
    ``columns`` (default: every column the stage wrote but the removal columns)."""
    names = table.struct.fieldNames()
    if "filter_reason" not in names:
        return ctx.read(table, columns)
    # The removed rows are dropped by the reader: their text never reaches Spark.
    columns = columns or [c for c in names if c not in REMOVAL_COLUMNS]
    return ctx.read(table, columns, ("filter_reason", True))


def kept_rows(batch: pa.RecordBatch, reason: str, columns: list[str]) -> pa.RecordBatch:
    """``read_kept`` for one batch inside a per-file task: the rows whose ``reason`` column
    (extract's ``reason``, later stages' ``filter_reason``) is null, as ``columns``."""
    return select_rows(batch, reason, True, columns)


def removing_tables(ctx: Context) -> dict[str, Table]:
    """The document tables, by stage, that hold removed rows (a ``filter_reason`` column),
    in run order: what removed/ and the report's funnel read."""
    out = {}
    for name, result in ctx.results.items():
        table = result.tables.get("documents")
        if table is not None and "filter_reason" in table.struct.fieldNames():
            out[name] = table
    return out


def read_removed(ctx: Context, table: Table, columns: list[str] | None = None) -> DataFrame | None:
    """A stage's removed documents (``filter_reason`` set), with ``columns`` (default:
    every column, ``duplicate_of`` added if the stage has none), or None if it removes
    none."""
    if "filter_reason" not in table.struct.fieldNames():
        return None
    df = ctx.read(table, columns, ("filter_reason", False))  # the kept rows' text stays unread
    if columns is None and "duplicate_of" not in df.columns:
        df = df.withColumn("duplicate_of", F.lit(None).cast("string"))
    return df


def with_late_columns(df: DataFrame) -> DataFrame:
    """Null late columns for rows removed before the stage that adds them."""
    for name, ddl in LATE_COLUMNS.items():
        if name not in df.columns:
            df = df.withColumn(name, F.lit(None).cast(ddl))
    return df
