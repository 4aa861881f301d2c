"""The publish stage: OUTPUT/documents/ (and removed/, signatures/) from the last
document stage, written in a layout that does not depend on Spark's partitioning."""

from __future__ import annotations

import math
import re
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from curate.columns import (
    OUTPUT_COLUMNS,
    REMOVAL_COLUMNS,
    read_kept,
    read_removed,
    with_late_columns,
)
from curate.config import Config
from curate.dedup.stage import write_signatures
from curate.io.atomic import atomic_dir
from curate.stats import StageStats, check_accounting

# zstd on web text: Parquet files come out at roughly a third of the UTF-8 text size.
_COMPRESSED_FRACTION = 0.35


def _name_parts(directory: Path) -> None:
    """Give Spark's part files stable names (part-00003.zstd.parquet) and drop .crc files."""
    for crc in directory.glob(".*.crc"):
        crc.unlink()
    pattern = re.compile(r"^part-(\d+)-[0-9a-f-]+-c\d+((?:\.\w+)?\.parquet)$")
    for part in directory.glob("part-*.parquet"):
        m = pattern.match(part.name)
        if m:
            part.rename(directory / f"part-{m.group(1)}{m.group(2)}")


def write_documents(docs: DataFrame, out_dir: Path, n_files: int, compression: str) -> None:
    """Deterministic layout: file = hash(id) mod n_files, rows sorted by id inside a file."""
    with atomic_dir(out_dir) as tmp:
        ordered = docs.repartition(n_files, "id").sortWithinPartitions("id")
        ordered.write.option("compression", compression).parquet(str(tmp))
        _name_parts(tmp)


def _n_files(df: DataFrame, cfg: Config) -> int:
    text_bytes = df.agg(F.sum(F.octet_length("text"))).first()[0] or 0
    target_bytes = cfg.output.target_file_mb * 1024 * 1024
    return max(1, math.ceil(text_bytes * _COMPRESSED_FRACTION / target_bytes))


def publish(
    spark: SparkSession,
    cfg: Config,
    out: Path,
    last_table: Path,
    removing_tables: list[Path],
    stages: list[StageStats],
) -> int:
    """documents/ from the last stage's kept rows; removed/ (``quality.keep_removed``) from
    every stage that removes; signatures/ when dedup ran. Returns the documents' count,
    checked against the stages' accounting."""
    compression = cfg.output.compression
    kept = with_late_columns(read_kept(spark, str(last_table))).select(*OUTPUT_COLUMNS)
    write_documents(kept, out / "documents", _n_files(kept, cfg), compression)
    if cfg.dedup.enabled:
        write_signatures(spark, out, cfg.dedup, compression)
    if cfg.quality.keep_removed:
        removed = None
        for table in removing_tables:
            rows = read_removed(spark, str(table))
            if rows is not None:
                rows = with_late_columns(rows).select(*OUTPUT_COLUMNS, *REMOVAL_COLUMNS)
                removed = rows if removed is None else removed.unionByName(rows)
        if removed is not None:
            write_documents(removed, out / "removed", _n_files(removed, cfg), compression)
    n_docs = spark.read.parquet(str(out / "documents")).count()
    check_accounting(stages, n_docs)
    return n_docs
