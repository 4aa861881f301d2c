"""pii: scrub every document in place (nothing is removed here)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema

from curate.config import DEFAULT_PII_TAGS, Config, PiiConfig
from curate.guard import error_examples, guarded
from curate.pii import PII_COUNTS_TYPE, import_presidio_without_torch
from curate.runner import Context, Result, Stage
from curate.schema import REMOVAL_COLUMNS, kept_rows
from curate.stats import StageStats
from curate.tables import Kernel, Table

# One scrubber (presidio engines, spaCy model) per executor process and config.
_SCRUBBERS: dict[str, Any] = {}


# A document whose scrubbing raised (the per-record guard): removed as pii_error, since
# its text could not be scrubbed.
ERROR = "pii_error"


def _scrub_kernel(cfg_json: str, schema: pa.Schema):
    """Kept documents (filter_reason null) scrubbed, as ``schema``: the input's columns but
    the removal ones, pii_counts, pii_error, then filter_reason (pii_error where scrubbing
    raised) and duplicate_of."""

    def make() -> Kernel:
        import_presidio_without_torch()
        from curate.pii.scrub import PiiScrubber, scrub_batch

        if cfg_json not in _SCRUBBERS:
            _SCRUBBERS[cfg_json] = PiiScrubber(PiiConfig.model_validate_json(cfg_json))
        scrubber = _SCRUBBERS[cfg_json]
        scrubbed = pa.schema([f for f in schema if f.name not in (ERROR, *REMOVAL_COLUMNS)])
        inputs = [f.name for f in scrubbed if f.name != "pii_counts"]

        def kernel(batch: pa.RecordBatch) -> pa.RecordBatch:
            docs = kept_rows(batch, "filter_reason", inputs)
            out = guarded(docs, lambda b: scrub_batch(b, scrubber), scrubbed, ERROR)
            failed = pc.is_valid(out.column(ERROR))
            reason = pc.if_else(failed, pa.scalar(ERROR), pa.scalar(None, pa.string()))
            out = out.append_column("filter_reason", reason)
            return out.append_column("duplicate_of", pa.nulls(out.num_rows, pa.string()))

        return kernel

    return make


def policy(cfg: PiiConfig) -> dict[str, str]:
    """What replaces each enabled entity (for stats.json and the manifest)."""
    return {e: cfg.replace.get(e, DEFAULT_PII_TAGS[e]) for e in cfg.entities}


class Pii(Stage):
    name = "pii"
    sections = ("pii",)

    def enabled(self, cfg: Config) -> bool:
        return cfg.pii.enabled

    def run(self, ctx: Context, table: Table | None) -> Result:
        """Table ``documents``: the scrubbed documents (text, n_chars, pii_counts); the
        report: per-entity totals and what replaces each entity."""
        assert table is not None
        cfg = ctx.cfg.pii
        arrow = to_arrow_schema(table.struct, timezone="UTC")
        kept = [f for f in arrow if f.name not in REMOVAL_COLUMNS]
        added = [("pii_counts", PII_COUNTS_TYPE), (ERROR, pa.string()),
                 ("filter_reason", pa.string()), ("duplicate_of", pa.string())]  # fmt: skip
        schema = pa.schema([*kept, *(pa.field(n, t) for n, t in added)])
        out = ctx.map(table, "documents", _scrub_kernel(cfg.model_dump_json(), schema), schema)
        rows = (
            ctx.read(out, ["pii_counts"])
            .select(F.explode("pii_counts").alias("c"))
            .groupBy(F.col("c.entity").alias("entity"))
            .agg(F.sum("c.count").alias("found"), F.count(F.lit(1)).alias("documents"))
            .collect()
        )
        totals = {r["entity"]: {"found": r["found"], "documents": r["documents"]} for r in rows}
        report = {"entities": dict(sorted(totals.items())), "policy": policy(cfg)}
        written = ctx.read(out, [ERROR])
        n_failed = written.where(F.col(ERROR).isNotNull()).count()
        removed = {ERROR: n_failed} if n_failed else {}
        examples = error_examples(written, ERROR, ERROR) if n_failed else {}
        stats = StageStats(self.name, ctx.n_in, ctx.n_in - n_failed, removed, examples)
        return Result({"documents": out}, stats, report)
