"""Spark wiring of the pipeline: ingestion+extraction, accounting, documents output."""

from __future__ import annotations

import json
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
from curate.config import Config, ConfigError, ExtractConfig
from curate.decontam.stage import decontaminate
from curate.dedup.stage import dedup, write_signatures
from curate.extract import make_extractor
from curate.ingest import RECORD_SCHEMA, ingest_file
from curate.io.atomic import atomic_dir, write_json_atomic
from curate.io.paths import resolve_inputs
from curate.mixture.stage import build_shards, write_run_manifest
from curate.mixture.stage import summary as mixture_summary
from curate.perplexity.buckets import resolve_cutoffs
from curate.perplexity.model import check_models
from curate.pii.stage import scrub_pii
from curate.quality import (
    FILTER_STAGES,
    SIGNAL_COLUMNS,
    all_filters,
    annotate_batch,
    annotate_params,
    annotated_schema,
    flag,
    spark_ddl,
    stage_of,
    thresholds,
)
from curate.spark import build_session
from curate.stats import StageStats, check_accounting

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
]
DOCUMENT_COLUMNS = [*RECORD_COLUMNS, *SIGNAL_COLUMNS, "quality_bucket"]
# Published documents: after dedup (characters cut as repeated lines), PII scrubbing
# (entities replaced, per entity) and decontamination (benchmarks matched, remove mode).
LATE_COLUMNS = {
    "line_chars_removed": "int",
    "pii_counts": "map<string,int>",
    "contamination": "array<string>",
}
OUTPUT_COLUMNS = [*DOCUMENT_COLUMNS, *LATE_COLUMNS]
ANNOTATE_PARAMS_FILE = "_annotate.json"
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
        ordered = docs.repartition(n_files, "id").sortWithinPartitions("id")
        _parquet_writer(ordered, compression).parquet(str(tmp))
        _name_parts(tmp)


def _n_files(text_bytes: int, cfg: Config) -> int:
    target_bytes = cfg.output.target_file_mb * 1024 * 1024
    return max(1, math.ceil(text_bytes * _COMPRESSED_FRACTION / target_bytes))


def _annotate_partitions(cfg_json: str, schema: pa.Schema):
    def run_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        cfg = Config.model_validate_json(cfg_json)
        filters = all_filters(cfg)  # once per partition: list files are read here
        for batch in batches:
            yield annotate_batch(batch, cfg, schema, filters)

    return run_partition


