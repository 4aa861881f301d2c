"""publish: OUTPUT/documents/ from the last document stage, removed/ from every stage
that removes, signatures/ when dedup ran, in a layout that does not depend on Spark's
partitioning: file = hash(id) mod n, rows sorted by id inside a file."""

from __future__ import annotations

import math
from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from curate.config import Config
from curate.dedup.keys import SIGNATURE_COLUMNS
from curate.dedup.scheme import SCHEME_FILE, key_scheme
from curate.runner import Context, Result, Stage
from curate.schema import (
    REMOVAL_COLUMNS,
    output_columns,
    read_kept,
    read_removed,
    removing_tables,
    with_late_columns,
)
from curate.stats import StageStats, check_accounting
from curate.storage import join
from curate.tables import Table

# zstd on web text: Parquet files come out at roughly a third of the UTF-8 text size.
_COMPRESSED_FRACTION = 0.35


def _n_files(texts: DataFrame, cfg: Config) -> int:
    text_bytes = texts.agg(F.sum(F.octet_length("text"))).first()[0] or 0
    target_bytes = cfg.output.target_file_mb * 1024 * 1024
    return max(1, math.ceil(text_bytes * _COMPRESSED_FRACTION / target_bytes))


def _by_id(df: DataFrame, n: int) -> DataFrame:
    """The published layout: file = hash(id) mod n, rows sorted by id inside a file."""
    return df.repartition(n, "id").sortWithinPartitions("id")


def _write_documents(ctx: Context, docs: DataFrame, texts: DataFrame, name: str) -> Table:
    """``docs`` as the published table ``name``, its files sized by ``texts`` (the same
    rows' text alone, read on its own: an object store's reader cannot drop the columns
    a later ``docs.select("text")`` leaves out). Reading the text twice costs less than
    holding the rows between the two passes: a local checkpoint kept each read group's
    rows decoded in executor storage, about 2.5 times their Parquet (publish 55.6 s
    against 40.7 s at 64×)."""
    table = ctx.write(_by_id(docs, _n_files(texts, ctx.cfg)), name, published=True)
    ctx.st.write_bytes(join(table.folder, "_SUCCESS"), b"")
    return table


class Publish(Stage):
    name = "publish"
    sections = ("output",)

    def settings(self, cfg: Config) -> dict:
        return cfg.output.model_dump(mode="json", exclude={"dir", "report"})

    def steps(self, stats: StageStats) -> list[StageStats]:
        return []

    def run(self, ctx: Context, table: Table | None) -> Result:
        """Tables ``documents``, ``removed`` (``quality.keep_removed``), ``signatures``
        (dedup ran); the documents' count is checked against the stages' accounting."""
        assert table is not None
        kept = with_late_columns(read_kept(ctx, table)).select(*output_columns(ctx.cfg))
        texts = read_kept(ctx, table, ["text"])
        tables = {"documents": _write_documents(ctx, kept, texts, "documents")}
        keys = ctx.table("dedup", "keyed")
        if keys is not None:
            published = ctx.read(tables["documents"], ["id"])
            signatures = ctx.read(keys, SIGNATURE_COLUMNS).join(published, "id")
            # As many files as documents/, laid out by id, not as the join left it.
            signatures = _by_id(signatures, len(tables["documents"].files))
            tables["signatures"] = ctx.write(signatures, "signatures", published=True)
            ctx.st.write_json(join(ctx.out, SCHEME_FILE), key_scheme(ctx.cfg.dedup))
        if ctx.cfg.quality.keep_removed:
            parts, part_texts = [], []
            for source in removing_tables(ctx).values():
                rows = read_removed(ctx, source)
                if rows is not None:
                    parts.append(with_late_columns(rows).select(
                        *output_columns(ctx.cfg), *REMOVAL_COLUMNS))  # fmt: skip
                    part_texts.append(read_removed(ctx, source, ["text"]))
            if parts:
                tables["removed"] = _write_documents(
                    ctx, reduce(DataFrame.unionByName, parts),
                    reduce(DataFrame.unionByName, part_texts), "removed")  # fmt: skip
        n_docs = tables["documents"].rows
        stats = StageStats(self.name, ctx.n_in, n_docs)
        check_accounting([r.stats for r in ctx.results.values() if r.stats] + [stats], n_docs)
        return Result(tables, stats)
