"""What the report's figures show, computed in Spark from a run's stage tables: only
histograms and counts reach the driver."""

from __future__ import annotations

import math
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from curate.classifier.model import column
from curate.config import FILTERS, Config
from curate.langid import resolved_languages
from curate.quality import rules
from curate.runner import Context
from curate.schema import removing_tables

BINS = 40
TOP_LANGUAGES = 15
SAMPLES_PER_RULE = 3
SAMPLE_CHARS = 300
# What the report shows from the filter stage alone (collect_filter's keys).
FILTER_PART = ("signals", "samples", "languages", "removed_by_language", "perplexity",
               "buckets", "tokens")  # fmt: skip


def _histograms(
    df: DataFrame,
    columns: dict[str, Column],
    marks: dict[str, float],
    removed: dict[str, Column],
) -> dict:
    """Equal-width histograms per column between its minimum and 99th percentile (so a
    long tail does not squash the plot; larger values fall in the last bin), widened to
    show the column's threshold mark when it lies near the data. Where ``removed`` gives
    a column's decision (true: the document was removed by that rule), each bin also
    counts the documents it removed, so the red of a figure is the rule's removals."""
    if not columns:
        return {}
    names = list(columns)
    flat = df.select(
        *[c.cast("double").alias(f"c{i}") for i, c in enumerate(columns.values())],
        *[removed[n].alias(f"r{i}") for i, n in enumerate(names) if n in removed],
    ).localCheckpoint()
    quantiles = flat.approxQuantile([f"c{i}" for i in range(len(names))], [0.0, 0.99], 0.005)
    ranges, constant = {}, set()
    for i, name in enumerate(names):
        if not quantiles[i]:
            continue  # no value at all
        lo, hi = quantiles[i]
        if hi <= lo:
            constant.add(i)
        mark, span = marks.get(name), max(hi - lo, 1e-9)
        # Show the threshold unless it lies far outside the data (a 100,000-word cap).
        if mark is not None and lo - span <= mark < lo:
            lo = mark
        elif mark is not None and hi < mark <= hi + 2 * span:
            hi = mark + span / BINS
        ranges[i] = (lo, hi if hi > lo else lo + 1.0)
    if not ranges:
        return {}
    # A null value has no bin (greatest and least skip nulls: they would put it in bin 0).
    cells = [
        F.struct(
            F.lit(i).alias("i"),
            F.when(
                F.col(f"c{i}").isNotNull(),
                F.least(
                    F.greatest(F.floor((F.col(f"c{i}") - lo) / ((hi - lo) / BINS)), F.lit(0)),
                    F.lit(BINS - 1),
                ),
            ).alias("bin"),
            (F.col(f"r{i}") if names[i] in removed else F.lit(False)).alias("gone"),
        )
        for i, (lo, hi) in ranges.items()
    ]
    counts = (
        flat.select(F.explode(F.array(*cells)).alias("cell"))
        .where(F.col("cell.bin").isNotNull())
        .groupBy("cell.i", "cell.bin")
        .agg(F.count(F.lit(1)).alias("n"), F.sum(F.col("cell.gone").cast("int")).alias("gone"))
        .collect()
    )
    out = {
        names[i]: {"lo": lo, "hi": hi, "counts": [0] * BINS, "removed": [0] * BINS}
        | ({"constant": quantiles[i][0]} if i in constant else {})
        for i, (lo, hi) in ranges.items()
    }
    for r in counts:
        h = out[names[r["i"]]]
        h["counts"][int(r["bin"])] = r["n"]
        h["removed"][int(r["bin"])] = r["gone"] or 0
    return out


