"""mixture: domains, extra sources, tokens, shards; the manifest is written last by the
pipeline (after stats.json and the report)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from curate import storage
from curate.config import Config, placeless_settings
from curate.guard import error_examples
from curate.mixture.domains import domain_column
from curate.mixture.manifest import build_manifest
from curate.mixture.shards import ERROR, SHARD_SCHEMA, tokenize, write_shards
from curate.mixture.sources import read_sources
from curate.runner import Context, Result, Stage
from curate.storage import join
from curate.tables import Table
from curate.tokenize import load_tokenizer


def summary(domains: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        d: {k: info[k] for k in ("documents", "tokens", "bytes")} | {"shards": len(info["shards"])}
        for d, info in domains.items()
    }


class Mixture(Stage):
    name = "mixture"
    sections = ("mixture",)

    def enabled(self, cfg: Config) -> bool:
        return cfg.mixture.enabled

    def run(self, ctx: Context, table: Table | None) -> Result:
        """Tokenise documents/ (+ extra sources) into ``tokens``, then OUTPUT/shards/; the
        per-domain layout (shards, row groups, tokens) is the manifest's."""
        assert table is not None
        mix = ctx.cfg.mixture
        columns = ["id", "url", "host", "text", "language", "quality_bucket", "duplicate_count"]
        docs = ctx.read(table, columns)
        docs = docs.withColumn("domain", domain_column(mix.domains, mix.default_domain)).select(
            "id", "url", "text", "domain",
            # Without dedup every document is its own cluster.
            F.coalesce("duplicate_count", F.lit(1)).alias("duplicate_count"),
        )  # fmt: skip
        extra = read_sources(ctx.spark, ctx.st, mix.sources)
        if extra is not None:
            docs = docs.unionByName(extra.withColumn("duplicate_count", F.lit(1)))
        tokens = ctx.write(docs, "tokens", through=tokenize(docs, mix.tokenizer))
        folder = ctx.published("shards")
        tokenized = ctx.read(tokens)
        failed = tokenized.where(F.col(ERROR).isNotNull())
        errors = {"count": failed.count(), "examples": error_examples(failed, ERROR, ERROR)}
        ok = tokenized.where(F.col(ERROR).isNull()).drop(ERROR)
        domains = write_shards(ctx.st, ok, mix, folder)
        schema = from_arrow_schema(SHARD_SCHEMA).json()
        tables = {"tokens": tokens}
        for d, info in domains.items():
            files = [{"name": s["path"].rsplit("/", 1)[1], "rows": s["rows"],
                      "bytes": s["bytes"]} for s in info["shards"]]  # fmt: skip
            tables[f"shards/{d}"] = Table(join(folder, d), schema, files)
        report = {"domains": summary(domains), "tokenize_errors": errors}
        return Result(tables, report=report, data={"domains": domains})


def quality_buckets(stats: dict[str, Any]) -> dict[str, Any] | None:
    """What the domain rules' ``buckets`` meant in this run: quality.buckets' definition and
    cut-offs, or CCNet's perplexity cut-offs."""
    filt = stats.get("filter", {})
    if filt.get("buckets"):
        return {k: filt["buckets"][k] for k in ("definition", "cutoffs")}
    ccnet = (filt.get("perplexity") or {}).get("cutoffs")
    return {"definition": "ccnet", "cutoffs": ccnet} if ccnet else None


def run_manifest(
    cfg: Config, stats: dict[str, Any], domains: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The run's manifest (written by the pipeline as OUTPUT/manifest.json, the last file).
    Its id depends on what was made and how, never on where: the config without places
    and machine settings, inputs by file name, stage counts without timings."""
    settings = placeless_settings(cfg)
    names = sorted(storage.basename(p) for p in stats["inputs"]["first"])
    producer = {
        "config_sha256": hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest(),
        "inputs": {"files": stats["inputs"]["files"], "first": names},
        "stages": [{k: s[k] for k in ("name", "in", "out", "removed")} for s in stats["stages"]],
        "pii_policy": stats.get("pii", {}).get("policy"),
        "quality_buckets": quality_buckets(stats),
    }
    tokenizer = load_tokenizer(cfg.mixture.tokenizer).info()
    return build_manifest(domains, tokenizer, cfg.mixture, producer)
