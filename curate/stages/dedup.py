"""dedup: repeated lines, then URL, exact and MinHash-LSH near-duplicates, in that order.

Every removal names its survivor (``duplicate_of``); the survivor of a group is the first
document by ``dedup.keep_order`` (documents of earlier runs given by ``dedup.against``
always first), so the result does not depend on partitioning. Nothing is collected to
the driver but per-reason counts and the cluster size histogram.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema

from curate import storage
from curate.config import Config, DedupConfig
from curate.dedup.components import connected_components
from curate.dedup.keys import KEYS_SCHEMA, SIGNATURE_COLUMNS, cut_and_key_batch
from curate.dedup.lines import LINE_KEYS_SCHEMA, keys_to_cut, line_keys_batch, repeated_lines
from curate.guard import guarded, with_error
from curate.runner import Context, Result, Stage
from curate.schema import kept_rows, read_kept
from curate.stats import StageStats
from curate.storage import join
from curate.tables import Kernel, Table, list_table

# Candidate pairs of a bucket (a sorted id array): all pairs, or a chain for big buckets.
_ALL_PAIRS = (
    "flatten(transform(sequence(0, size(ids) - 2), i -> transform("
    "slice(ids, i + 2, size(ids) - i - 1), b -> named_struct('a', ids[i], 'b', b))))"
)
_CHAIN = "transform(sequence(0, size(ids) - 2), i -> named_struct('a', ids[i], 'b', ids[i + 1]))"


# A document whose keys raised (the per-record guard): removed as dedup_error.
ERROR = "dedup_error"


def _line_keys_kernel() -> Kernel:
    def kernel(batch: pa.RecordBatch) -> pa.RecordBatch:
        return line_keys_batch(kept_rows(batch, "filter_reason", ["id", "text"]))

    return kernel


def _cut_and_key(cfg: DedupConfig, bands: int, rows: int, schema: pa.Schema) -> Kernel:
    """cut_and_key_batch under the per-record guard."""

    def key(batch: pa.RecordBatch) -> pa.RecordBatch:
        return cut_and_key_batch(batch, schema, bands, rows, cfg)

    return lambda batch: guarded(batch, key, schema, ERROR)


def _keyed_kernel(cfg: DedupConfig, bands: int, rows: int, schema: pa.Schema):
    """The kept documents of a file (filter_reason null), cut and keyed (no lines to cut:
    this path runs without the line step)."""
    columns = [f.name for f in schema if f.name not in KEYS_SCHEMA.names[1:]]
    columns.remove("line_chars_removed")

    def make() -> Kernel:
        key = _cut_and_key(cfg, bands, rows, schema)
        return lambda batch: key(kept_rows(batch, "filter_reason", columns))

    return make


def _keyed_partitions(cfg: DedupConfig, bands: int, rows: int, schema: pa.Schema):
    """Documents joined with their ``cut`` keys, cut and keyed (a mapInArrow function)."""
    key = _cut_and_key(cfg, bands, rows, schema)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield key(batch)

    return run


def _order(cfg: DedupConfig, columns: list[str]) -> list[Column]:
    """Earlier runs first, then the configured order; absent columns are skipped."""
    out = [F.col("is_reference").desc()]
    for item in cfg.keep_order:
        name, _, direction = item.partition(" ")
        if name in columns:
            col = F.col(name)
            out.append(col.desc_nulls_last() if direction == "desc" else col.asc_nulls_last())
    return [*out, F.col("id").asc()]


def _duplicates_by(base: DataFrame, key: str, order: list[Column], reason: str) -> DataFrame:
    """(id, reason, duplicate_of) for every document but the first of its key group."""
    w = Window.partitionBy(key).orderBy(*order)
    ranked = base.where(F.col(key).isNotNull()).select(
        "id", "is_reference", F.row_number().over(w).alias("rank"),
        F.first("id").over(w).alias("duplicate_of"),
    )  # fmt: skip
    return ranked.where((F.col("rank") > 1) & ~F.col("is_reference")).select(
        "id", F.lit(reason).alias("reason"), "duplicate_of"
    )


def _candidate_pairs(base: DataFrame, max_bucket: int) -> DataFrame:
    buckets = (
        base.where(F.col("n_shingles") > 0)
        .select("id", F.explode("bands").alias("band_key"))
        .groupBy("band_key")
        .agg(F.array_sort(F.collect_set("id")).alias("ids"))
        .where(F.size("ids") > 1)
    )
    pairs = F.when(F.size("ids") <= max_bucket, F.expr(_ALL_PAIRS)).otherwise(F.expr(_CHAIN))
    return buckets.select(F.explode(pairs).alias("p")).select("p.a", "p.b").distinct()


def _verified(pairs: DataFrame, base: DataFrame, threshold: float) -> DataFrame:
    sets = base.select("id", "shingle_set")
    joined = pairs.join(
        sets.select(F.col("id").alias("a"), F.col("shingle_set").alias("sa")), "a"
    ).join(sets.select(F.col("id").alias("b"), F.col("shingle_set").alias("sb")), "b")
    jaccard = F.size(F.array_intersect("sa", "sb")) / F.size(F.array_union("sa", "sb"))
    return joined.where(jaccard >= threshold).select("a", "b")


def _near_duplicates(
    base: DataFrame, cfg: DedupConfig, order: list[Column]
) -> tuple[DataFrame | None, dict[str, int]]:
    pairs = _candidate_pairs(base, cfg.max_bucket_pairs)
    if cfg.verify:
        pairs = _verified(pairs, base, cfg.threshold)
    pairs = pairs.localCheckpoint()
    if pairs.isEmpty():
        return None, {}
    edges = pairs.select(F.col("a").alias("u"), F.col("b").alias("v"))
    comps = connected_components(edges, cfg.max_edges_in_one_task)
    members = comps.join(base, comps["node"] == base["id"]).drop("node")
    w = Window.partitionBy("root").orderBy(*order)
    ranked = members.select(
        "id", "root", "is_reference", F.row_number().over(w).alias("rank"),
        F.first("id").over(w).alias("duplicate_of"),
    ).localCheckpoint()  # fmt: skip
    sizes = ranked.groupBy("root").count().groupBy("count").count().collect()
    histogram = {str(r[0]): r[1] for r in sorted(sizes)}
    removed = ranked.where((F.col("rank") > 1) & ~F.col("is_reference")).select(
        "id", F.lit("near_duplicate").alias("reason"), "duplicate_of"
    )
    return removed, histogram


def _reference(ctx: Context, dirs: list[str]) -> DataFrame | None:
    frames = [ctx.read(list_table(ctx.st, join(storage.absolute(d), "signatures"))) for d in dirs]
    if not frames:
        return None
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out.select(*SIGNATURE_COLUMNS).withColumn("is_reference", F.lit(True))


def _cut_keys(ctx: Context, table: Table, docs: DataFrame, cfg: DedupConfig) -> dict[str, Table]:
    """Tables ``line_keys`` and ``repeated_lines`` (dedup.lines), and ``keyed``: every
    document with its repeated lines cut, ``line_chars_removed``, its keys and ``dedup_error``,
    from one Python pass."""
    tables: dict[str, Table] = {}
    schema = to_arrow_schema(docs.schema, timezone="UTC")
    if cfg.lines:
        columns = ["id", "text", "filter_reason"]
        tables["line_keys"] = ctx.map(table, "line_keys", _line_keys_kernel, LINE_KEYS_SCHEMA,
                                      columns)  # fmt: skip
        keys = ctx.read(tables["line_keys"])
        tables["repeated_lines"] = ctx.write(
            repeated_lines(keys, cfg.line_max_docs), "repeated_lines"
        )
        docs = docs.join(keys_to_cut(keys, ctx.read(tables["repeated_lines"])), "id", "left")
    added = [f for f in KEYS_SCHEMA if f.name != "id"]
    schema = pa.schema([*schema, pa.field("line_chars_removed", pa.int32()), *added])
    bands, rows = cfg.banding()
    if not cfg.lines:  # nothing to join: file by file
        kernel = _keyed_kernel(cfg, bands, rows, schema)
        tables["keyed"] = ctx.map(table, "keyed", kernel, with_error(schema, ERROR))
        return tables
    keyed = (_keyed_partitions(cfg, bands, rows, schema), with_error(schema, ERROR))
    tables["keyed"] = ctx.write(docs, "keyed", through=keyed)
    return tables


class Dedup(Stage):
    name = "dedup"
    sections = ("dedup",)

    def enabled(self, cfg: Config) -> bool:
        return cfg.dedup.enabled

    def run(self, ctx: Context, table: Table | None) -> Result:
        """Table ``documents``: every input document (repeated lines cut) with
        ``filter_reason`` and ``duplicate_of`` for the removed ones; ``keyed``: the same
        documents with their dedup keys (publish turns the kept ones' into signatures/)."""
        assert table is not None
        cfg = ctx.cfg.dedup
        docs = read_kept(ctx, table)
        doc_columns = [*docs.columns, "line_chars_removed"]
        n_in = ctx.n_in
        bands, rows = cfg.banding()
        report: dict[str, Any] = {"bands": bands, "rows": rows, "clusters": {}}
        tables = _cut_keys(ctx, table, docs, cfg)
        keyed = tables["keyed"]
        order_columns = [c.partition(" ")[0] for c in cfg.keep_order]
        columns = dict.fromkeys([*SIGNATURE_COLUMNS, "n_chars", ERROR, "line_chars_removed",
                                 *(c for c in order_columns if c in doc_columns)])  # fmt: skip
        flags = ctx.read(keyed, list(columns))
        short = F.lit(cfg.lines) & (F.col("n_chars") < cfg.line_min_doc_chars)
        failed = F.col(ERROR).isNotNull()
        totals = flags.agg(
            F.sum("line_chars_removed").alias("chars"),
            F.count(F.when(F.col("line_chars_removed") > 0, 1)).alias("docs"),
            F.min(ERROR).alias("error_a"),
            F.max(ERROR).alias("error_b"),
        ).first()
        errors = sorted({e for e in (totals["error_a"], totals["error_b"]) if e})
        examples = {ERROR: errors} if errors else {}
        if cfg.lines:
            report["lines"] = {"repeated_lines": tables["repeated_lines"].rows,
                               "docs_touched": totals["docs"] or 0,
                               "chars_removed": totals["chars"] or 0}  # fmt: skip
        reason = F.when(failed, F.lit(ERROR)).when(short, F.lit("line_dedup_empty"))
        removed = flags.where(failed | short).select(
            "id", reason.alias("reason"), F.lit(None).cast("string").alias("duplicate_of")
        )
        keep = [c for c in columns if c not in (ERROR, "n_chars", "line_chars_removed")]
        # Read once, used by every step below.
        base = (
            flags.where(~(failed | short))
            .select(*keep)
            .withColumn("is_reference", F.lit(False))
            .localCheckpoint()
        )
        reference = _reference(ctx, cfg.against)
        if reference is not None:
            base = base.unionByName(reference, allowMissingColumns=True)
        order = _order(cfg, base.columns)

        steps = [
            ("url", lambda b: _duplicates_by(b, "url_key", _url_order(), "url_duplicate")),
            ("exact", lambda b: _duplicates_by(b, "content_hash", order, "exact_duplicate")),
        ]
        for name, step in steps:
            if getattr(cfg, name):
                found = step(base).localCheckpoint()
                removed = removed.unionByName(found)
                # Drop this run's removed rows; an earlier run's row with the same id stays.
                gone = found.select("id", F.lit(False).alias("is_reference"))
                base = base.join(gone, ["id", "is_reference"], "left_anti")
        if cfg.near:
            found, histogram = _near_duplicates(base, cfg, order)
            report["clusters"] = {"count": sum(histogram.values()), "sizes": histogram}
            if found is not None:
                removed = removed.unionByName(found)
        tables["removed"] = ctx.write(removed, "removed")
        removed = ctx.read(tables["removed"])

        counts = {r["reason"]: r["count"] for r in removed.groupBy("reason").count().collect()}
        stats = StageStats(self.name, n_in, n_in - sum(counts.values()), counts, examples)
        rows_out = ctx.read(keyed, doc_columns).join(
            removed.withColumnRenamed("reason", "filter_reason"), "id", "left"
        )
        rows_out = rows_out.join(_cluster_sizes(removed), "id", "left").withColumn(
            "duplicate_count",
            F.when(F.col("filter_reason").isNull(), F.coalesce("duplicate_count", F.lit(1))),
        )
        tables["documents"] = ctx.write(rows_out, "documents")
        return Result(tables, stats, report)


def _cluster_sizes(removed: DataFrame) -> DataFrame:
    """(id, duplicate_count) of each survivor with duplicates: itself and every document
    removed as its duplicate, through URL, exact and near steps (a chain has at most one
    link per step: a URL survivor can be an exact duplicate, and that one's survivor a
    near duplicate). Survivors of earlier runs (dedup.against) are not in this run."""
    links = removed.where(F.col("duplicate_of").isNotNull()).select("id", "duplicate_of")
    for _ in range(2):
        up = links.select(F.col("id").alias("via"), F.col("duplicate_of").alias("up"))
        links = links.join(up, links["duplicate_of"] == up["via"], "left").select(
            "id", F.coalesce("up", "duplicate_of").alias("duplicate_of")
        )
    return links.groupBy(F.col("duplicate_of").alias("id")).agg(
        (F.count(F.lit(1)) + 1).cast("int").alias("duplicate_count")
    )


def _url_order() -> list[Column]:
    """Same URL: the latest fetch wins (earlier runs first)."""
    return [
        F.col("is_reference").desc(),
        F.col("crawl_date").desc_nulls_last(),
        F.col("id").asc(),
    ]
