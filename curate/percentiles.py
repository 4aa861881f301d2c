"""Per-language cut-offs at weighted quantiles of a score, and buckets between them.

One engine for CCNet's perplexity buckets (quantiles 0.3 and 0.6, by documents), the
classifiers' ``keep_top_fraction`` and Nemotron-CC's ensemble buckets (by tokens). The
quantiles come from a histogram of the score per language (bins of 1e-4 for
probabilities, of 1e-3 in log space for perplexity), so only the histogram, never a
document, reaches the driver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


def tokens() -> Column:
    """A document's weight in token-weighted cut-offs: its words (Gopher's count)."""
    return F.coalesce(F.col("gopher_quality.n_words"), F.lit(0))


def documents() -> Column:
    return F.lit(1)


@dataclass(frozen=True)
class Score:
    column: str
    log: bool = False  # bins in log space (perplexity spans orders of magnitude)
    higher_is_better: bool = True

    @property
    def bins_per_unit(self) -> int:
        # Multiplied, not divided: 0.9 * 10000 is 9000.0, 0.9 / 1e-4 is 8999.99...
        return 1000 if self.log else 10_000

    def value(self) -> Column:
        """The binned value; null where not finite (an infinite perplexity, NaN), which
        no bin holds: Spark orders NaN above infinity, so ``< inf`` excludes both."""
        col = F.col(self.column)
        finite = col < F.lit(float("inf"))
        if self.log:
            return F.when(finite & (col > 0), F.log(col))
        return F.when(finite & (col > F.lit(float("-inf"))), col)


def score_of(column: str) -> Score:
    """perplexity is lower-is-better and binned in log space; a classifier's probability
    is higher-is-better."""
    if column == "perplexity":
        return Score(column, log=True, higher_is_better=False)
    return Score(column)


def cutoffs(df: DataFrame, score: Score, quantiles: list[float], weight: Column) -> dict[str, dict]:
    """Per language: {"cutoffs": [c_q for each q], "documents": n}. c_q is the lower edge
    of the first bin whose cumulative weight exceeds q of the language's weight, so at most
    q of the weight lies below c_q and at least 1 - q at or above it."""
    value = score.value()
    rows = (
        df.where(value.isNotNull() & F.col("language").isNotNull())
        .groupBy("language", F.floor(value * F.lit(score.bins_per_unit)).alias("bin"))
        .agg(F.sum(weight).alias("w"), F.count(F.lit(1)).alias("n"))
        .collect()
    )
    bins: dict[str, list[tuple[int, float, int]]] = {}
    for r in rows:
        bins.setdefault(r["language"], []).append((int(r["bin"]), float(r["w"] or 0), r["n"]))
    out = {}
    for lang, hist in sorted(bins.items()):
        hist.sort()
        total = sum(w for _, w, _ in hist)
        if total <= 0:
            continue
        cuts = []
        for q in quantiles:
            cum, edge = 0.0, hist[-1][0]
            for b, w, _ in hist:
                cum += w
                if cum > q * total:
                    edge = b
                    break
            cut = edge / score.bins_per_unit
            cuts.append(math.exp(cut) if score.log else round(cut, 6))
        out[lang] = {"cutoffs": cuts, "documents": sum(n for _, _, n in hist)}
    return out


def rank_column(column: str, per_language: dict[str, list[float]]) -> Column:
    """How many of the document's language cut-offs its score reaches (0 .. len): null
    without a score or cut-offs for its language."""
    col, lang = F.col(column), F.col("language")
    out = F.lit(None).cast("int")
    for code, cuts in sorted(per_language.items()):
        reached = sum((F.when(col >= F.lit(c), 1).otherwise(0) for c in cuts), F.lit(0))
        out = F.when((lang == F.lit(code)) & col.isNotNull(), reached).otherwise(out)
    return out


def bucket_column(score: Score, per_language: dict[str, list[float]], n: int) -> Column:
    """The score's bucket 0 .. n-1, higher is better, from n - 1 cut-offs per language."""
    rank = rank_column(score.column, per_language)
    return rank if score.higher_is_better else F.lit(n - 1) - rank


def combine(buckets: list[Column], how: str) -> Column:
    """The ensemble bucket over the scores a document has: max, or the mean rounded half
    up; null when it has none."""
    if how == "max":
        return F.greatest(*buckets) if len(buckets) > 1 else buckets[0]
    total = sum((F.coalesce(b, F.lit(0)) for b in buckets), F.lit(0))
    count = sum((b.isNotNull().cast("int") for b in buckets), F.lit(0))
    return F.when(count > 0, F.floor(total / count + F.lit(0.5)).cast("int"))
