"""Annotate once, filter many: signals as columns, thresholds as a Spark expression.

``annotate_batch`` is plain Python over an Arrow batch (language ID + every filter's
signals, nothing dropped). ``reason_column`` turns the configured thresholds into one
Spark column, the first failing rule's name, so thresholds can change without
recomputing a single signal.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import lru_cache
from typing import Any

import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from curate import percentiles
from curate.classifier.model import column
from curate.classifier.model import scores as classifier_scores
from curate.config import FILTERS, Config, LanguageConfig, PerplexityConfig
from curate.langid import load_model, predict, resolved_languages
from curate.lists import filter_fields
from curate.perplexity.buckets import bucket_column, resolve_cutoffs
from curate.perplexity.model import load_model as load_lm
from curate.storage import Storage, sha256
from curate.tokenize import executor_tokenizer
from filters.rules import Rule

_ARROW = {"int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
_SPARK = {"int64": "bigint", "float64": "double", "bool": "boolean"}


def signal_struct(cls) -> pa.StructType:
    return pa.struct([(name, _ARROW[kind]) for name, kind in cls.SIGNALS.items()])


SIGNAL_COLUMNS = ["language", "language_score", *FILTERS, "perplexity", "n_tokens"]
# Set by the annotate stage's per-record guard where computing a document's signals
# raised; such a document is removed with this reason (its signals are null).
ANNOTATE_ERROR = "annotate_error"
# Stages of the filter step, in order; a reason "<stage>.<rule>" belongs to its prefix,
# any other (a quality filter's rule) to quality.
FILTER_STAGES = ("language", "quality", "perplexity")


def classifier_columns(cfg: Config) -> list[str]:
    """One signal column per configured classifier, ``classifier_<name>``."""
    return [column(c) for c in cfg.quality.classifiers]


def annotated_schema(base: pa.Schema, cfg: Config) -> pa.Schema:
    fields = [*base, pa.field("language", pa.string()), pa.field("language_score", pa.float64())]
    fields += [pa.field(name, signal_struct(cls)) for name, cls in FILTERS.items()]
    fields += [pa.field("perplexity", pa.float64()), pa.field("n_tokens", pa.int32())]
    fields += [pa.field(name, pa.float64()) for name in classifier_columns(cfg)]
    return pa.schema(fields)


def all_filters(cfg: Config, st: Storage) -> dict[str, Any]:
    """Every filter, enabled or not: signals are computed for all, so enabling one later
    needs no new annotate run. The list files its settings name are merged in here
    (curate.lists)."""
    return {name: cls(**filter_fields(cfg, st, name)) for name, cls in FILTERS.items()}


def annotate_params(cfg: Config) -> dict[str, Any]:
    """The settings that shape signals (not thresholds); a filter-only rerun must match them."""
    params: dict[str, Any] = {
        "language.model": cfg.language.model,
        "mixture.tokenizer": json.loads(cfg.mixture.tokenizer.model_dump_json()),  # n_tokens
    }
    if cfg.language.signals_for_kept_only:  # which documents get signals
        params["language.signals_for_kept_only"] = json.loads(cfg.language.model_dump_json())
    if cfg.perplexity.enabled:
        params["perplexity.models"] = dict(sorted(cfg.perplexity.models.items()))
    for name, cls in FILTERS.items():
        for field in getattr(cls, "ANNOTATE_FIELDS", ()):
            value = getattr(getattr(cfg.quality, name), field)
            # As stats.json stores it (tuples are lists there), so a rerun compares equal.
            params[f"{name}.{field}"] = json.loads(json.dumps(value))
    for c in cfg.quality.classifiers:  # identity, not thresholds: the model file's hash
        params[f"classifier.{c.name}"] = {"path": c.path, "sha256": file_sha256(c.path),
                                          "label": c.label, "languages": c.languages}  # fmt: skip
    return params


@lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    return sha256(path)


def file_sha256(path: str) -> str | None:
    """A model's sha256, hashed once per file version; None for a missing file."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return _sha256(path, info.st_size, info.st_mtime_ns)


@lru_cache(maxsize=4)
def _language_keeps(language_json: str) -> Callable[[str | None, float | None], bool]:
    """Whether the language rules keep a document of this language and score: the
    test of ``_language_column``, in Python."""
    lang_cfg = LanguageConfig.model_validate_json(language_json)
    keep, min_scores = resolved_languages(lang_cfg)
    kept = frozenset(keep)

    def keeps(lang: str | None, score: float | None) -> bool:
        if lang is None or score is None or (kept and lang not in kept):
            return False
        return score >= min_scores.get(lang, lang_cfg.min_score)

    return keeps


