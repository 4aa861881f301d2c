"""The pipeline: its stages in order, each reused when its marker matches, then
stats.json, the report and, last, the manifest.

Adding a stage: one module under ``curate/stages/``, one entry in ``STAGES``, its config
section in ``curate.config`` (README, "Adding a stage").
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

from pyspark.sql import SparkSession

from curate import __version__, storage
from curate.classifier.model import check_classifier
from curate.config import Config, ConfigError
from curate.dedup.scheme import check_against
from curate.inputs import resolve_inputs
from curate.langid import resolved_languages
from curate.lists import check_lists
from curate.mixture.manifest import write_manifest
from curate.perplexity.model import check_models
from curate.quality import annotate_params, thresholds
from curate.report.run_report import Report
from curate.runner import Context, Stage, StageRunner, load_results, resolve_stage
from curate.spark import build_session
from curate.stages.annotate import Annotate
from curate.stages.decontam import Decontam
from curate.stages.dedup import Dedup
from curate.stages.extract import Extract
from curate.stages.filter import Filter
from curate.stages.mixture import Mixture, run_manifest
from curate.stages.pii import Pii
from curate.stages.publish import Publish
from curate.storage import Storage, join
from curate.tables import Table

STAGES: list[Stage] = [
    Extract(),  # WARC/WET -> records, text extracted
    Annotate(),  # language ID + every filter's signals, computed once
    Filter(),  # thresholds over the signals: filter_reason
    Dedup(),  # repeated lines, URL, exact and near duplicates
    Pii(),  # e-mails, phones, IPs, ... replaced in place
    Decontam(),  # benchmark n-grams: dropped or cut
    Publish(),  # OUTPUT/documents, removed, signatures
    Mixture(),  # tokens, OUTPUT/shards, manifest
]
STAGE_NAMES = [s.name for s in STAGES]


def check(cfg: Config, st: Storage, source: str, from_stage: str | None) -> list[str]:
    """What can be checked before Spark starts: ConfigError naming the thing at fault."""
    if from_stage:
        resolve_stage(from_stage, STAGE_NAMES)
    paths = resolve_inputs(cfg.input, source, st)
    out = storage.absolute(cfg.output.dir)
    inside = next((p for p in paths if p == out or p.startswith(out + "/")), None)
    if inside is not None:  # a rerun's glob would read the run's own output
        raise ConfigError(
            f"output.dir {out}: holds an input ({inside}); write the output elsewhere"
        )
    st.check_writable(out, "output.dir")
    check_models(cfg.perplexity)
    check_lists(cfg, st)
    for c in cfg.quality.classifiers:
        check_classifier(c)
    if cfg.language.enabled:
        resolved_languages(cfg.language)  # codes the model cannot label fail here
    if cfg.dedup.enabled:
        check_against(cfg.dedup, st)
    return paths


def _run_stages(
    runner: StageRunner, stages: list[Stage], table: Table | None, report: Report | None
) -> None:
    """Each enabled stage in turn, given the document table of the one before."""
    for stage in stages:
        if stage.enabled(runner.ctx.cfg):
            table = runner.run(stage, table).tables.get("documents", table)
            if report is not None:
                report.after(stage)


def _report(ctx: Context) -> Report | nullcontext[None]:
    return Report(ctx) if ctx.cfg.output.report else nullcontext()


def run(
    cfg: Config,
    spark: SparkSession | None = None,
    source: str = "config",
    from_stage: str | None = None,
) -> dict[str, Any]:
    """Run the pipeline on the configured inputs, reusing the stages already done under
    the same settings (all from ``from_stage`` on run again); return stats.json's content."""
    started = time.time()
    st = storage.use(cfg.storage)
    paths = check(cfg, st, source, from_stage)
    spark = spark or build_session(cfg.spark)
    ctx = Context(spark, cfg, st, storage.absolute(cfg.output.dir), paths)
    runner = StageRunner(ctx, STAGE_NAMES, from_stage)
    with _report(ctx) as report:
        _run_stages(runner, STAGES, None, report)
        return _finish(runner, report, {"files": len(paths), "first": paths[:3]}, started)


