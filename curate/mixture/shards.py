"""Tokenise the final documents and write OUTPUT/shards/<domain>/part-XXXXX.parquet.

Rows go to shard ``hash(id, seed) mod n`` of their domain and are ordered by the same
hash inside it, so the layout depends on neither partitioning nor input order."""

from __future__ import annotations

import hashlib
import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from curate.config import MixtureConfig, TokenizerConfig
from curate.io.atomic import atomic_dir
from curate.tokenize import load_tokenizer

SHARD_COLUMNS = ["id", "url", "text", "n_tokens", "tokens"]
# Bytes of a shard row: text (zstd ~ 1/3) + token ids (int32, zstd ~ 1/2).
_TEXT_FRACTION, _TOKEN_BYTES = 0.35, 2.0
_TOKENIZERS: dict[str, Any] = {}


def _tokenize_partitions(cfg_json: str):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        if cfg_json not in _TOKENIZERS:
            _TOKENIZERS[cfg_json] = load_tokenizer(TokenizerConfig.model_validate_json(cfg_json))
        tok = _TOKENIZERS[cfg_json]
        for batch in batches:
            ids = tok.encode_batch([t or "" for t in batch.column("text").to_pylist()])
            lengths = np.array([len(a) for a in ids], dtype=np.int32)
            offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
            values = np.concatenate(ids) if ids else np.empty(0, dtype=np.int32)
            tokens = pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, pa.int32()))
            yield pa.RecordBatch.from_arrays(
                [*batch.columns, pa.array(lengths, pa.int32()), tokens],
                names=[*batch.schema.names, "n_tokens", "tokens"],
            )

    return run


def tokenize(docs: DataFrame, cfg: TokenizerConfig) -> DataFrame:
    schema = docs.schema.simpleString()[len("struct<") : -1]
    ddl = f"{schema},n_tokens:int,tokens:array<int>"
    return docs.mapInArrow(_tokenize_partitions(cfg.model_dump_json()), ddl)


def _rename_shards(tmp: Path) -> None:
    """domain=web/shard=3/part-....parquet -> web/part-00003.parquet."""
    for crc in tmp.rglob(".*.crc"):
        crc.unlink()
    for part in sorted(tmp.glob("domain=*/shard=*/part-*.parquet")):
        domain = part.parent.parent.name.split("=", 1)[1]
        shard = int(part.parent.name.split("=", 1)[1])
        (tmp / domain).mkdir(exist_ok=True)
        part.rename(tmp / domain / f"part-{shard:05d}.parquet")
    for folder in tmp.glob("domain=*"):
        shutil.rmtree(folder)


def write_shards(
    spark: SparkSession, tokenized: DataFrame, cfg: MixtureConfig, out: Path
) -> dict[str, dict[str, Any]]:
    """Shards per domain (zstd, ~cfg.shard_mb each, row groups ~cfg.row_group_mb); returns
    per domain its documents, tokens, bytes and shards (with per-row-group tokens)."""
    sizes = (
        tokenized.groupBy("domain")
        .agg(F.sum(F.octet_length("text")).alias("text_bytes"), F.sum("n_tokens").alias("t"))
        .collect()
    )
    target = cfg.shard_mb * 1024 * 1024
    n_shards = {
        r["domain"]: max(
            1,
            math.ceil(
                ((r["text_bytes"] or 0) * _TEXT_FRACTION + (r["t"] or 0) * _TOKEN_BYTES) / target
            ),
        )
        for r in sizes
    }
    order = F.xxhash64(F.col("id"), F.lit(cfg.seed))
    shard = F.lit(0)
    for domain, n in sorted(n_shards.items()):
        shard = F.when(F.col("domain") == domain, F.pmod(order, F.lit(n))).otherwise(shard)
    laid_out = (
        tokenized.withColumn("shard", shard.cast("int"))
        .withColumn("_order", order)
        .repartition("domain", "shard")
        .sortWithinPartitions("domain", "shard", "_order", "id")
        .select(*SHARD_COLUMNS, "domain", "shard")
    )
    with atomic_dir(out / "shards") as tmp:
        (
            laid_out.write.option("compression", "zstd")
            .option("parquet.block.size", str(int(cfg.row_group_mb * 1024 * 1024)))
            .partitionBy("domain", "shard")
            .parquet(str(tmp))
        )
        _rename_shards(tmp)
    return describe_shards(out)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def describe_shards(out: Path) -> dict[str, dict[str, Any]]:
    """Per domain: documents, tokens, bytes and every shard's path (relative to ``out``),
    bytes, rows, tokens, sha256 and row groups (rows, tokens)."""
    domains: dict[str, dict[str, Any]] = {}
    for folder in sorted(p for p in (out / "shards").iterdir() if p.is_dir()):
        shards = []
        for path in sorted(folder.glob("part-*.parquet")):
            if not re.fullmatch(r"part-\d{5}\.parquet", path.name):
                continue
            pf = pq.ParquetFile(path)
            groups = []
            for i in range(pf.num_row_groups):
                n_tokens = pf.read_row_group(i, columns=["n_tokens"]).column(0)
                groups.append(
                    {
                        "rows": pf.metadata.row_group(i).num_rows,
                        "tokens": int(pa.compute.sum(n_tokens).as_py() or 0),
                    }
                )
            shards.append(
                {
                    "path": str(path.relative_to(out)),
                    "bytes": path.stat().st_size,
                    "rows": pf.metadata.num_rows,
                    "tokens": sum(g["tokens"] for g in groups),
                    "sha256": _sha256(path),
                    "row_groups": groups,
                }
            )
        domains[folder.name] = {
            "documents": sum(s["rows"] for s in shards),
            "tokens": sum(s["tokens"] for s in shards),
            "bytes": sum(s["bytes"] for s in shards),
            "shards": shards,
        }
    return domains
