"""The mixture stage on Spark: domains, extra sources, tokens, shards, then the manifest."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from curate.config import Config
from curate.io.atomic import atomic_dir
from curate.mixture.domains import domain_column
from curate.mixture.manifest import build_manifest
from curate.mixture.shards import tokenize, write_shards
from curate.mixture.sources import read_sources
from curate.tokenize import load_tokenizer


def build_shards(spark: SparkSession, cfg: Config, out: Path) -> dict[str, dict[str, Any]]:
    """Tokenise documents/ (+ extra sources) into OUTPUT/shards/; per-domain description."""
    mix = cfg.mixture
    docs = spark.read.parquet(str(out / "documents"))
    docs = docs.withColumn("domain", domain_column(mix.domains, mix.default_domain)).select(
        "id", "url", "text", "domain"
    )
    extra = read_sources(spark, mix.sources)
    if extra is not None:
        docs = docs.unionByName(extra)
    work = out / "stages" / "tokens"
    with atomic_dir(work) as tmp:
        tokenize(docs, mix.tokenizer).write.option("compression", "zstd").parquet(str(tmp))
    return write_shards(spark, spark.read.parquet(str(work)), mix, out)


def summary(domains: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        d: {k: info[k] for k in ("documents", "tokens", "bytes")} | {"shards": len(info["shards"])}
        for d, info in domains.items()
    }


def run_manifest(
    cfg: Config, stats: dict[str, Any], domains: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The run's manifest (written by the caller as OUTPUT/manifest.json, the last file)."""
    producer = {
        "config_sha256": hashlib.sha256(cfg.model_dump_json().encode()).hexdigest(),
        "inputs": stats["inputs"],
        "stages": stats["stages"],
        "pii_policy": stats.get("pii", {}).get("policy"),
    }
    tokenizer = load_tokenizer(cfg.mixture.tokenizer).info()
    return build_manifest(domains, tokenizer, cfg.mixture, producer)
