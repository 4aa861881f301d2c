"""Annotate once, filter many: signals as columns, thresholds as a Spark expression.

``annotate_batch`` is plain Python over an Arrow batch (language ID + every filter's
signals, nothing dropped). ``reason_column`` turns the configured thresholds into one
Spark column, the first failing rule's name, so thresholds can change without
recomputing a single signal.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from curate.config import FILTERS, Config, LanguageConfig, PerplexityConfig
from curate.langid import load_model, predict, resolved_languages
from curate.perplexity.buckets import bucket_column
from curate.perplexity.model import load_model as load_lm
from curate.storage import Storage
from filters.rules import Rule
from filters.url import parse_list

_ARROW = {"int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
_SPARK = {"int64": "bigint", "float64": "double", "bool": "boolean"}


def signal_struct(cls) -> pa.StructType:
    return pa.struct([(name, _ARROW[kind]) for name, kind in cls.SIGNALS.items()])


SIGNAL_COLUMNS = ["language", "language_score", *FILTERS, "perplexity"]
# Set by the annotate stage's per-record guard where computing a document's signals
# raised; such a document is removed with this reason (its signals are null).
ANNOTATE_ERROR = "annotate_error"
# Stages of the filter step, in order; a reason "<stage>.<rule>" belongs to its prefix,
# any other (a quality filter's rule) to quality.
FILTER_STAGES = ("language", "quality", "perplexity")


def annotated_schema(base: pa.Schema) -> pa.Schema:
    fields = [*base, pa.field("language", pa.string()), pa.field("language_score", pa.float64())]
    fields += [pa.field(name, signal_struct(cls)) for name, cls in FILTERS.items()]
    fields.append(pa.field("perplexity", pa.float64()))
    return pa.schema(fields)


def all_filters(cfg: Config, st: Storage) -> dict[str, Any]:
    """Every filter, enabled or not: signals are computed for all, so enabling one later
    needs no new annotate run. List files named by a filter's ``*_file`` fields are read
    here, through the storage layer, and merged into the list field of the same name."""
    out = {}
    for name, cls in FILTERS.items():
        fields = getattr(cfg.quality, name).model_dump()
        for key, path in list(fields.items()):
            if key.endswith("_file") and path:
                listed = key.removesuffix("_file")
                fields[listed] = (*fields[listed], *parse_list(st.read_text(path)))
        out[name] = cls(**fields)
    return out


def annotate_params(cfg: Config) -> dict[str, Any]:
    """The settings that shape signals (not thresholds); a filter-only rerun must match them."""
    params: dict[str, Any] = {"language.model": cfg.language.model}
    if cfg.perplexity.enabled:
        params["perplexity.models"] = dict(sorted(cfg.perplexity.models.items()))
    for name, cls in FILTERS.items():
        for field in getattr(cls, "ANNOTATE_FIELDS", ()):
            value = getattr(getattr(cfg.quality, name), field)
            params[f"{name}.{field}"] = list(value) if isinstance(value, tuple) else value
    return params


def annotate_batch(
    batch: pa.RecordBatch, cfg: Config, schema: pa.Schema, filters: dict[str, Any]
) -> pa.RecordBatch:
    """Language and every filter's signals for one batch; ``filters`` from all_filters."""
    model = load_model(cfg.language.model)
    texts = batch.column("text").to_pylist()
    urls = batch.column("url").to_pylist()
    models = cfg.perplexity.models if cfg.perplexity.enabled else {}
    langs, scores, perplexities = [], [], []
    signals: dict[str, list[dict[str, Any]]] = {name: [] for name in filters}
    for text, url in zip(texts, urls, strict=True):
        lang, score = predict(model, text)
        langs.append(lang)
        scores.append(score)
        for name, filt in filters.items():
            # The URL filter reads the URL; every other filter reads the text.
            sig = filt.signals(url) if name == "url_filter" else filt.signals(text, lang)
            signals[name].append(sig)
        lm = load_lm(lang, models[lang]) if lang in models else None
        perplexities.append(lm.score(text).perplexity if lm else None)
    columns = [*batch.columns, pa.array(langs, pa.string()), pa.array(scores, pa.float64())]
    columns += [pa.array(signals[name], signal_struct(FILTERS[name])) for name in filters]
    columns.append(pa.array(perplexities, pa.float64()))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def rules(cfg: Config) -> list[Rule]:
    """Quality rules of the enabled filters, in the order they are checked."""
    return [rule for filt in cfg.quality.filters() for rule in filt.rules()]


