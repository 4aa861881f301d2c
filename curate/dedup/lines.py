"""Corpus-wide repeated-line removal (CCNet, Wenzek et al. 2020, Sec. 3.2; C4's spirit).

A line that appears in more than ``dedup.line_max_docs`` documents of the run is boilerplate
(menus, cookie notices, licence footers): it is cut from every document. Lines are compared
after normalisation (lower case, digits to 0, whitespace folded). All in Spark: lines are
exploded, counted by a groupBy on their hash, and documents are rebuilt in line order.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def _line_key(line):
    folded = F.regexp_replace(F.regexp_replace(F.lower(F.trim(line)), r"\d", "0"), r"\s+", " ")
    return F.xxhash64(folded)


def remove_repeated_lines(docs: DataFrame, max_docs: int) -> tuple[DataFrame, DataFrame]:
    """Return (id, text, line_chars_removed) for every document, and the repeated line keys
    with their document counts (for the report)."""
    lines = docs.select("id", F.posexplode(F.split("text", "\n")).alias("pos", "line")).withColumn(
        "key", F.when(F.trim("line") != "", _line_key(F.col("line")))
    )
    repeated = (
        lines.where(F.col("key").isNotNull())
        .groupBy("key")
        .agg(F.countDistinct("id").alias("n_docs"))
        .where(F.col("n_docs") > max_docs)
    )
    # Only documents holding a repeated line are rebuilt; the rest keep their text as is.
    dropped_at = lines.join(repeated.select("key"), "key", "left_semi").select(
        "id", "pos", F.lit(True).alias("drop")
    )
    touched = dropped_at.select("id").distinct()
    rebuilt = (
        lines.join(touched, "id", "left_semi")
        .join(dropped_at, ["id", "pos"], "left")
        .groupBy("id")
        .agg(
            F.array_sort(
                F.collect_list(
                    F.struct("pos", "line", F.coalesce("drop", F.lit(False)).alias("drop"))
                )
            ).alias("lines")
        )
    )
    kept_lines = F.filter("lines", lambda x: ~x["drop"])
    dropped = F.filter("lines", lambda x: x["drop"])
    changed = rebuilt.select(
        "id",
        F.array_join(F.transform(kept_lines, lambda x: x["line"]), "\n").alias("text"),
        F.aggregate(
            F.transform(dropped, lambda x: F.length(x["line"]) + 1), F.lit(0), lambda a, b: a + b
        ).alias("line_chars_removed"),
    )
    unchanged = docs.join(touched, "id", "left_anti").select(
        "id", "text", F.lit(0).alias("line_chars_removed")
    )
    out = changed.unionByName(unchanged)
    return out, repeated
