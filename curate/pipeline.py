"""The pipeline: its stages in order, each reused when its marker matches, then
stats.json and the manifest."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from curate import __version__
from curate.columns import read_kept
from curate.config import Config
from curate.decontam.stage import decontaminate
from curate.dedup.scheme import check_against
from curate.dedup.stage import dedup
from curate.extract_stage import extract, read_records
from curate.filter_stage import annotate, apply_filters, check_signals
from curate.io.atomic import write_json_atomic
from curate.io.paths import resolve_inputs
from curate.mixture.manifest import write_manifest
from curate.mixture.stage import build_shards, run_manifest
from curate.mixture.stage import summary as mixture_summary
from curate.perplexity.model import check_models
from curate.pii.stage import scrub_pii
from curate.publish import publish
from curate.quality import annotate_params, thresholds
from curate.report.run_report import write_report
from curate.spark import build_session
from curate.stages import MARKER, StageRunner, resolve_stage, stage_key
from curate.stats import StageStats


def _stats(result: dict[str, Any]) -> list[StageStats]:
    """A step's stage counts; the step's time goes to its first stage."""
    stats = [StageStats.from_json(s) for s in result["stats"]]
    stats[0].seconds = result["seconds"]
    return stats


def run(
    cfg: Config,
    spark: SparkSession | None = None,
    source: str = "config",
    from_stage: str | None = None,
) -> dict[str, Any]:
    """Run the pipeline on the configured inputs, reusing the stages already done under
    the same settings (all from ``from_stage`` on run again); return stats.json's content."""
    started = time.time()
    paths = resolve_inputs(cfg.input, source)
    check_models(cfg.perplexity)
    if cfg.dedup.enabled:
        check_against(cfg.dedup)
    if from_stage:
        resolve_stage(from_stage)  # a wrong name fails before Spark starts
    spark = spark or build_session(cfg.spark)
    out = Path(cfg.output.dir)
    stages_dir = out / "stages"
    runner = StageRunner(spark, out, from_stage, progress=cfg.spark.progress)
    compression = cfg.output.compression

    def do_extract() -> dict[str, Any]:
        st = extract(spark, paths, cfg.extract, stages_dir / "extract", compression)
        return {"stats": [st.to_json()]}

    def do_annotate() -> dict[str, Any]:
        records = read_records(spark, stages_dir / "extract", paths)
        annotate(records.where("reason is null"), cfg, stages_dir / "annotate")
        return {}

    done = runner.run("extract", cfg.extract.model_dump(mode="json"), do_extract, extra=paths)
    runner.run("annotate", annotate_params(cfg), do_annotate)
    inputs = {"files": len(paths), "first": paths[:3]}
    return _downstream(runner, cfg, stages_dir / "annotate", _stats(done), inputs, started)


def refilter(cfg: Config, signals_dir: str | Path, spark: SparkSession | None = None) -> dict:
    """Re-apply thresholds over the signals of an earlier run, without recomputing them."""
    started = time.time()
    signals_dir = Path(signals_dir)
    annotated_dir = check_signals(cfg, signals_dir)
    if cfg.dedup.enabled:
        check_against(cfg.dedup)
    previous = json.loads((signals_dir / "stats.json").read_text())
    extract_stats = [StageStats.from_json(s) for s in previous["stages"][:1]]
    spark = spark or build_session(cfg.spark)
    # The signals' own marker key names them; an older run without markers: their params.
    marker = annotated_dir / MARKER
    upstream = (
        json.loads(marker.read_text())["key"]
        if marker.is_file()
        else stage_key("", "annotate", annotate_params(cfg), str(annotated_dir))
    )
    runner = StageRunner(spark, Path(cfg.output.dir), "filter", upstream, cfg.spark.progress)
    return _downstream(runner, cfg, annotated_dir, extract_stats, previous["inputs"], started)


