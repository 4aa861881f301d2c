"""CCNet's quality buckets (head / middle / tail): per-language perplexity percentiles,
one instance of curate.percentiles, and their cut-offs file."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from curate.config import ConfigError, PerplexityConfig
from curate.percentiles import cutoffs, documents, rank_column, score_of
from curate.storage import StorageError, use

HEAD, MIDDLE = 0.3, 0.6  # head < p30 <= middle < p60 <= tail
LABELS = ("head", "middle", "tail")


def compute_cutoffs(annotated: DataFrame, sample: float, seed: int = 0) -> dict[str, dict]:
    """Per language: p30 and p60 of ``perplexity`` over a sample of the scored documents,
    by documents (CCNet), through the same engine as every other bucket scheme."""
    scored = annotated.where(F.col("perplexity").isNotNull())
    if sample < 1:
        scored = scored.sample(fraction=sample, seed=seed)
    found = cutoffs(scored, score_of("perplexity"), [HEAD, MIDDLE], documents())
    return {
        lang: {"p30": c["cutoffs"][0], "p60": c["cutoffs"][1], "documents": c["documents"]}
        for lang, c in found.items()
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
    if not cutoffs:
        return F.lit(None).cast("string")
    rank = rank_column("perplexity", {k: [c["p30"], c["p60"]] for k, c in cutoffs.items()})
    labels = F.array(*(F.lit(x) for x in LABELS))
    return F.when(rank.isNotNull(), F.element_at(labels, rank + 1))
