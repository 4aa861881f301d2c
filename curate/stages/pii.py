"""pii: scrub every document in place (nothing is removed here)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, IntegerType, StringType, StructField, StructType

from curate.config import DEFAULT_PII_TAGS, Config, PiiConfig
from curate.guard import error_examples, guarded
from curate.runner import Context, Result, Stage
from curate.schema import read_kept
from curate.stats import StageStats
from curate.tables import Table

# One scrubber (presidio engines, spaCy model) per executor process and config.
_SCRUBBERS: dict[str, Any] = {}


# A document whose scrubbing raised (the per-record guard): removed as pii_error, since
# its text could not be scrubbed.
ERROR = "pii_error"


def _scrub_partitions(cfg_json: str):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from curate.pii.scrub import PII_COUNTS_TYPE, PiiScrubber, scrub_batch

        if cfg_json not in _SCRUBBERS:
            _SCRUBBERS[cfg_json] = PiiScrubber(PiiConfig.model_validate_json(cfg_json))
        scrubber = _SCRUBBERS[cfg_json]
        for batch in batches:
            schema = batch.schema.append(pa.field("pii_counts", PII_COUNTS_TYPE))
            yield guarded(batch, lambda b: scrub_batch(b, scrubber), schema, ERROR)

    return run


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
        docs = read_kept(ctx, table)
        entity = StructType(
            [StructField("entity", StringType()), StructField("count", IntegerType())]
        )
        counts = StructField("pii_counts", ArrayType(entity))
        schema = StructType([*docs.schema.fields, counts, StructField(ERROR, StringType())])
        scrubbed = docs.mapInArrow(_scrub_partitions(cfg.model_dump_json()), schema)
        failed = F.when(F.col(ERROR).isNotNull(), F.lit(ERROR))
        scrubbed = scrubbed.withColumn("filter_reason", failed).withColumn(
            "duplicate_of", F.lit(None).cast("string")
        )
        out = ctx.write(scrubbed, "documents")
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
