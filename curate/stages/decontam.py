"""decontam: benchmark n-gram index broadcast, common n-grams dropped by count, matched
documents dropped or cut. Only per-benchmark counts reach the driver."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema

from curate.config import Config, DecontamConfig
from curate.decontam.cache import benchmark_index
from curate.decontam.index import NgramIndex
from curate.decontam.match import batch_matches, cut, match_spans
from curate.guard import error_examples, guarded, with_error
from curate.runner import Context, Result, Stage
from curate.schema import read_kept
from curate.stats import StageStats
from curate.tables import Table

REASON = "benchmark_contamination"
_SEP = "\x1f"  # between benchmark and item id in contamination_items


# A document whose matching raised (the per-record guard): removed as decontam_error, as
# it could not be checked.
ERROR = "decontam_error"
HITS_SCHEMA = pa.schema([("id", pa.string()), ("hashes", pa.list_(pa.int64()))])


def _hits_batch(batch: pa.RecordBatch, index: NgramIndex) -> pa.RecordBatch:
    found = batch_matches(batch.column("text"), index)
    hashes = pa.array([f.view(np.int64) if len(f) else None for f in found], pa.list_(pa.int64()))
    return pa.RecordBatch.from_arrays([batch.column("id"), hashes], schema=HITS_SCHEMA)


def _hits_partitions(bc):
    """(id, hashes, decontam_error) of the documents with a hit or an error."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        index: NgramIndex = bc.value
        for batch in batches:
            out = guarded(batch, lambda b: _hits_batch(b, index), HITS_SCHEMA, ERROR)
            keep = pc.or_(pc.is_valid(out.column("hashes")), pc.is_valid(out.column(ERROR)))
            yield out.filter(keep)

    return run


_ADDED = [
    pa.field("contamination", pa.list_(pa.string())),
    pa.field("contamination_items", pa.list_(pa.string())),
    pa.field("filter_reason", pa.string()),
    pa.field("duplicate_of", pa.string()),
]


def _apply_partitions(bc, cfg_json: str):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        index: NgramIndex = bc.value
        cfg = DecontamConfig.model_validate_json(cfg_json)
        for batch in batches:
            schema = pa.schema([*batch.schema, *_ADDED])
            out = guarded(batch, lambda b: _apply_batch(b, index, cfg), schema, "apply_error")
            # An error of the scan (hits) or of this step removes the document.
            error = pc.coalesce(out.column(ERROR), out.column("apply_error"))
            reason = pc.if_else(pc.is_valid(error), pa.scalar(ERROR), out.column("filter_reason"))
            out = out.drop_columns(["apply_error"])
            out = out.set_column(out.schema.get_field_index(ERROR), ERROR, error)
            out = out.set_column(out.schema.get_field_index("filter_reason"), "filter_reason",
                                 reason)  # fmt: skip
            yield out.drop_columns(["hashes"])

    return run


def _apply_batch(batch: pa.RecordBatch, index: NgramIndex, cfg: DecontamConfig) -> pa.RecordBatch:
    """Input columns (text and n_chars replaced) + contamination, contamination_items,
    filter_reason, duplicate_of (always null here)."""
    texts = batch.column("text").to_pylist()
    all_hashes = batch.column("hashes").to_pylist()
    benchmarks, items, reasons = [], [], []
    for i, hashes in enumerate(all_hashes):
        if not hashes:
            benchmarks.append(None)
            items.append(None)
            reasons.append(None)
            continue
        h = np.array(hashes, dtype=np.int64).view(np.uint64)
        found = [index.items[j] for j in index.lookup(h)]
        benchmarks.append(sorted({b for b, _ in found}))
        items.append(sorted(f"{b}{_SEP}{it}" for b, it in found))
        new = None
        if cfg.mode == "remove":
            new = cut(texts[i], match_spans(texts[i], h, index.lengths), cfg)
        if new is None:  # drop mode, or nothing left worth keeping
            reasons.append(REASON)
        else:
            texts[i] = new
            reasons.append(None)
    text = pa.array(texts, pa.string())
    replaced = {"text": text, "n_chars": pc.cast(pc.utf8_length(text), pa.int32())}
    names = batch.schema.names
    arrays = [replaced.get(n, batch.column(n)) for n in names]
    arrays += [
        pa.array(benchmarks, pa.list_(pa.string())),
        pa.array(items, pa.list_(pa.string())),
        pa.array(reasons, pa.string()),
        pa.nulls(len(reasons), pa.string()),
    ]
    extra = ["contamination", "contamination_items", "filter_reason", "duplicate_of"]
    return pa.RecordBatch.from_arrays(arrays, names=[*names, *extra])