def annotate_batch(
    batch: pa.RecordBatch, cfg: Config, schema: pa.Schema, filters: dict[str, Any]
) -> pa.RecordBatch:
    """Language and every filter's signals for one batch; ``filters`` from all_filters.
    With ``language.signals_for_kept_only``, documents the language rules remove get
    their language alone (every other signal null)."""
    model = load_model(cfg.language.model)
    texts = batch.column("text").to_pylist()
    urls = batch.column("url").to_pylist()
    models = cfg.perplexity.models if cfg.perplexity.enabled else {}
    only_kept = cfg.language.enabled and cfg.language.signals_for_kept_only
    keeps = _language_keeps(cfg.language.model_dump_json()) if only_kept else None
    langs, scores, perplexities, skipped = [], [], [], []
    signals: dict[str, list[dict[str, Any] | None]] = {name: [] for name in filters}
    for text, url in zip(texts, urls, strict=True):
        lang, score = predict(model, text)
        langs.append(lang)
        scores.append(score)
        skipped.append(keeps is not None and not keeps(lang, score))
        if skipped[-1]:  # removed by the language rules whatever its other signals
            for name in filters:
                signals[name].append(None)
            perplexities.append(None)
            continue
        for name, filt in filters.items():
            # The URL filter reads the URL; every other filter reads the text.
            sig = filt.signals(url) if name == "url_filter" else filt.signals(text, lang)
            signals[name].append(sig)
        lm = load_lm(lang, models[lang]) if lang in models else None
        perplexities.append(lm.score(text).perplexity if lm else None)
    columns = [*batch.columns, pa.array(langs, pa.string()), pa.array(scores, pa.float64())]
    columns += [pa.array(signals[name], signal_struct(FILTERS[name])) for name in filters]
    # Every document's tokens (the report's funnel counts what each step removes).
    n_tokens = executor_tokenizer(cfg.mixture.tokenizer.model_dump_json()).count_batch(texts)
    columns += [pa.array(perplexities, pa.float64()), pa.array(n_tokens, pa.int32())]
    scored = [i for i, s in enumerate(skipped) if not s]
    for c in cfg.quality.classifiers:
        values: list[float | None] = [None] * len(texts)
        found = classifier_scores(c, [texts[i] for i in scored], [langs[i] for i in scored])
        for i, value in zip(scored, found, strict=True):
            values[i] = value
        columns.append(pa.array(values, pa.float64()))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def rules(cfg: Config) -> list[Rule]:
    """Quality rules of the enabled filters, in the order they are checked."""
    return [rule for filt in cfg.quality.filters() for rule in filt.rules()]


def quality_columns(cfg: Config) -> list[Column]:
    """One column per quality rule, in rule order: its name where it fails. A rule with
    quality.by_language values takes each such language's threshold from a map keyed by
    language (one expression, however many languages), and never fails in a language
    whose filter is off or lacks the rule."""
    if not cfg.quality.by_language:
        return [rule_column(r) for r in rules(cfg)]
    base = {r.name: r for r in rules(cfg)}
    per = {lang: {r.name: r for f in cfg.quality.filters_for(lang) for r in f.rules()}
           for lang in sorted(cfg.quality.by_language)}  # fmt: skip
    order = list(FILTERS)
    names = sorted(
        dict.fromkeys([*base, *(n for rs in per.values() for n in rs)]),
        key=lambda n: order.index(n.split(".", 1)[0]),
    )  # stable: rule order kept
    lang, out = F.col("language"), []
    for name in names:
        rule = base.get(name) or next(rs[name] for rs in per.values() if name in rs)
        own = {code: rs[name].threshold for code, rs in per.items() if name in rs}
        off = sorted(code for code, rs in per.items() if name not in rs)
        threshold = F.lit(base[name].threshold if name in base else None)
        if any(v is not None for v in own.values()):
            pairs = [x for code, v in sorted(own.items()) for x in (F.lit(code), F.lit(v))]
            mapped = F.try_element_at(F.create_map(*pairs), lang)
            # A language listed with its own threshold uses it; others the base one.
            threshold = F.when(lang.isin(*own), mapped).otherwise(threshold)
        test = dataclasses.replace(rule, threshold=threshold).test(F.col(rule.signal))
        if name not in base:
            test = test & lang.isin(*own)
        if off:  # a document without a language is judged by the base rules
            test = test & ~F.coalesce(lang.isin(*off), F.lit(False))
        out.append(F.when(test, F.lit(name)))
    return out


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