def check_signals(cfg: Config, st: Storage, signals: str) -> dict[str, Any]:
    """The extract and annotate results of an earlier run, if ``cfg`` would have computed
    the same signals (only thresholds may differ); else a ConfigError naming the keys."""
    earlier = load_results(st, signals, ["extract", "annotate"])
    if "annotate" not in earlier or "extract" not in earlier:
        raise ConfigError(f"--signals {signals}: no finished annotate stage there")
    stored, wanted = earlier["annotate"].report["params"], annotate_params(cfg)
    changed = sorted(k for k in wanted.keys() | stored.keys() if wanted.get(k) != stored.get(k))
    if changed:
        raise ConfigError(
            f"--signals {signals}: these keys shape the signals and differ from the "
            f"annotated run, rerun `curate run`: {', '.join(changed)}"
        )
    return earlier


def refilter(cfg: Config, signals_dir: str, spark: SparkSession | None = None) -> dict:
    """Re-apply thresholds over the signals of an earlier run, without recomputing them."""
    started = time.time()
    st = storage.use(cfg.storage)
    signals = storage.absolute(str(signals_dir))
    earlier = check_signals(cfg, st, signals)
    st.check_writable(cfg.output.dir, "output.dir")
    if cfg.language.enabled:
        resolved_languages(cfg.language)
    for c in cfg.quality.classifiers:
        check_classifier(c)
    if cfg.dedup.enabled:
        check_against(cfg.dedup, st)
    inputs = st.read_json(join(signals, "stats.json"))["inputs"]
    spark = spark or build_session(cfg.spark)
    ctx = Context(spark, cfg, st, storage.absolute(cfg.output.dir), [], results=dict(earlier))
    ctx.n_in = earlier["annotate"].stats.n_out
    runner = StageRunner(ctx, STAGE_NAMES, "filter", earlier["annotate"].key)
    runner.seconds = {name: r.seconds for name, r in earlier.items()}
    with _report(ctx) as report:
        _run_stages(runner, STAGES[2:], earlier["annotate"].tables["documents"], report)
        return _finish(runner, report, inputs, started)


def _finish(
    runner: StageRunner, report: Report | None, inputs: dict[str, Any], started: float
) -> dict[str, Any]:
    """stats.json, the report, then the manifest (when the mixture ran): the last file."""
    ctx, st = runner.ctx, runner.ctx.st
    cfg, out = ctx.cfg, ctx.out
    by_name = {s.name: s for s in STAGES}
    stages, funnel = [], []
    for name, result in ctx.results.items():
        if result.stats is not None:
            result.stats.seconds = result.seconds
            stages.append(result.stats.to_json())
            funnel += [s.to_json() for s in by_name[name].steps(result.stats)]
    documents = ctx.results["publish"].tables["documents"]
    stats = {
        "curate_version": __version__,
        "inputs": inputs,
        "stages": stages,
        "funnel": funnel,
        "documents": {
            "path": documents.folder,
            "rows": documents.rows,
            "files": len(documents.files),
        },
        "report": join(out, "report", "index.html") if report is not None else None,
        "thresholds": thresholds(cfg),
        **{name: r.report for name, r in ctx.results.items() if r.report},
        "run": {"stages_run": runner.ran, "stages_reused": runner.reused},
        "seconds": {**runner.seconds, "total": round(time.time() - started, 3)},
        "config": cfg.model_dump(mode="json", exclude={"storage"}),
    }
    st.write_json(join(out, "stats.json"), stats)
    mixture = ctx.results.get("mixture")
    manifest = run_manifest(cfg, stats, mixture.data["domains"]) if mixture else None
    if report is not None:
        report.finish(stats, manifest, runner.upstream)
    if manifest is not None:
        write_manifest(join(out, "manifest.json"), manifest, st)
    return stats


def warnings(stats: dict[str, Any]) -> list[str]:
    """What a user should look at although the run finished."""
    empty = stats.get("extract", {}).get("files_without_records")
    if not empty or not empty["count"]:
        return []
    files = stats["inputs"]["files"]
    which = (
        f"none of the {files:,} input file(s) gave a"
        if empty["count"] == files
        else f"{empty['count']:,} of the {files:,} input file(s) gave no"
    )
    return [
        f"{which} WARC record (empty, not WARC, or unreadable: see "
        f"extract.files_without_records in stats.json), e.g. {empty['examples'][0]}"
    ]