def _downstream(
    runner: StageRunner,
    cfg: Config,
    annotated_dir: Path,
    stages: list[StageStats],
    inputs: dict[str, Any],
    started: float,
) -> dict[str, Any]:
    """Filter, dedup, PII, decontamination, publish and mixture, each reading the table of
    the stage before it."""
    spark, out, compression = runner.spark, runner.out, cfg.output.compression
    stages_dir = out / "stages"
    reports: dict[str, Any] = {}

    def do_filter() -> dict[str, Any]:
        sts, report = apply_filters(spark, cfg, annotated_dir, stages_dir / "filter" / "documents")
        return {"stats": [s.to_json() for s in sts], "report": report}

    settings = {k: cfg.model_dump(mode="json")[k] for k in ("language", "quality", "perplexity")}
    result = runner.run("filter", settings, do_filter)
    filtered = _stats(result)
    # Signals (annotate) and thresholds (filter) of all three filter stages, in the first.
    filtered[0].seconds += runner.seconds.get("annotate", 0.0)
    stages = [*stages, *filtered]
    reports["perplexity"] = result["report"]
    table = stages_dir / "filter" / "documents"
    removing = [table]

    steps = [
        ("dedup", cfg.dedup.enabled, cfg.dedup, dedup, True),
        ("pii", cfg.pii.enabled, cfg.pii, scrub_pii, False),
        ("decontam", cfg.decontam.enabled and bool(cfg.decontam.benchmarks), cfg.decontam,
         decontaminate, True),
    ]  # fmt: skip
    for name, enabled, section, fn, removes in steps:
        if not enabled:
            continue

        def work(fn=fn, section=section, source=table, n_in=stages[-1].n_out) -> dict[str, Any]:
            docs = read_kept(spark, str(source))
            st, report = fn(spark, docs, n_in, section, out, compression)
            return {"stats": [st.to_json()], "report": report}

        result = runner.run(name, section.model_dump(mode="json"), work)
        stages = [*stages, *_stats(result)]
        reports[result["stats"][0]["name"]] = result["report"]
        table = stages_dir / name / "documents"
        if removes:
            removing.append(table)

    def do_publish() -> dict[str, Any]:
        return {"documents": publish(spark, cfg, out, table, removing, stages)}

    output_settings = cfg.output.model_dump(mode="json", exclude={"dir", "report"})
    n_docs = runner.run("publish", output_settings, do_publish)["documents"]

    domains = None
    if cfg.mixture.enabled:
        result = runner.run(
            "mixture",
            cfg.mixture.model_dump(mode="json"),
            lambda: {"domains": build_shards(spark, cfg, out)},
        )
        domains = result["domains"]
        reports["mixture"] = {"domains": mixture_summary(domains)}
    return _finish(runner, cfg, inputs, stages, n_docs, started, reports, domains)


def _finish(
    runner: StageRunner,
    cfg: Config,
    inputs: dict[str, Any],
    stages: list[StageStats],
    n_docs: int,
    started: float,
    reports: dict[str, Any],
    domains: dict[str, Any] | None,
) -> dict[str, Any]:
    """stats.json, the report, then the manifest (when mixture.enabled): the last file."""
    out = runner.out
    stats = {
        "curate_version": __version__,
        "inputs": inputs,
        "stages": [s.to_json() for s in stages],
        "documents": {
            "path": str(out / "documents"),
            "rows": n_docs,
            "files": len(list((out / "documents").glob("part-*"))),
        },
        "report": str(out / "report" / "index.html") if cfg.output.report else None,
        "thresholds": thresholds(cfg),
        **reports,
        "run": {"stages_run": runner.ran, "stages_reused": runner.reused},
        "seconds": {**runner.seconds, "total": round(time.time() - started, 3)},
        "config": cfg.model_dump(mode="json"),
    }
    write_json_atomic(out / "stats.json", stats)
    manifest = run_manifest(cfg, stats, domains) if domains is not None else None
    if cfg.output.report:
        write_report(runner.spark, cfg, out, stats, manifest, runner.upstream)
    if manifest is not None:
        write_manifest(out / "manifest.json", manifest)
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
    if stats.get("report"):
        lines.append(f"  report              {stats['report']}")
    return "\n".join(lines)