@dataclass
class Cutoffs:
    """The cut-offs a run's filter computes from its own score distributions, per
    language: CCNet's perplexity p30/p60, each classifier's keep_top_fraction cut-off, and
    each quality.buckets score's n - 1 cut-offs."""

    perplexity: dict[str, dict] | None = None
    classifiers: dict[str, dict[str, dict]] = dc_field(default_factory=dict)
    buckets: dict[str, dict[str, dict]] = dc_field(default_factory=dict)


def run_cutoffs(cfg: Config, annotated: DataFrame) -> Cutoffs:
    out = Cutoffs(perplexity=resolve_cutoffs(cfg.perplexity, annotated))
    for c in cfg.quality.classifiers:
        if c.keep_top_fraction is not None:
            q = [1 - c.keep_top_fraction]
            score = percentiles.score_of(column(c))
            out.classifiers[c.name] = percentiles.cutoffs(annotated, score, q, percentiles.tokens())
    b = cfg.quality.buckets
    if b:
        q = [k / b.n for k in range(1, b.n)]
        for name in b.scores:
            score = percentiles.score_of(name)
            out.buckets[name] = percentiles.cutoffs(annotated, score, q, percentiles.tokens())
    return out


def quality_bucket_column(cfg: Config, cut: Cutoffs) -> Column:
    """quality.buckets' ensemble ("0" .. "n-1"), else CCNet's head / middle / tail."""
    b = cfg.quality.buckets
    if not b:
        return bucket_column(cut.perplexity)
    per_score = []
    for name in b.scores:
        cuts = {lang: c["cutoffs"] for lang, c in cut.buckets.get(name, {}).items()}
        per_score.append(percentiles.bucket_column(percentiles.score_of(name), cuts, b.n))
    return percentiles.combine(per_score, b.combine).cast("string")


def _classifier_columns(cfg: Config, cut: Cutoffs) -> list[Column]:
    """classifier_<name>.low_score below min_score or the language's keep_top_fraction
    cut-off (null never fails)."""
    out = []
    for c in cfg.quality.classifiers:
        score, reason = F.col(column(c)), F.lit(f"{column(c)}.low_score")
        if c.min_score is not None:
            out.append(F.when(score < F.lit(c.min_score), reason))
        for lang, found in sorted(cut.classifiers.get(c.name, {}).items()):
            low = (F.col("language") == F.lit(lang)) & (score < F.lit(found["cutoffs"][0]))
            out.append(F.when(low, reason))
    return out


def reason_column(cfg: Config, cut: Cutoffs | None = None) -> Column:
    """First failing rule (language, then quality filters in order, then classifiers, then
    perplexity), or null. Needs a ``quality_bucket`` column when buckets are filtered."""
    cut = cut or Cutoffs()
    checks = _language_column(cfg.language) + quality_columns(cfg)
    checks += _classifier_columns(cfg, cut) + _perplexity_column(cfg.perplexity)
    return F.coalesce(*checks) if checks else F.lit(None).cast("string")


def flag(
    annotated: DataFrame, cfg: Config, cut: Cutoffs, column: str = "filter_reason"
) -> DataFrame:
    """Annotated documents with ``quality_bucket`` and ``column``, the first failing rule
    under ``cfg`` (null: kept); a document whose signals raised fails first, as
    annotate_error."""
    reason = reason_column(cfg, cut)
    if ANNOTATE_ERROR in annotated.columns:
        failed = F.when(F.col(ANNOTATE_ERROR).isNotNull(), F.lit(ANNOTATE_ERROR))
        reason = F.coalesce(failed, reason)
    bucket = quality_bucket_column(cfg, cut)
    return annotated.withColumn("quality_bucket", bucket).withColumn(column, reason)


def stage_of(reason: str) -> str:
    prefix = reason.split(".", 1)[0]
    return prefix if prefix in FILTER_STAGES else "quality"


def thresholds(cfg: Config) -> dict[str, Any]:
    """Every threshold in force, for the record in stats.json."""
    out: dict[str, Any] = {
        "language": cfg.language.model_dump(),
        "perplexity": cfg.perplexity.model_dump(),
        "classifiers": [c.model_dump() for c in cfg.quality.classifiers],
        "buckets": cfg.quality.buckets.model_dump() if cfg.quality.buckets else None,
        "by_language": cfg.quality.by_language,
    }
    for filt in cfg.quality.filters():
        out[filt.name] = dataclasses.asdict(filt)
    return out
