"""Tokenise the final documents and write OUTPUT/shards/<domain>/part-XXXXX.parquet.

Rows go to shard ``hash(id, seed) mod n`` of their domain and are ordered by the same
hash inside it, so the layout depends on neither partitioning nor input order."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema

from curate.config import MixtureConfig, TokenizerConfig
from curate.guard import guarded
from curate.storage import Storage, join
from curate.tables import Partitions
from curate.tokenize import executor_tokenizer

# Bytes of a shard row: text (zstd ~ 1/3) + token ids (int32, zstd ~ 1/2).
_TEXT_FRACTION, _TOKEN_BYTES = 0.35, 2.0


# A document whose tokenisation raised (the per-record guard): left out of the shards and
# counted in the mixture report.
ERROR = "mixture_error"


def _tokenize_partitions(cfg_json: str):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        tok = executor_tokenizer(cfg_json)
        added = [pa.field("n_tokens", pa.int32()), pa.field("tokens", pa.list_(pa.int32()))]

        def kernel(batch: pa.RecordBatch) -> pa.RecordBatch:
            ids = tok.encode_batch([t or "" for t in batch.column("text").to_pylist()])
            lengths = np.array([len(a) for a in ids], dtype=np.int32)
            offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
            values = np.concatenate(ids) if ids else np.empty(0, dtype=np.int32)
            tokens = pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, pa.int32()))
            return pa.RecordBatch.from_arrays(
                [*batch.columns, pa.array(lengths, pa.int32()), tokens],
                names=[*batch.schema.names, "n_tokens", "tokens"],
            )

        for batch in batches:
            yield guarded(batch, kernel, pa.schema([*batch.schema, *added]), ERROR)

    return run


def tokenize(docs: DataFrame, cfg: TokenizerConfig) -> tuple[Partitions, pa.Schema]:
    """What adds n_tokens and the token ids (``tokens``) to ``docs``: the function for
    ``Context.write``'s ``through``, and its output schema."""
    # Every column nullable, as the shards' writer expects them.
    schema = [f.with_nullable(True) for f in to_arrow_schema(docs.schema, timezone="UTC")]
    added = [("n_tokens", pa.int32()), ("tokens", pa.list_(pa.int32())), (ERROR, pa.string())]
    return _tokenize_partitions(cfg.model_dump_json()), pa.schema([*schema, *added])


SHARD_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("url", pa.string()),
        ("text", pa.string()),
        ("n_tokens", pa.int32()),
        ("tokens", pa.list_(pa.int32())),
        ("duplicate_count", pa.int32()),
    ]
)
SHARD_INFO_DDL = (
    "domain string, path string, bytes bigint, rows bigint, tokens bigint, sha256 string, "
    "row_groups array<struct<rows:bigint,tokens:bigint,clusters:array<array<bigint>>>>"
)


class _ShardWriter:
    """One shard file written with pyarrow, a row group per ~row_group_bytes of data.
    pyarrow (not Spark's parquet-mr, whose column metadata order varies between JVMs)
    gives the same bytes for the same rows, so sha256 and the manifest id are stable."""

    def __init__(
        self, st: Storage, folder: str, domain: str, shard: int, row_group_bytes: int
    ) -> None:
        self.domain, self.shard, self.row_group_bytes = domain, shard, row_group_bytes
        self.st = st
        self.rel = f"shards/{domain}/part-{shard:05d}.parquet"
        self.uri = join(folder, domain, f"part-{shard:05d}.parquet")
        self._output = st.open_output(self.uri)
        self.writer = pq.ParquetWriter(self._output.__enter__(), SHARD_SCHEMA, compression="zstd")
        self.pending: list[pa.RecordBatch] = []
        self.pending_bytes = 0
        self.groups: list[dict[str, int]] = []

    def add(self, batch: pa.RecordBatch) -> None:
        text_bytes = pc.fill_null(pc.binary_length(batch.column("text")), 0).to_numpy()
        sizes = text_bytes + 4 * batch.column("n_tokens").to_numpy(zero_copy_only=False)
        start = 0
        for i, size in enumerate(sizes.tolist()):
            self.pending_bytes += size
            if self.pending_bytes >= self.row_group_bytes:
                self.pending.append(batch.slice(start, i + 1 - start))
                start = i + 1
                self._flush()
        if start < batch.num_rows:
            self.pending.append(batch.slice(start))

    def _flush(self) -> None:
        if self.pending:
            table = pa.Table.from_batches(self.pending, SHARD_SCHEMA)
            self.writer.write_table(table, row_group_size=table.num_rows)
            tokens = pc.sum(table.column("n_tokens")).as_py() or 0
            # Documents and tokens per duplicate-cluster size: a loader weighs them by
            # the manifest's rehydration table without reading the rows.
            by_size = table.group_by("duplicate_count").aggregate(
                [("n_tokens", "count"), ("n_tokens", "sum")]
            )
            clusters = sorted(zip(*(by_size.column(c).to_pylist() for c in
                                    ("duplicate_count", "n_tokens_count", "n_tokens_sum")),
                                  strict=True))  # fmt: skip
            self.groups.append({"rows": table.num_rows, "tokens": tokens,
                                "clusters": [list(c) for c in clusters]})  # fmt: skip
        self.pending, self.pending_bytes = [], 0

    def close(self) -> dict[str, Any]:
        self._flush()
        self.writer.close()
        self._output.__exit__(None, None, None)
        return {
            "domain": self.domain,
            "path": self.rel,
            "bytes": self.st.info(self.uri).size,
            "rows": sum(g["rows"] for g in self.groups),
            "tokens": sum(g["tokens"] for g in self.groups),
            "sha256": self.st.sha256(self.uri),
            "row_groups": self.groups,
        }


def _write_partitions(st: Storage, folder: str, row_group_bytes: int):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        writer: _ShardWriter | None = None
        done: list[dict[str, Any]] = []
        for batch in batches:
            # A partition holds whole shards, rows sorted by (domain, shard, order).
            rows = batch.select(SHARD_SCHEMA.names)
            keys = list(
                zip(
                    batch.column("domain").to_pylist(),
                    batch.column("shard").to_pylist(),
                    strict=True,
                )
            )
            start = 0
            while start < len(keys):
                end = start
                while end < len(keys) and keys[end] == keys[start]:
                    end += 1
                domain, shard = keys[start]
                if writer is None or (writer.domain, writer.shard) != (domain, shard):
                    if writer is not None:
                        done.append(writer.close())
                    writer = _ShardWriter(st, folder, domain, shard, row_group_bytes)
                writer.add(rows.slice(start, end - start))
                start = end
        if writer is not None:
            done.append(writer.close())
        if done:
            yield pa.RecordBatch.from_pylist(done)

    return run


def write_shards(
    st: Storage, tokenized: DataFrame, cfg: MixtureConfig, folder: str
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
        .select(*SHARD_SCHEMA.names, "domain", "shard")
    )
    row_group_bytes = int(cfg.row_group_mb * 1024 * 1024)
    shards = laid_out.mapInArrow(
        _write_partitions(st, folder, row_group_bytes), SHARD_INFO_DDL
    ).collect()
    domains: dict[str, dict[str, Any]] = {}
    for info in sorted((r.asDict(recursive=True) for r in shards), key=lambda r: r["path"]):
        domain = domains.setdefault(
            info.pop("domain"), {"documents": 0, "tokens": 0, "bytes": 0, "shards": []}
        )
        domain["documents"] += info["rows"]
        domain["tokens"] += info["tokens"]
        domain["bytes"] += info["bytes"]
        domain["shards"].append(info)
    return dict(sorted(domains.items()))
