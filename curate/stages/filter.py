"""filter: the configured thresholds applied to the stored signals; every document is
kept with ``quality_bucket`` and ``filter_reason`` (the first failing rule, null: kept)."""

from __future__ import annotations

from typing import Any

from pyspark.sql import functions as F

from curate.classifier.model import column
from curate.guard import error_examples
from curate.percentiles import tokens
from curate.quality import ANNOTATE_ERROR, Cutoffs, classifier_columns, flag, run_cutoffs
from curate.runner import Context, Result, Stage
from curate.schema import document_columns
from curate.stats import StageStats
from curate.tables import Table

# The funnel shows the filter's removals as three steps, by reason prefix: language ID,
# the quality filters and classifiers (every other prefix), perplexity.
STEPS = ("language", "quality", "perplexity")


def step_of(reason: str) -> str:
    prefix = reason.split(".", 1)[0]
    return prefix if prefix in STEPS else "quality"


def _unscored(rows: list, column: str) -> dict[str, int]:
    """Documents without the score, by language."""
    out: dict[str, int] = {}
    for r in rows:
        if r[f"null_{column}"]:
            lang = r["language"] or "unknown"
            out[lang] = out.get(lang, 0) + r[f"null_{column}"]
    return dict(sorted(out.items()))


def _report(cfg: Any, rows: list, n: int, cut: Cutoffs, buckets: list) -> dict[str, Any]:
    unscored = _unscored(rows, "perplexity")
    by_language: dict[str, dict[str, int]] = {}
    for r in rows:
        if r["filter_reason"] is not None:
            entry = by_language.setdefault(r["language"] or "unknown", {})
            entry[r["filter_reason"]] = entry.get(r["filter_reason"], 0) + r["n"]
    report: dict[str, Any] = {
        "removed_by_language": {k: dict(sorted(v.items())) for k, v in sorted(by_language.items())},
        "perplexity": {
            "models": cfg.perplexity.models,
            "scored": n - sum(unscored.values()),
            "unscored_by_language": unscored,
            "cutoffs": cut.perplexity,
        },
    }
    if cfg.quality.classifiers:
        report["classifiers"] = {}
        for c in cfg.quality.classifiers:
            missing = _unscored(rows, column(c))
            report["classifiers"][c.name] = {
                "scored": n - sum(missing.values()),
                "unscored_by_language": missing,
                "cutoffs": {k: v["cutoffs"][0] for k, v in cut.classifiers.get(c.name, {}).items()},
            }
    if cfg.quality.buckets:
        per_lang: dict[str, dict[str, dict[str, int]]] = {}
        for r in buckets:
            if r["quality_bucket"] is not None:
                entry = per_lang.setdefault(r["language"] or "unknown", {})
                entry[r["quality_bucket"]] = {"documents": r["docs"], "tokens": int(r["tokens"])}
        report["buckets"] = {
            "definition": cfg.quality.buckets.model_dump(),
            "cutoffs": {s: {k: v["cutoffs"] for k, v in c.items()} for s, c in cut.buckets.items()},
            "by_language": {
                k: dict(sorted(v.items(), key=lambda x: int(x[0])))
                for k, v in sorted(per_lang.items())
            },
        }
    return report


class Filter(Stage):
    name = "filter"
    sections = ("language", "quality", "perplexity")

    def steps(self, stats: StageStats) -> list[StageStats]:
        out, n = [], stats.n_in
        for step in STEPS:
            removed = {r: c for r, c in stats.removed.items() if step_of(r) == step}
            out.append(StageStats(step, n, n - sum(removed.values()), removed))
            n = out[-1].n_out
        return out

    def run(self, ctx: Context, table: Table | None) -> Result:
        assert table is not None
        cfg = ctx.cfg
        annotated = ctx.read(table)
        # The cut-offs and error examples read the signals alone: the reader skips the
        # text (Spark cannot prune the columns of a Python source).
        signals = ctx.read(table, [c for c in table.struct.fieldNames() if c != "text"])
        cut = run_cutoffs(cfg, signals)
        scores = classifier_columns(cfg)
        flagged = flag(annotated, cfg, cut).select(
            *document_columns(cfg), "filter_reason",
            F.lit(None).cast("string").alias("duplicate_of"),
        )  # fmt: skip
        out = ctx.write(flagged, "documents")
        written = ctx.read(out, ["filter_reason", "language", "quality_bucket", "perplexity",
                                 "gopher_quality", *scores])  # fmt: skip
        nulls = [F.sum(F.col(c).isNull().cast("int")).alias(f"null_{c}")
                 for c in ["perplexity", *scores]]  # fmt: skip
        rows = (
            written.groupBy("filter_reason", "language")
            .agg(F.count(F.lit(1)).alias("n"), *nulls)
            .collect()
        )
        buckets = []
        if cfg.quality.buckets:
            buckets = (
                written.groupBy("language", "quality_bucket")
                .agg(F.count(F.lit(1)).alias("docs"), F.sum(tokens()).alias("tokens"))
                .collect()
            )
        removed: dict[str, int] = {}
        for r in rows:
            if r["filter_reason"] is not None:
                removed[r["filter_reason"]] = removed.get(r["filter_reason"], 0) + r["n"]
        n = out.rows
        examples = (
            error_examples(signals, ANNOTATE_ERROR, ANNOTATE_ERROR)
            if ANNOTATE_ERROR in removed
            else {}
        )
        stats = StageStats(self.name, n, n - sum(removed.values()), removed, examples)
        return Result({"documents": out}, stats, _report(cfg, rows, n, cut, buckets))
