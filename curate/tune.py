"""Threshold tuning: what the filter step would remove under new thresholds vs the current
ones, from a run's stored signals (no stage is rerun), with samples of the documents that
change side."""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from curate.config import Config
from curate.quality import flag, run_cutoffs
from curate.storage import Storage, join
from curate.tables import Table, read_table

SAMPLE_CHARS = 600


def tune(
    spark: SparkSession,
    st: Storage,
    current: Config,
    proposed: Config,
    annotate: Table,
    out_dir: str,
    samples: int = 20,
) -> dict[str, Any]:
    """Per rule: documents and tokens (annotate's ``n_tokens``) removed now and under the
    proposed thresholds, from the ``annotate`` table of a run; the documents that change
    side (a sample of each direction) under ``out_dir``."""
    annotated = read_table(spark, st, annotate)
    now = flag(annotated, current, run_cutoffs(current, annotated), "now")
    then = flag(annotated, proposed, run_cutoffs(proposed, annotated), "then")
    # annotate's n_tokens: both configs passed check_signals, so their tokenizer is the run's.
    counted = (
        now.select("id", "url", "text", "language", "n_tokens", "now")
        .join(then.select("id", "then"), "id")
        .localCheckpoint()
    )
    rows = (
        counted.groupBy("now", "then", "language")
        .agg(F.count(F.lit(1)).alias("docs"), F.sum("n_tokens").alias("tokens"))
        .collect()
    )
    per_rule: dict[str, dict[str, int]] = {}
    per_language: dict[str, dict[str, int]] = {}
    for r in rows:
        lang = per_language.setdefault(r["language"] or "unknown",
                                       {"removed_now": 0, "removed_then": 0})  # fmt: skip
        lang["removed_now"] += r["docs"] if r["now"] else 0
        lang["removed_then"] += r["docs"] if r["then"] else 0
        for side in ("now", "then"):
            rule = r[side] or "(kept)"
            entry = per_rule.setdefault(
                rule, {"docs_now": 0, "tokens_now": 0, "docs_then": 0, "tokens_then": 0}
            )
            entry[f"docs_{side}"] += r["docs"]
            entry[f"tokens_{side}"] += r["tokens"] or 0
    changed = counted.where(~F.col("now").eqNullSafe(F.col("then")))
    report = {"rules": dict(sorted(per_rule.items())), "changed": {},
              "languages": dict(sorted(per_language.items()))}  # fmt: skip
    for name, cond in (
        ("newly_removed", F.col("now").isNull()),
        ("newly_kept", F.col("then").isNull()),
    ):
        picked = changed.where(cond).orderBy(F.xxhash64("id")).limit(samples)
        docs = [
            {
                "id": r["id"],
                "url": r["url"],
                "now": r["now"],
                "then": r["then"],
                "text": r["text"][:SAMPLE_CHARS],
            }
            for r in picked.collect()
        ]
        path = join(out_dir, f"{name}.jsonl")
        st.write_text(path, "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
        report["changed"][name] = {"documents": changed.where(cond).count(), "sample": path}
    st.write_json(join(out_dir, "tune.json"), report)
    return report


def table(report: dict[str, Any]) -> str:
    lines = [f"{'rule':<44}{'docs now':>10}{'docs new':>10}{'tokens now':>13}{'tokens new':>13}"]
    for rule, e in report["rules"].items():
        lines.append(
            f"{rule:<44}{e['docs_now']:>10,}{e['docs_then']:>10,}"
            f"{e['tokens_now']:>13,}{e['tokens_then']:>13,}"
        )
    changed = {
        k: v for k, v in report["languages"].items() if v["removed_now"] != v["removed_then"]
    }
    for lang, v in changed.items():
        lines.append(f"language {lang:<35}{v['removed_now']:>10,}{v['removed_then']:>10,}  removed")
    for name, c in report["changed"].items():
        lines.append(
            f"{name.replace('_', ' ')}: {c['documents']:,} documents (sample: {c['sample']})"
        )
    return "\n".join(lines)