def rule_column(rule: Rule) -> Column:
    """The rule's name where it fails (its own ``test`` on the column), else null; a null
    signal gives a null test, which never fails, as in Rule.fails."""
    return F.when(rule.test(F.col(rule.signal)), F.lit(rule.name))


def _language_column(lang_cfg: LanguageConfig) -> list[Column]:
    if not lang_cfg.enabled:
        return []
    lang, score = F.col("language"), F.col("language_score")
    keep, min_scores = resolved_languages(lang_cfg)
    out = []
    if keep:
        out.append(F.when(lang.isNull() | ~lang.isin(*keep), F.lit("language.not_kept")))
    threshold = F.lit(lang_cfg.min_score)
    for code, value in sorted(min_scores.items()):
        threshold = F.when(lang == F.lit(code), F.lit(value)).otherwise(threshold)
    out.append(F.when(score.isNull() | (score < threshold), F.lit("language.low_score")))
    return out


def _perplexity_column(cfg: PerplexityConfig) -> list[Column]:
    """Rules over ``perplexity`` and ``quality_bucket`` (null never fails)."""
    if not cfg.enabled:
        return []
    out = []
    if cfg.cutoffs and set(cfg.keep_buckets) != {"head", "middle", "tail"}:
        bucket = F.col("quality_bucket")
        out.append(F.when(~bucket.isin(*cfg.keep_buckets), F.lit("perplexity.bucket_not_kept")))
    if cfg.max_perplexity is not None:
        too_high = F.col("perplexity") > F.lit(cfg.max_perplexity)
        out.append(F.when(too_high, F.lit("perplexity.too_high")))
    return out


def reason_column(cfg: Config) -> Column:
    """First failing rule (language, then quality filters in order, then perplexity), or
    null. Needs a ``quality_bucket`` column when buckets are filtered."""
    checks = _language_column(cfg.language) + [rule_column(r) for r in rules(cfg)]
    checks += _perplexity_column(cfg.perplexity)
    return F.coalesce(*checks) if checks else F.lit(None).cast("string")


def flag(
    annotated: DataFrame, cfg: Config, cutoffs: dict | None, column: str = "filter_reason"
) -> DataFrame:
    """Annotated documents with ``quality_bucket`` (from perplexity cut-offs) and ``column``,
    the first failing rule under ``cfg`` (null: kept); a document whose signals raised
    fails first, as annotate_error."""
    reason = reason_column(cfg)
    if ANNOTATE_ERROR in annotated.columns:
        failed = F.when(F.col(ANNOTATE_ERROR).isNotNull(), F.lit(ANNOTATE_ERROR))
        reason = F.coalesce(failed, reason)
    return annotated.withColumn("quality_bucket", bucket_column(cutoffs)).withColumn(column, reason)


def stage_of(reason: str) -> str:
    prefix = reason.split(".", 1)[0]
    return prefix if prefix in FILTER_STAGES else "quality"


def thresholds(cfg: Config) -> dict[str, Any]:
    """Every threshold in force, for the record in stats.json."""
    out: dict[str, Any] = {
        "language": cfg.language.model_dump(),
        "perplexity": cfg.perplexity.model_dump(),
    }
    for filt in cfg.quality.filters():
        out[filt.name] = dataclasses.asdict(filt)
    return out
