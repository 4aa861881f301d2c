"""filter: the configured thresholds applied to the stored signals; every document is
kept with ``quality_bucket`` and ``filter_reason`` (the first failing rule, null: kept)."""

from __future__ import annotations

from pyspark.sql import functions as F

from curate.guard import error_examples
from curate.perplexity.buckets import resolve_cutoffs
from curate.quality import ANNOTATE_ERROR, flag
from curate.runner import Context, Result, Stage
from curate.schema import DOCUMENT_COLUMNS
from curate.stats import StageStats
from curate.tables import Table

# The funnel shows the filter's removals as three steps, by reason prefix: language ID,
# the quality filters (every other prefix), perplexity.
STEPS = ("language", "quality", "perplexity")


def step_of(reason: str) -> str:
    prefix = reason.split(".", 1)[0]
    return prefix if prefix in STEPS else "quality"


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
        cutoffs = resolve_cutoffs(cfg.perplexity, annotated)
        flagged = flag(annotated, cfg, cutoffs).select(
            *DOCUMENT_COLUMNS, "filter_reason", F.lit(None).cast("string").alias("duplicate_of")
        )
        out = ctx.write(flagged, "documents")
        rows = (
            ctx.read(out, ["filter_reason", "language", "perplexity"])
            .groupBy("filter_reason", "language", F.col("perplexity").isNull().alias("unscored"))
            .agg(F.count(F.lit(1)).alias("n"))
            .collect()
        )
        removed: dict[str, int] = {}
        unscored: dict[str, int] = {}
        for r in rows:
            if r["filter_reason"] is not None:
                removed[r["filter_reason"]] = removed.get(r["filter_reason"], 0) + r["n"]
            if r["unscored"]:
                lang = r["language"] or "unknown"
                unscored[lang] = unscored.get(lang, 0) + r["n"]
        n = out.rows
        perplexity = {
            "models": cfg.perplexity.models,
            "scored": n - sum(unscored.values()),
            "unscored_by_language": dict(sorted(unscored.items())),
            "cutoffs": cutoffs,
        }
        examples = error_examples(annotated, ANNOTATE_ERROR, ANNOTATE_ERROR)
        stats = StageStats(self.name, n, n - sum(removed.values()), removed, examples)
        return Result({"documents": out}, stats, {"perplexity": perplexity})
