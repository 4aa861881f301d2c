"""Language ID, quality and perplexity on Spark: ``annotate`` computes every signal once
(stages/annotate), ``apply_filters`` applies thresholds to them (stages/filter), so a
threshold change reruns only the second."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from curate.columns import DOCUMENT_COLUMNS, RECORD_COLUMNS
from curate.config import Config, ConfigError
from curate.ingest import RECORD_SCHEMA
from curate.io.atomic import atomic_dir
from curate.perplexity.buckets import resolve_cutoffs
from curate.quality import (
    FILTER_STAGES,
    all_filters,
    annotate_batch,
    annotate_params,
    annotated_schema,
    flag,
    spark_ddl,
    stage_of,
)
from curate.stats import StageStats

ANNOTATE_PARAMS_FILE = "_annotate.json"


def _annotate_partitions(cfg_json: str, schema: pa.Schema):
    def run_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        cfg = Config.model_validate_json(cfg_json)
        filters = all_filters(cfg)  # once per partition: list files are read here
        for batch in batches:
            yield annotate_batch(batch, cfg, schema, filters)

    return run_partition


def annotate(docs: DataFrame, cfg: Config, out_dir: Path) -> None:
    """Language ID and every filter's signals as columns; nothing is dropped here."""
    schema = annotated_schema(pa.schema([RECORD_SCHEMA.field(c) for c in RECORD_COLUMNS]))
    fn = _annotate_partitions(cfg.model_dump_json(), schema)
    with atomic_dir(out_dir) as tmp:
        annotated = docs.select(*RECORD_COLUMNS).mapInArrow(fn, spark_ddl(schema))
        annotated.write.option("compression", cfg.output.compression).parquet(str(tmp))
        (tmp / ANNOTATE_PARAMS_FILE).write_text(json.dumps(annotate_params(cfg), indent=1))


def _filter_stages(by_reason: dict[str | None, int]) -> list[StageStats]:
    """Language, quality and perplexity stage counts from per-reason counts (None: kept)."""
    removed: dict[str, dict[str, int]] = {name: {} for name in FILTER_STAGES}
    for reason, n in by_reason.items():
        if reason is not None:
            removed[stage_of(reason)][reason] = n
    stages, n = [], sum(by_reason.values())
    for name in FILTER_STAGES:
        out = n - sum(removed[name].values())
        stages.append(StageStats(name, n, out, removed[name]))
        n = out
    return stages


def apply_filters(
    spark: SparkSession, cfg: Config, annotated_dir: Path, out_dir: Path
) -> tuple[list[StageStats], dict[str, Any]]:
    """Write every annotated document with ``quality_bucket`` and ``filter_reason`` (the
    first failing rule) to ``out_dir``; return the language, quality and perplexity stage
    counts and the perplexity report."""
    annotated = spark.read.parquet(str(annotated_dir))
    cutoffs = resolve_cutoffs(cfg.perplexity, annotated)
    flagged = flag(annotated, cfg, cutoffs).select(
        *DOCUMENT_COLUMNS, "filter_reason", F.lit(None).cast("string").alias("duplicate_of")
    )
    with atomic_dir(out_dir) as tmp:
        flagged.write.option("compression", cfg.output.compression).parquet(str(tmp))
    rows = (
        spark.read.parquet(str(out_dir))
        .groupBy("filter_reason", "language", F.col("perplexity").isNull().alias("unscored"))
        .agg(F.count(F.lit(1)).alias("n"))
        .collect()
    )
    by_reason: dict[str | None, int] = {}
    unscored: dict[str, int] = {}
    for r in rows:
        by_reason[r["filter_reason"]] = by_reason.get(r["filter_reason"], 0) + r["n"]
        if r["unscored"]:
            lang = r["language"] or "unknown"
            unscored[lang] = unscored.get(lang, 0) + r["n"]
    report = {
        "models": cfg.perplexity.models,
        "scored": sum(by_reason.values()) - sum(unscored.values()),
        "unscored_by_language": dict(sorted(unscored.items())),
        "cutoffs": cutoffs,
    }
    return _filter_stages(by_reason), report


def check_signals(cfg: Config, signals_dir: Path) -> Path:
    """The annotate output of an earlier run, if ``cfg`` would have computed the same
    signals (only thresholds may differ); else a ConfigError naming the keys."""
    annotated_dir = signals_dir / "stages" / "annotate"
    params_file = annotated_dir / ANNOTATE_PARAMS_FILE
    if not params_file.is_file():
        raise ConfigError(f"--signals {signals_dir}: no annotate output ({params_file} missing)")
    stored, wanted = json.loads(params_file.read_text()), annotate_params(cfg)
    changed = sorted(k for k in wanted.keys() | stored.keys() if wanted.get(k) != stored.get(k))
    if changed:
        raise ConfigError(
            f"--signals {signals_dir}: these keys shape the signals and differ from the "
            f"annotated run, rerun `curate run`: {', '.join(changed)}"
        )
    return annotated_dir