class Decontam(Stage):
    name = "decontam"
    sections = ("decontam",)

    def enabled(self, cfg: Config) -> bool:
        return cfg.decontam.enabled and bool(cfg.decontam.benchmarks)

    def settings(self, cfg: Config) -> Any:
        """Where the index is cached does not change the result."""
        return {"decontam": cfg.decontam.model_dump(mode="json", exclude={"index_cache"})}

    def run(self, ctx: Context, table: Table | None) -> Result:
        """Table ``documents``: every input document, cut in remove mode, with
        ``contamination`` and ``filter_reason`` (benchmark_contamination when dropped);
        the report: per-benchmark counts."""
        assert table is not None
        spark, cfg = ctx.spark, ctx.cfg.decontam
        docs = read_kept(ctx, table)
        index = benchmark_index(cfg, ctx.st)
        bc = spark.sparkContext.broadcast(index)

        # The scan over every document runs once: its hits (few) are stored, then counted.
        scan = (_hits_partitions(bc), with_error(HITS_SCHEMA, ERROR))
        hits_table = ctx.write(docs.select("id", "text"), "hits", through=scan)
        hits = ctx.read(hits_table)
        scan_errors = hits.where(F.col(ERROR).isNotNull()).select("id", ERROR)
        exploded = hits.where(F.col("hashes").isNotNull()).select(
            "id", F.explode("hashes").alias("h")
        )
        common = (
            exploded.groupBy("h")
            .agg(F.countDistinct("id").alias("n_docs"))
            .where(F.col("n_docs") > cfg.max_docs_per_ngram)
        )
        n_common = common.count()
        matches = (
            exploded.join(common.select("h"), "h", "left_anti")
            .groupBy("id")
            .agg(F.sort_array(F.collect_set("h")).alias("hashes"))
        )

        joined = docs.join(matches, "id", "left").join(scan_errors, "id", "left")
        # The output: the joined columns but the hashes, and the decisions.
        schema = pa.schema([*to_arrow_schema(joined.schema, timezone="UTC"), *_ADDED])
        schema = schema.remove(schema.get_field_index("hashes"))
        fn = _apply_partitions(bc, cfg.model_dump_json())
        out = ctx.write(joined, "documents", through=(fn, schema))
        # The counts and the report read the decisions alone, not the text.
        result = ctx.read(out, ["id", "filter_reason", "contamination_items", ERROR])
        bc.unpersist()

        n_in = ctx.n_in
        counts = result.where(F.col("filter_reason").isNotNull()).groupBy("filter_reason").count()
        removed = {r["filter_reason"]: r["count"] for r in counts.collect()}
        examples = error_examples(result, ERROR, ERROR) if ERROR in removed else {}
        stats = StageStats(self.name, n_in, n_in - sum(removed.values()), removed, examples)
        report = _report(result, index, n_common, cfg)
        return Result({"hits": hits_table, "documents": out}, stats, report)


def _report(result: DataFrame, index: NgramIndex, n_common: int, cfg: DecontamConfig) -> dict:
    pairs = result.select("id", F.explode("contamination_items").alias("key")).select(
        "id", F.split("key", _SEP).getItem(0).alias("benchmark"), "key"
    )
    rows = (
        pairs.groupBy("benchmark")
        .agg(F.countDistinct("key").alias("items"), F.countDistinct("id").alias("documents"))
        .collect()
    )
    found = {r["benchmark"]: (r["items"], r["documents"]) for r in rows}
    per = {
        name: {
            "items": n,
            "items_too_short": index.too_short.get(name, 0),
            "items_found": found.get(name, (0, 0))[0],
            "documents": found.get(name, (0, 0))[1],
        }
        for name, n in sorted(index.n_items.items())
    }
    return {
        "mode": cfg.mode,
        "ngram": cfg.ngram,
        "indexed_ngrams": len(index.hashes),
        "common_ngrams_ignored": n_common,
        "benchmarks": per,
    }
