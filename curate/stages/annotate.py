"""annotate: language ID and every filter's signals as columns, computed once; nothing
is dropped here, so a threshold change reruns only ``filter``."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

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
from curate.schema import RECORD_COLUMNS, kept_rows
from curate.stats import StageStats
from curate.storage import Storage
from curate.tables import Kernel, Table


def _annotate_kernel(st: Storage, cfg_json: str, schema: pa.Schema):
    def make() -> Kernel:
        cfg = Config.model_validate_json(cfg_json)
        filters = all_filters(cfg, st)  # once per task: list files are read here

        def annotate(batch: pa.RecordBatch) -> pa.RecordBatch:
            return annotate_batch(batch, cfg, schema, filters)

        def kernel(batch: pa.RecordBatch) -> pa.RecordBatch:
            return guarded(kept_rows(batch, "reason", RECORD_COLUMNS), annotate, schema,
                           ANNOTATE_ERROR)  # fmt: skip

        return kernel

    return make


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
        kernel = _annotate_kernel(ctx.st, ctx.cfg.model_dump_json(), schema)
        out = ctx.map(table, "documents", kernel, with_error(schema, ANNOTATE_ERROR),
                      [*RECORD_COLUMNS, "reason"])  # fmt: skip
        stats = StageStats(self.name, out.rows, out.rows)
        return Result({"documents": out}, stats, {"params": annotate_params(ctx.cfg)})