def no_record_read(stats: dict[str, Any]) -> bool:
    empty = stats.get("extract", {}).get("files_without_records")
    return bool(empty) and empty["count"] == stats["inputs"]["files"]


def summary(stats: dict[str, Any]) -> str:
    """One screen for the console: what went in, what came out, and why the rest did not."""
    lines = [f"curate {stats['curate_version']}: done in {stats['seconds']['total']:.1f} s"]
    lines.append(f"  input files         {stats['inputs']['files']:>10,}")
    for st in stats["funnel"]:
        lines.append(f"  [{st['name']}] in {st['in']:,} -> out {st['out']:,}")
        for reason, n in sorted(st["removed"].items(), key=lambda kv: -kv[1]):
            lines.append(f"      removed {reason:<44}{n:>8,}")
    fixed = stats.get("extract", {}).get("mojibake_repaired")
    if fixed and fixed["documents"]:
        lines.append(
            f"  mojibake repaired in {fixed['documents']:,} documents "
            f"({fixed['chars']:,} characters; ftfy)"
        )
    fallback = stats.get("extract", {}).get("fallback")
    if fallback and fallback["documents"]:
        lines.append(f"  slower re-extraction gave {fallback['documents']:,} documents "
                     "(fast result implausibly short)")  # fmt: skip
    ppl = stats.get("filter", {}).get("perplexity")
    if ppl and ppl["models"]:
        unscored = ", ".join(f"{k} {v}" for k, v in ppl["unscored_by_language"].items())
        lines.append(f"  perplexity scored {ppl['scored']:,}; no model: {unscored or 'none'}")
        for lang, c in (ppl["cutoffs"] or {}).items():
            lines.append(f"  perplexity buckets {lang}: head < {c['p30']} <= middle < {c['p60']}")
    for name, c in stats.get("filter", {}).get("classifiers", {}).items():
        unscored = ", ".join(f"{k} {v}" for k, v in c["unscored_by_language"].items())
        cuts = "".join(f"; top-fraction cut-off {k} {v}" for k, v in c["cutoffs"].items())
        lines.append(f"  classifier {name} scored {c['scored']:,}; "
                     f"not its language: {unscored or 'none'}{cuts}")  # fmt: skip
    buckets = stats.get("filter", {}).get("buckets")
    for lang, per in (buckets or {}).get("by_language", {}).items():
        shares = " ".join(f"{b}:{v['documents']}" for b, v in per.items())
        lines.append(f"  quality buckets {lang} (documents): {shares}")
    clusters = stats.get("dedup", {}).get("clusters")
    if clusters:
        lines.append(
            f"  near-duplicate clusters {clusters['count']:>6,}  sizes {clusters['sizes']}"
        )
    for entity, n in stats.get("pii", {}).get("entities", {}).items():
        lines.append(f"  pii {entity:<20} {n['found']:>6,} in {n['documents']:,} documents")
    for name, b in stats.get("decontam", {}).get("benchmarks", {}).items():
        lines.append(
            f"  benchmark {name:<14} {b['items_found']:>6,} of {b['items']:,} items found "
            f"in {b['documents']:,} documents"
        )
    failed = stats.get("mixture", {}).get("tokenize_errors", {}).get("count")
    if failed:
        lines.append(f"  mixture: {failed:,} documents left out of the shards (tokenizer raised)")
    for domain, d in stats.get("mixture", {}).get("domains", {}).items():
        lines.append(
            f"  domain {domain:<12} {d['documents']:>8,} docs {d['tokens']:>12,} tokens "
            f"in {d['shards']} shard(s)"
        )
    lines += [f"  warning: {w}" for w in warnings(stats)]
    docs = stats["documents"]
    lines.append(f"  documents written   {docs['rows']:>10,}  in {docs['files']} file(s)")
    lines.append(f"  output              {docs['path']}")
    lines.append(f"  stats               {storage.parent(docs['path'])}/stats.json")
    if stats.get("report"):
        lines.append(f"  report              {stats['report']}")
    return "\n".join(lines)
