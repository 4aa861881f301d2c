"""The PII stage on Spark: scrub every document in place (nothing is removed here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, MapType, StringType, StructField, StructType

from curate.config import DEFAULT_PII_TAGS, PiiConfig
from curate.io.atomic import atomic_dir
from curate.stats import StageStats

# One scrubber (presidio engines, spaCy model) per executor process and config.
_SCRUBBERS: dict[str, Any] = {}


def _scrub_partitions(cfg_json: str):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from curate.pii.scrub import PiiScrubber, scrub_batch

        if cfg_json not in _SCRUBBERS:
            _SCRUBBERS[cfg_json] = PiiScrubber(PiiConfig.model_validate_json(cfg_json))
        for batch in batches:
            yield scrub_batch(batch, _SCRUBBERS[cfg_json])

    return run


def policy(cfg: PiiConfig) -> dict[str, str]:
    """What replaces each enabled entity (for stats.json and the manifest)."""
    return {e: cfg.replace.get(e, DEFAULT_PII_TAGS[e]) for e in cfg.entities}


def scrub_pii(
    spark: SparkSession, docs: DataFrame, n_in: int, cfg: PiiConfig, out: Path, compression: str
) -> tuple[StageStats, dict[str, Any]]:
    """Scrubbed documents (text, n_chars, pii_counts) written to stages/pii/documents; the
    stage's counts (nothing is removed) and per-entity totals."""
    counts = StructField("pii_counts", MapType(StringType(), IntegerType()))
    schema = StructType([*docs.schema.fields, counts])
    with atomic_dir(out / "stages" / "pii" / "documents") as tmp:
        scrubbed = docs.mapInArrow(_scrub_partitions(cfg.model_dump_json()), schema)
        scrubbed.write.option("compression", compression).parquet(str(tmp))
    scrubbed = spark.read.parquet(str(out / "stages" / "pii" / "documents"))
    rows = (
        scrubbed.select(F.explode("pii_counts").alias("entity", "n"))
        .groupBy("entity")
        .agg(F.sum("n").alias("found"), F.count(F.lit(1)).alias("documents"))
        .collect()
    )
    totals = {r["entity"]: {"found": r["found"], "documents": r["documents"]} for r in rows}
    report = {"entities": dict(sorted(totals.items())), "policy": policy(cfg)}
    return StageStats("pii", n_in, n_in), report
