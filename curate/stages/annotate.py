"""annotate: language ID and every filter's signals as columns, computed once; nothing
is dropped here, so a threshold change reruns only ``filter``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from curate.config import Config
from curate.extract.records import RECORD_SCHEMA
from curate.guard import guarded, with_error
from curate.quality import (
    ANNOTATE_ERROR,
    all_filters,
    annotate_batch,
    annotate_params,
    annotated_schema,
)
from curate.runner import Context, Result, Stage
from curate.schema import RECORD_COLUMNS
from curate.stats import StageStats
from curate.storage import Storage
from curate.tables import Table


def _annotate_partitions(st: Storage, cfg_json: str, schema: pa.Schema):
    def run_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        cfg = Config.model_validate_json(cfg_json)
        filters = all_filters(cfg, st)  # once per partition: list files are read here

        def kernel(batch: pa.RecordBatch) -> pa.RecordBatch:
            return annotate_batch(batch, cfg, schema, filters)

        for batch in batches:
            yield guarded(batch, kernel, schema, ANNOTATE_ERROR)

    return run_partition


class Annotate(Stage):
    name = "annotate"
    sections = ("language", "quality", "perplexity")

    def settings(self, cfg: Config) -> Any:
        """Only what shapes signals: thresholds belong to ``filter``."""
        return annotate_params(cfg)

    def steps(self, stats: StageStats) -> list[StageStats]:
        return []

    def run(self, ctx: Context, table: Table | None) -> Result:
        assert table is not None
        base = pa.schema([RECORD_SCHEMA.field(c) for c in RECORD_COLUMNS])
        schema = annotated_schema(base, ctx.cfg)
        fn = _annotate_partitions(ctx.st, ctx.cfg.model_dump_json(), schema)
        docs = ctx.read(table, [*RECORD_COLUMNS, "reason"]).where(F.col("reason").isNull())
        out_schema = from_arrow_schema(with_error(schema, ANNOTATE_ERROR))
        annotated = docs.select(*RECORD_COLUMNS).mapInArrow(fn, out_schema)
        out = ctx.write(annotated, "documents")
        stats = StageStats(self.name, out.rows, out.rows)
        return Result({"documents": out}, stats, {"params": annotate_params(ctx.cfg)})