def _signals(
    docs: DataFrame,
    cfg: Config,
    language_reasons: list[str],
    classifier_cutoffs: dict[str, dict],
    perplexity_cutoffs: dict[str, dict],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every histogram of the report from one pass (a few Spark jobs, whatever their
    number): each numeric rule's and classifier's signal over the documents the quality
    rules saw (those that passed language ID), with its threshold and its removals;
    language scores over all documents; log10 perplexity per language with a model.
    (signals, perplexity histograms by language)."""
    reason = F.col("filter_reason")
    reached = reason.isNull() | ~reason.isin(*language_reasons)
    columns: dict[str, Column] = {}
    marks: dict[str, float] = {}
    decided: dict[str, Column] = {}
    meta: dict[str, dict[str, Any]] = {}
    integer = {f"{g}.{n}" for g, cls in FILTERS.items() for n, t in cls.SIGNALS.items()
               if t == "int64"}  # fmt: skip
    for r in (r for r in rules(cfg) if r.op in ("<", ">")):
        columns[r.name] = F.when(reached, F.col(r.signal))
        marks[r.name] = float(r.threshold)
        decided[r.name] = F.coalesce(reason == r.name, F.lit(False))
        meta[r.name] = {"signal": r.signal, "op": r.op, "threshold": r.threshold,
                        "integer": r.signal in integer}  # fmt: skip
    for c in cfg.quality.classifiers:
        # Its threshold: min_score, else the keep_top_fraction cut-off (the caption lists
        # every language's).
        name = column(c)
        cuts = classifier_cutoffs.get(c.name, {}).get("cutoffs", {})
        mark = c.min_score if c.min_score is not None else next(iter(cuts.values()), None)
        columns[name] = F.when(reached, F.col(name))
        if mark is not None:
            marks[name] = mark
        decided[name] = F.coalesce(reason == f"{name}.low_score", F.lit(False))
        meta[name] = {"signal": name, "op": "<", "threshold": mark, "integer": False,
                      "cutoffs": cuts}  # fmt: skip
    if cfg.language.enabled:
        columns["language_score"] = F.col("language_score")
        marks["language_score"] = cfg.language.min_score
        decided["language_score"] = F.coalesce(reason == "language.low_score", F.lit(False))
        meta["language_score"] = {"signal": "language_score", "op": "<", "integer": False,
                                  "threshold": cfg.language.min_score}  # fmt: skip
    ppl = F.col("perplexity")
    scored = ppl.isNotNull() & (ppl > 0) & (ppl < float("inf"))
    models = sorted(cfg.perplexity.models) if cfg.perplexity.enabled else []
    for lang in models:
        columns[f"perplexity:{lang}"] = F.when(scored & (F.col("language") == lang),
                                               F.log10("perplexity"))  # fmt: skip
        if perplexity_cutoffs.get(lang, {}).get("p60", 0) > 0:
            marks[f"perplexity:{lang}"] = math.log10(perplexity_cutoffs[lang]["p60"])
    hist = _histograms(docs, columns, marks, decided)
    signals = {name: hist[name] | m for name, m in meta.items() if name in hist}
    # A language is shown where it has scored documents (a histogram).
    perplexity = {lang: hist[f"perplexity:{lang}"] for lang in models
                  if f"perplexity:{lang}" in hist}  # fmt: skip
    return signals, perplexity


def _tokens(signals: DataFrame) -> dict[str, Any]:
    """The tokens (annotate's n_tokens, of the text as extracted) of the filter stage's
    documents: in all, and per reason of those it removed."""
    rows = signals.groupBy("filter_reason").agg(F.sum("n_tokens").alias("t")).collect()
    removed = {r["filter_reason"]: r["t"] or 0 for r in rows if r["filter_reason"] is not None}
    return {"total": sum(r["t"] or 0 for r in rows), "removed": removed}


def _funnel(ctx: Context, stats: dict[str, Any], tokens: dict[str, Any]) -> list[dict[str, Any]]:
    """Documents and tokens (of the text as extracted) left after each funnel step;
    ``tokens``: ``_tokens``' of the filter stage's documents."""
    step_of = {r: step["name"] for step in stats["funnel"] for r in step["removed"]}
    removed_tokens: dict[str, int] = {}
    for reason, n in tokens["removed"].items():
        step = step_of[reason]
        removed_tokens[step] = removed_tokens.get(step, 0) + n
    # Later stages' removals (dedup, decontam, ...): their step is the stage (one join
    # for all of them).
    later = None
    for stage, table in removing_tables(ctx).items():
        if stage != "filter":
            reasons = ctx.read(table, ["id", "filter_reason"])
            gone = reasons.where(F.col("filter_reason").isNotNull())
            gone = gone.select("id", F.lit(stage).alias("stage"))
            later = gone if later is None else later.unionByName(gone)
    if later is not None:
        ids = ctx.read(ctx.table("filter"), ["id", "n_tokens"])
        for r in later.join(ids, "id").groupBy("stage").agg(F.sum("n_tokens").alias("t")).collect():
            removed_tokens[r["stage"]] = r["t"] or 0
    total = tokens["total"]
    funnel = []
    for step in stats["funnel"]:
        total -= removed_tokens.get(step["name"], 0)
        funnel.append({"stage": step["name"], "documents": step["out"], "tokens": total})
    return funnel


def _samples(removed: DataFrame) -> dict[str, list[dict[str, str]]]:
    """A few documents each rule of the filter step removed (the lowest ids, so the same
    ones every run), their URL and the start of their text: what a threshold costs.
    ``removed``: the filter stage's removed documents."""
    from pyspark.sql import Window

    first = Window.partitionBy("filter_reason").orderBy("id")
    rows = (
        removed.select(
            "filter_reason", "id", "url", F.substring("text", 1, SAMPLE_CHARS).alias("text")
        )
        .withColumn("n", F.row_number().over(first))
        .where(F.col("n") <= SAMPLES_PER_RULE)
        .collect()
    )
    out: dict[str, list[dict[str, str]]] = {}
    for r in sorted(rows, key=lambda r: (r["filter_reason"], r["n"])):
        out.setdefault(r["filter_reason"], []).append({"url": r["url"], "text": r["text"]})
    return out


def _languages(docs: DataFrame, cfg: Config) -> dict[str, Any]:
    rows = docs.groupBy("language").count().collect()
    counts = sorted(
        ((r["language"] or "unknown", r["count"]) for r in rows), key=lambda kv: (-kv[1], kv[0])
    )
    top = dict(counts[:TOP_LANGUAGES])
    rest = sum(n for _, n in counts[TOP_LANGUAGES:])
    if rest:
        top["other"] = rest
    return {"counts": top, "kept": resolved_languages(cfg.language)[0]}


def _perplexity(docs: DataFrame, hists: dict[str, Any], cutoffs: dict | None) -> dict[str, Any]:
    """Per language with scored documents: its log10 histogram, documents per bucket and
    cut-offs."""
    ppl = F.col("perplexity")
    scored = docs.where(ppl.isNotNull() & (ppl > 0) & (ppl < float("inf")))
    buckets: dict[str, dict[str, int]] = {}
    if hists:
        for r in scored.groupBy("language", "quality_bucket").count().collect():
            buckets.setdefault(r["language"], {})[r["quality_bucket"] or "none"] = r["count"]
    return {
        lang: {
            "log10_histogram": h,
            "buckets": buckets.get(lang, {}),
            "cutoffs": (cutoffs or {}).get(lang),
        }
        for lang, h in hists.items()
    }


def collect_filter(
    ctx: Context, steps: list[dict[str, Any]], report: dict[str, Any]
) -> dict[str, Any]:
    """What the report shows from the filter stage alone (its table, ``steps``: its funnel
    steps, ``report``: its stats.json section), as plain JSON-able values: the keys of
    FILTER_PART."""
    cfg = ctx.cfg
    table = ctx.table("filter")
    removed = ctx.read(table, ["id", "url", "filter_reason", "text"], ("filter_reason", False))
    # Every figure but the samples reads the signals alone: read once, without the text,
    # and kept for the figures' many small jobs.
    signals = ctx.read(table, [c for c in table.struct.fieldNames() if c != "text"])
    signals = signals.localCheckpoint()
    # The reasons the funnel counts under its language step.
    language_reasons = [r for st in steps if st["name"] == "language" for r in st["removed"]]
    ppl_cutoffs = report["perplexity"]["cutoffs"]
    hists, ppl_hists = _signals(signals, cfg, language_reasons, report.get("classifiers", {}),
                                ppl_cutoffs or {})  # fmt: skip
    return {
        "signals": hists,
        "samples": _samples(removed),
        "languages": _languages(signals, cfg),
        "removed_by_language": report.get("removed_by_language", {}),
        "perplexity": _perplexity(signals, ppl_hists, ppl_cutoffs),
        "buckets": report.get("buckets"),
        "tokens": _tokens(signals),
    }


def collect(
    ctx: Context, stats: dict[str, Any], manifest: dict[str, Any] | None, filtered: dict[str, Any]
) -> dict[str, Any]:
    """Everything the report shows, as plain JSON-able values: ``filtered``
    (``collect_filter``'s) and what the run as a whole adds."""
    mixture = None
    if manifest is not None:
        mix = manifest["mixture"]
        mixture = {
            d: {"tokens": info["tokens"], "weight": mix["weights"][d], "epochs": mix["epochs"][d]}
            for d, info in manifest["domains"].items()
        }
    return {
        **filtered,
        "funnel": _funnel(ctx, stats, filtered["tokens"]),
        "removals": {st["name"]: st["removed"] for st in stats["funnel"] if st["removed"]},
        "clusters": (stats.get("dedup") or {}).get("clusters", {}).get("sizes", {}),
        "pii": {e: v["found"] for e, v in (stats.get("pii") or {}).get("entities", {}).items()},
        "contamination": (stats.get("decontam") or {}).get("benchmarks", {}),
        "mixture": mixture,
    }
