"""The extract stage on Spark: one task per input file, each file's records written as
its own Parquet part by the task itself.

A part appears (renamed into place) only once its whole file is done, so the parts are
the per-WARC completion markers: a rerun after a crash extracts only the files with no
part. Parts belong to one extract config (``_PARTS.json``); another config starts afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from curate.columns import RECORD_DDL
from curate.config import ExtractConfig
from curate.extract import make_extractor
from curate.ingest import RECORD_SCHEMA, ingest_file
from curate.stats import StageStats

PARTS = "parts"
PARTS_KEY = "_PARTS.json"

# One extractor per executor process and config, built on first use.
_EXTRACTORS: dict[str, Callable[[str, str | None], str]] = {}


def part_name(warc_path: str) -> str:
    return hashlib.sha256(warc_path.encode()).hexdigest()[:24] + ".parquet"


def write_part(batches: Iterator[pa.RecordBatch], target: Path, compression: str) -> int:
    """Stream ``batches`` to a hidden temporary file, then rename it to ``target``."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    n = 0
    try:
        with pq.ParquetWriter(tmp, RECORD_SCHEMA, compression=compression) as writer:
            for batch in batches:
                writer.write_batch(batch)
                n += batch.num_rows
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    return n


def _extract_partitions(cfg_json: str, parts: str, compression: str):
    def run_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        cfg = ExtractConfig.model_validate_json(cfg_json)
        if cfg_json not in _EXTRACTORS:
            _EXTRACTORS[cfg_json] = make_extractor(cfg)
        for batch in batches:
            for path in batch.column("warc_path").to_pylist():
                records = ingest_file(path, cfg, _EXTRACTORS[cfg_json])
                n = write_part(records, Path(parts) / part_name(path), compression)
                yield pa.RecordBatch.from_pydict({"warc_path": [path], "records": [n]})

    return run_partition


def _prepare(work: Path, cfg: ExtractConfig) -> Path:
    """The parts folder for ``cfg``, emptied when it holds another config's parts."""
    parts = work / PARTS
    key_file = work / PARTS_KEY
    key = cfg.model_dump(mode="json")
    if key_file.is_file() and json.loads(key_file.read_text()) != key:
        shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir(parents=True, exist_ok=True)
    key_file.write_text(json.dumps(key, sort_keys=True))
    return parts


def extract(
    spark: SparkSession, paths: list[str], cfg: ExtractConfig, work: Path, compression: str
) -> StageStats:
    """Extract every input file that has no part yet; count all of them."""
    parts = _prepare(work, cfg)
    pending = [p for p in paths if not (parts / part_name(p)).exists()]
    if pending:
        rdd = spark.sparkContext.parallelize([(p,) for p in pending], numSlices=len(pending))
        fn = _extract_partitions(cfg.model_dump_json(), str(parts), compression)
        spark.createDataFrame(rdd, "warc_path string").mapInArrow(
            fn, "warc_path string, records bigint"
        ).collect()  # one small row per file
    return _stage_stats(read_records(spark, work, paths))


def read_records(spark: SparkSession, work: Path, paths: list[str]) -> DataFrame:
    """Every record of ``paths`` (parts of files no longer among the inputs are left out)."""
    files = [str(work / PARTS / part_name(p)) for p in paths]
    return spark.read.schema(RECORD_DDL).parquet(*files)


def _stage_stats(records: DataFrame) -> StageStats:
    rows = (
        records.groupBy("reason")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.min("error").alias("error_a"),
            F.max("error").alias("error_b"),
        )
        .collect()
    )
    removed, examples, kept = {}, {}, 0
    for row in rows:
        if row["reason"] is None:
            kept = row["n"]
            continue
        removed[row["reason"]] = row["n"]
        errs = sorted({e for e in (row["error_a"], row["error_b"]) if e})
        if errs:
            examples[row["reason"]] = errs
    total = kept + sum(removed.values())
    return StageStats("extract", total, kept, removed, examples)