def annotate(spark: SparkSession, docs: DataFrame, cfg: Config, out_dir: Path) -> None:
    """Language ID and every filter's signals as columns; nothing is dropped here."""
    schema = annotated_schema(pa.schema([RECORD_SCHEMA.field(c) for c in RECORD_COLUMNS]))
    fn = _annotate_partitions(cfg.model_dump_json(), schema)
    with atomic_dir(out_dir) as tmp:
        annotated = docs.select(*RECORD_COLUMNS).mapInArrow(fn, spark_ddl(schema))
        _parquet_writer(annotated, cfg.output.compression).parquet(str(tmp))
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
    spark: SparkSession, cfg: Config, annotated_dir: Path
) -> tuple[list[StageStats], DataFrame, DataFrame, dict[str, Any]]:
    """Thresholds over stored signals: language, quality and perplexity stage counts, kept
    and removed documents (removed ones with filter_reason), and the perplexity report."""
    t0 = time.time()
    annotated = spark.read.parquet(str(annotated_dir))
    cutoffs = resolve_cutoffs(cfg.perplexity, annotated)
    flagged = flag(annotated, cfg, cutoffs)
    rows = (
        flagged.groupBy("filter_reason", "language", F.col("perplexity").isNull().alias("unscored"))
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
    stages = _filter_stages(by_reason)
    stages[-1].seconds = time.time() - t0
    kept = flagged.where(F.col("filter_reason").isNull()).select(*DOCUMENT_COLUMNS)
    removed = (
        flagged.where(F.col("filter_reason").isNotNull())
        .withColumn("duplicate_of", F.lit(None).cast("string"))
        .withColumn("line_chars_removed", F.lit(None).cast("int"))
    )
    report = {
        "models": cfg.perplexity.models,
        "scored": sum(by_reason.values()) - sum(unscored.values()),
        "unscored_by_language": dict(sorted(unscored.items())),
        "cutoffs": cutoffs,
    }
    return stages, kept, removed, report


def _text_bytes(df: DataFrame) -> int:
    return df.agg(F.sum(F.octet_length("text"))).first()[0] or 0


def _with_late_columns(df: DataFrame) -> DataFrame:
    """Null late columns for rows removed before the stage that adds them."""
    for name, ddl in LATE_COLUMNS.items():
        if name not in df.columns:
            df = df.withColumn(name, F.lit(None).cast(ddl))
    return df


def publish(
    spark: SparkSession,
    cfg: Config,
    out: Path,
    stages: list[StageStats],
    kept: DataFrame,
    removed: DataFrame,
) -> tuple[list[StageStats], int, dict[str, Any]]:
    """Dedup, PII scrubbing and decontamination of the kept documents, then documents/
    (and removed/) written and counts checked. Returns the stages' reports by name."""
    reports: dict[str, Any] = {}
    compression = cfg.output.compression

    if cfg.dedup.enabled:
        t0 = time.time()
        kept, dup_removed, st, reports["dedup"] = dedup(
            spark, kept, stages[-1].n_out, cfg.dedup, out, compression
        )
        st.seconds = time.time() - t0
        stages = [*stages, st]
        removed = removed.unionByName(dup_removed)
    else:
        kept = kept.withColumn("line_chars_removed", F.lit(0))
    if cfg.pii.enabled:
        t0 = time.time()
        kept, st, reports["pii"] = scrub_pii(
            spark, kept, stages[-1].n_out, cfg.pii, out, compression
        )
        st.seconds = time.time() - t0
        stages = [*stages, st]
    if cfg.decontam.enabled and cfg.decontam.benchmarks:
        t0 = time.time()
        kept, dec_removed, st, reports["decontamination"] = decontaminate(
            spark, kept, stages[-1].n_out, cfg.decontam, out, compression
        )
        st.seconds = time.time() - t0
        stages = [*stages, st]
        removed = removed.unionByName(dec_removed, allowMissingColumns=True)
    kept = _with_late_columns(kept).select(*OUTPUT_COLUMNS)
    write_documents(kept, out / "documents", _n_files(_text_bytes(kept), cfg), compression)
    if cfg.dedup.enabled:
        write_signatures(spark, out, compression)
    if cfg.quality.keep_removed:
        removed = _with_late_columns(removed).select(
            *OUTPUT_COLUMNS, "filter_reason", "duplicate_of"
        )
        n_files = _n_files(_text_bytes(removed), cfg)
        write_documents(removed, out / "removed", n_files, compression)
    n_docs = spark.read.parquet(str(out / "documents")).count()
    check_accounting(stages, n_docs)
    return stages, n_docs, reports


def _stage_stats(records: DataFrame, name: str, seconds: float) -> StageStats:
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
    return StageStats(name, total, kept, removed, examples, seconds)


def run(cfg: Config, spark: SparkSession | None = None, source: str = "config") -> dict[str, Any]:
    """Run the pipeline on the configured inputs; return what is written to stats.json."""
    started = time.time()
    paths = resolve_inputs(cfg.input, source)
    check_models(cfg.perplexity)
    spark = spark or build_session(cfg.spark)
    out = Path(cfg.output.dir)

    t0 = time.time()
    with atomic_dir(out / "stages" / "extract") as tmp:
        records = extract_records(spark, paths, cfg.extract)
        _parquet_writer(records, cfg.output.compression).parquet(str(tmp))
    records = spark.read.parquet(str(out / "stages" / "extract"))
    extract_stats = _stage_stats(records, "extract", time.time() - t0)

    t0 = time.time()
    docs = records.where(F.col("reason").isNull())
    annotate(spark, docs, cfg, out / "stages" / "annotate")
    annotate_seconds = time.time() - t0
    stages, kept, removed, ppl_report = apply_filters(spark, cfg, out / "stages" / "annotate")
    stages[0].seconds += annotate_seconds
    stages, n_docs, report = publish(spark, cfg, out, [extract_stats, *stages], kept, removed)
    report = {"perplexity": ppl_report, **report}
    inputs = {"files": len(paths), "first": paths[:3]}
    return _finish(spark, cfg, out, inputs, stages, n_docs, started, report)


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


def refilter(cfg: Config, signals_dir: str | Path, spark: SparkSession | None = None) -> dict:
    """Re-apply thresholds over the signals of an earlier run, without recomputing them."""
    started = time.time()
    signals_dir = Path(signals_dir)
    annotated_dir = check_signals(cfg, signals_dir)
    previous = json.loads((signals_dir / "stats.json").read_text())
    extract = next(s for s in previous["stages"] if s["name"] == "extract")
    prior = [
        StageStats(
            "extract",
            extract["in"],
            extract["out"],
            extract["removed"],
            extract["examples"],
            extract["seconds"],
        )
    ]
    spark = spark or build_session(cfg.spark)
    out = Path(cfg.output.dir)
    stages, kept, removed, ppl_report = apply_filters(spark, cfg, annotated_dir)
    stages, n_docs, report = publish(spark, cfg, out, [*prior, *stages], kept, removed)
    report = {"perplexity": ppl_report, **report}
    return _finish(spark, cfg, out, previous["inputs"], stages, n_docs, started, report)


def _finish(
    spark: SparkSession,
    cfg: Config,
    out: Path,
    inputs: dict[str, Any],
    stages: list[StageStats],
    n_docs: int,
    started: float,
    reports: dict[str, Any],
) -> dict[str, Any]:
    """Shards and manifest (when mixture.enabled) and stats.json; the manifest is last."""
    domains = None
    if cfg.mixture.enabled:
        t0 = time.time()
        domains = build_shards(spark, cfg, out)
        reports = {**reports, "mixture": {"domains": mixture_summary(domains),
                                          "seconds": round(time.time() - t0, 3)}}  # fmt: skip
    stats = {
        "curate_version": __version__,
        "inputs": inputs,
        "stages": [s.to_json() for s in stages],
        "documents": {
            "path": str(out / "documents"),
            "rows": n_docs,
            "files": len(list((out / "documents").glob("part-*"))),
        },
        "thresholds": thresholds(cfg),
        **reports,
        "seconds": {"total": round(time.time() - started, 3)},
        "config": cfg.model_dump(mode="json"),
    }
    write_json_atomic(out / "stats.json", stats)
    if domains is not None:
        write_run_manifest(out, cfg, stats, domains)
    return stats


def summary(stats: dict[str, Any]) -> str:
    """One screen for the console: what went in, what came out, and why the rest did not."""
    lines = [f"curate {stats['curate_version']}: done in {stats['seconds']['total']:.1f} s"]
    lines.append(f"  input files         {stats['inputs']['files']:>10,}")
    for st in stats["stages"]:
        lines.append(f"  [{st['name']}] in {st['in']:,} -> out {st['out']:,}")
        for reason, n in sorted(st["removed"].items(), key=lambda kv: -kv[1]):
            lines.append(f"      removed {reason:<44}{n:>8,}")
    ppl = stats.get("perplexity")
    if ppl and ppl["models"]:
        unscored = ", ".join(f"{k} {v}" for k, v in ppl["unscored_by_language"].items())
        lines.append(f"  perplexity scored {ppl['scored']:,}; no model: {unscored or 'none'}")
        for lang, c in (ppl["cutoffs"] or {}).items():
            lines.append(f"  perplexity buckets {lang}: head < {c['p30']} <= middle < {c['p60']}")
    clusters = stats.get("dedup", {}).get("clusters")
    if clusters:
        lines.append(
            f"  near-duplicate clusters {clusters['count']:>6,}  sizes {clusters['sizes']}"
        )
    for entity, n in stats.get("pii", {}).get("entities", {}).items():
        lines.append(f"  pii {entity:<20} {n['found']:>6,} in {n['documents']:,} documents")
    for name, b in stats.get("decontamination", {}).get("benchmarks", {}).items():
        lines.append(
            f"  benchmark {name:<14} {b['items_found']:>6,} of {b['items']:,} items found "
            f"in {b['documents']:,} documents"
        )
    for domain, d in stats.get("mixture", {}).get("domains", {}).items():
        lines.append(
            f"  domain {domain:<12} {d['documents']:>8,} docs {d['tokens']:>12,} tokens "
            f"in {d['shards']} shard(s)"
        )
    docs = stats["documents"]
    lines.append(f"  documents written   {docs['rows']:>10,}  in {docs['files']} file(s)")
    lines.append(f"  output              {docs['path']}")
    lines.append(f"  stats               {Path(docs['path']).parent / 'stats.json'}")
    return "\n".join(lines)
