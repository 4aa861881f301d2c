"""Spark wiring of the pipeline: ingestion+extraction, accounting, documents output."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from curate import __version__
from curate.config import Config, ExtractConfig
from curate.extract import make_extractor
from curate.ingest import RECORD_SCHEMA, ingest_file
from curate.io.atomic import atomic_dir, write_json_atomic
from curate.io.paths import resolve_inputs
from curate.spark import build_session
from curate.stats import StageStats, check_accounting

DOCUMENT_COLUMNS = [
    "id",
    "url",
    "host",
    "crawl_date",
    "warc_path",
    "warc_offset",
    "warc_record_id",
    "text",
    "n_chars",
]
# zstd on web text: Parquet files come out at roughly a third of the UTF-8 text size.
_COMPRESSED_FRACTION = 0.35
_SPARK_TYPES = {
    pa.string(): "string",
    pa.int64(): "bigint",
    pa.int32(): "int",
    pa.timestamp("us", tz="UTC"): "timestamp",
}
RECORD_DDL = ", ".join(f"`{f.name}` {_SPARK_TYPES[f.type]}" for f in RECORD_SCHEMA)

# One extractor per executor process and config, built on first use.
_EXTRACTORS: dict[str, Callable[[str, str | None], str]] = {}


def _extract_partitions(cfg_json: str):
    def run_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        cfg = ExtractConfig.model_validate_json(cfg_json)
        if cfg_json not in _EXTRACTORS:
            _EXTRACTORS[cfg_json] = make_extractor(cfg)
        for batch in batches:
            for path in batch.column("warc_path").to_pylist():
                yield from ingest_file(path, cfg, _EXTRACTORS[cfg_json])

    return run_partition


def extract_records(spark: SparkSession, paths: list[str], cfg: ExtractConfig) -> DataFrame:
    """One Spark task per input file; records never pass through the driver."""
    rdd = spark.sparkContext.parallelize([(p,) for p in paths], numSlices=max(1, len(paths)))
    files = spark.createDataFrame(rdd, "warc_path string")
    return files.mapInArrow(_extract_partitions(cfg.model_dump_json()), RECORD_DDL)


def _parquet_writer(df: DataFrame, compression: str):
    return df.write.option("compression", "uncompressed" if compression == "none" else compression)


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
        ordered = (
            docs.select(*DOCUMENT_COLUMNS).repartition(n_files, "id").sortWithinPartitions("id")
        )
        _parquet_writer(ordered, compression).parquet(str(tmp))
        _name_parts(tmp)


def _stage_stats(records: DataFrame, name: str, seconds: float) -> tuple[StageStats, int]:
    rows = (
        records.groupBy("reason")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.sum(F.octet_length("text")).alias("text_bytes"),
            F.min("error").alias("error_a"),
            F.max("error").alias("error_b"),
        )
        .collect()
    )
    removed, examples, kept, text_bytes = {}, {}, 0, 0
    for row in rows:
        if row["reason"] is None:
            kept, text_bytes = row["n"], row["text_bytes"] or 0
            continue
        removed[row["reason"]] = row["n"]
        errs = sorted({e for e in (row["error_a"], row["error_b"]) if e})
        if errs:
            examples[row["reason"]] = errs
    total = kept + sum(removed.values())
    return StageStats(name, total, kept, removed, examples, seconds), text_bytes


def run(cfg: Config, spark: SparkSession | None = None, source: str = "config") -> dict[str, Any]:
    """Run the pipeline on the configured inputs; return what is written to stats.json."""
    started = time.time()
    paths = resolve_inputs(cfg.input, source)
    spark = spark or build_session(cfg.spark)
    out = Path(cfg.output.dir)

    t0 = time.time()
    with atomic_dir(out / "stages" / "extract") as tmp:
        records = extract_records(spark, paths, cfg.extract)
        _parquet_writer(records, cfg.output.compression).parquet(str(tmp))
    records = spark.read.parquet(str(out / "stages" / "extract"))
    extract_stats, text_bytes = _stage_stats(records, "extract", time.time() - t0)

    t0 = time.time()
    target_bytes = cfg.output.target_file_mb * 1024 * 1024
    n_files = max(1, math.ceil(text_bytes * _COMPRESSED_FRACTION / target_bytes))
    write_documents(
        records.where(F.col("reason").isNull()), out / "documents", n_files, cfg.output.compression
    )
    n_docs = spark.read.parquet(str(out / "documents")).count()
    stages = [extract_stats]
    check_accounting(stages, n_docs)

    stats = {
        "curate_version": __version__,
        "inputs": {"files": len(paths), "first": paths[:3]},
        "stages": [s.to_json() for s in stages],
        "documents": {"path": str(out / "documents"), "rows": n_docs, "files": n_files},
        "seconds": {"total": round(time.time() - started, 3), "write": round(time.time() - t0, 3)},
        "config": cfg.model_dump(mode="json"),
    }
    write_json_atomic(out / "stats.json", stats)
    return stats


def summary(stats: dict[str, Any]) -> str:
    """One screen for the console: what went in, what came out, and why the rest did not."""
    lines = [f"curate {stats['curate_version']}: done in {stats['seconds']['total']:.1f} s"]
    lines.append(f"  input files         {stats['inputs']['files']:>10,}")
    for st in stats["stages"]:
        lines.append(f"  [{st['name']}] in {st['in']:,} -> out {st['out']:,}")
        for reason, n in sorted(st["removed"].items(), key=lambda kv: -kv[1]):
            lines.append(f"      removed {reason:<22}{n:>10,}")
    docs = stats["documents"]
    lines.append(f"  documents written   {docs['rows']:>10,}  in {docs['files']} file(s)")
    lines.append(f"  output              {docs['path']}")
    lines.append(f"  stats               {Path(docs['path']).parent / 'stats.json'}")
    return "\n".join(lines)
