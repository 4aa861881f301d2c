"""CCNet's quality buckets: per-language perplexity percentiles and a Spark bucket column."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from curate.config import ConfigError, PerplexityConfig
from curate.storage import StorageError, use

HEAD, MIDDLE = 0.3, 0.6  # head < p30 <= middle < p60 <= tail


def compute_cutoffs(annotated: DataFrame, sample: float, seed: int = 0) -> dict[str, dict]:
    """Per language: p30 and p60 of ``perplexity`` over a sample of the scored documents."""
    scored = annotated.where(F.col("perplexity").isNotNull())
    if sample < 1:
        scored = scored.sample(fraction=sample, seed=seed)
    rows = (
        scored.groupBy("language")
        .agg(
            F.percentile_approx("perplexity", [HEAD, MIDDLE], 10_000).alias("p"),
            F.count(F.lit(1)).alias("n"),
        )
        .collect()
    )
    return {
        r["language"]: {"p30": r["p"][0], "p60": r["p"][1], "documents": r["n"]}
        for r in sorted(rows, key=lambda r: r["language"])
    }


def write_cutoffs(uri: str, cutoffs: dict[str, dict], source: str) -> None:
    use(None).write_json(uri, {"source": source, "languages": cutoffs})


def load_cutoffs(uri: str) -> dict[str, dict]:
    try:
        data = use(None).read_json(str(uri))
        return {lang: {"p30": float(c["p30"]), "p60": float(c["p60"])}
                for lang, c in data["languages"].items()}  # fmt: skip
    except (FileNotFoundError, StorageError):
        raise ConfigError(f"perplexity.cutoffs: {uri} not found") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"perplexity.cutoffs: {uri}: not a cut-offs file ({exc})") from None


def resolve_cutoffs(cfg: PerplexityConfig, annotated: DataFrame) -> dict[str, dict] | None:
    """The cut-offs in force: from the file, computed on this run ("auto"), or none."""
    if not cfg.enabled or cfg.cutoffs is None:
        return None
    if cfg.cutoffs == "auto":
        return compute_cutoffs(annotated, cfg.sample)
    return load_cutoffs(cfg.cutoffs)


def bucket_column(cutoffs: dict[str, dict] | None) -> Column:
    """head / middle / tail by the document's language cut-offs; null without them."""
    bucket = F.lit(None).cast("string")
    if not cutoffs:
        return bucket
    ppl, lang = F.col("perplexity"), F.col("language")
    for code, c in sorted(cutoffs.items()):
        this = (
            F.when(ppl < F.lit(c["p30"]), F.lit("head"))
            .when(ppl < F.lit(c["p60"]), F.lit("middle"))
            .otherwise(F.lit("tail"))
        )
        bucket = F.when((lang == F.lit(code)) & ppl.isNotNull(), this).otherwise(bucket)
    return bucket
