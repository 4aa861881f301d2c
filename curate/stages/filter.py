"""filter: the configured thresholds applied to the stored signals; every document is
kept with ``quality_bucket`` and ``filter_reason`` (the first failing rule, null: kept)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema

from curate.classifier.model import column
from curate.guard import error_examples
from curate.percentiles import tokens
from curate.quality import ANNOTATE_ERROR, Cutoffs, classifier_columns, flag, run_cutoffs
from curate.runner import Context, Result, Stage
from curate.schema import document_columns
from curate.stats import StageStats
from curate.tables import SideKernel, Table

# The funnel shows the filter's removals as three steps, by reason prefix: language ID,
# the quality filters and classifiers (every other prefix), perplexity.
STEPS = ("language", "quality", "perplexity")
# The columns the thresholds decide, beside the annotated ones.
DECISIONS = ("quality_bucket", "filter_reason")


def _documents_schema(annotated: Table, decided: DataFrame, cfg: Any) -> pa.Schema:
    """The filter's documents: the document columns (the decisions' among them), then
    filter_reason and duplicate_of."""
    arrow = to_arrow_schema(annotated.struct, timezone="UTC")
    added = to_arrow_schema(decided.schema, timezone="UTC")
    fields = [arrow.field(c) if c in arrow.names else added.field(c) for c in document_columns(cfg)]
    return pa.schema([*fields, added.field("filter_reason"), pa.field("duplicate_of", pa.string())])


def _with_decisions(schema: pa.Schema):
    """A file's annotated documents with their decisions (the rows of the decisions table's
    file of the same index), as ``schema``."""

    def make() -> SideKernel:
        def join(batch: pa.RecordBatch, decisions: pa.Table) -> pa.RecordBatch:
            added = {c: decisions.column(c).combine_chunks() for c in DECISIONS}
            added["duplicate_of"] = pa.nulls(batch.num_rows, pa.string())
            columns = [added[f.name] if f.name in added else batch.column(f.name) for f in schema]
            return pa.RecordBatch.from_arrays(columns, schema=schema)

        return join

    return make


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
        # The thresholds are a Spark expression over the signals alone (the reader skips
        # the text: Spark cannot prune the columns of a Python source); the decisions are
        # then joined to the text file by file in Python, so the text never enters Spark.
        signals = ctx.read(table, [c for c in table.struct.fieldNames() if c != "text"])
        cut = run_cutoffs(cfg, signals)
        scores = classifier_columns(cfg)
        decided = flag(signals, cfg, cut).select("id", *DECISIONS)
        decisions = ctx.write_aligned(decided, "decisions")
        schema = _documents_schema(table, decided, cfg)
        out = ctx.map(table, "documents", _with_decisions(schema), schema, side=decisions)
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
        tables = {"decisions": decisions, "documents": out}
        return Result(tables, stats, _report(cfg, rows, n, cut, buckets))
