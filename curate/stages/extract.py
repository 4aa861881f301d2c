"""extract: one task per input file, each file's records written as its own Parquet part.

A part counts once its small marker (``parts/_<file id>.json``: the part's name, rows and
bytes; the underscore keeps Parquet readers of the folder off it) exists, written after
the part itself; so a rerun after a crash extracts only the
files with no part marker, and a part left without one is deleted. Parts belong to one
extract config (``_PARTS.json``); another config starts afresh.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from curate.config import ExtractConfig
from curate.extract.html import make_extractor
from curate.extract.records import RECORD_SCHEMA, ingest_file
from curate.runner import Context, Result, Stage
from curate.stats import StageStats
from curate.storage import Storage, join
from curate.tables import Table, item_tasks, task_items, write_file

PARTS = "parts"
PARTS_KEY = "_PARTS.json"

# One extractor per executor process and config, built on first use.
_EXTRACTORS: dict[str, Callable[[str, str | None], str]] = {}


def file_id(warc_path: str) -> str:
    return hashlib.sha256(warc_path.encode()).hexdigest()[:24]


def part_marker(parts: str, warc_path: str) -> str:
    """The small file whose presence says ``warc_path``'s part is complete."""
    return join(parts, f"_{file_id(warc_path)}.json")


def _extract_partitions(st: Storage, cfg_json: str, parts: str, compression: str,
                        paths: list[str]):  # fmt: skip
    """Task k extracts ``paths[k]`` (``item_tasks``)."""

    def run_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        cfg = ExtractConfig.model_validate_json(cfg_json)
        if cfg_json not in _EXTRACTORS:
            _EXTRACTORS[cfg_json] = make_extractor(cfg)
        for k in task_items(batches):
            path = paths[k]
            records = ingest_file(path, cfg, _EXTRACTORS[cfg_json], st)
            name = f"{file_id(path)}-{uuid.uuid4().hex[:8]}.parquet"
            rows = write_file(st, join(parts, name), records, RECORD_SCHEMA, compression)
            part = {"name": name, "rows": rows, "bytes": st.info(join(parts, name)).size}
            st.write_json(part_marker(parts, path), part | {"input": path})
            yield pa.RecordBatch.from_pylist([part | {"input": path}])

    return run_partition


def _prepare(st: Storage, work: str, cfg: ExtractConfig) -> str:
    """The parts folder for ``cfg``, emptied when it holds another config's parts."""
    parts = join(work, PARTS)
    key = cfg.model_dump(mode="json")
    stored = st.read_json_or_none(join(work, PARTS_KEY))
    if stored is not None and stored != key:
        st.delete_dir(parts)
    st.write_json(join(work, PARTS_KEY), key)
    return parts


def _per_file_reason(records: DataFrame) -> list:
    """One pass over the parts: a row per (input file, reason) with its records, the
    smallest and largest error message, the documents the mojibake repair changed (and
    the characters it removed) and those the slower extraction gave."""
    repaired = F.col("repaired_chars") > 0
    return (
        records.groupBy("warc_path", "reason")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.min("error").alias("error_a"),
            F.max("error").alias("error_b"),
            F.count(F.when(repaired, 1)).alias("repaired"),
            F.sum(F.when(repaired, F.col("repaired_chars"))).alias("chars"),
            F.count(F.when(F.col("extract_fallback"), 1)).alias("fallback"),
        )
        .collect()
    )


def stage_stats(rows: list) -> StageStats:
    removed: dict[str, int] = {}
    errors: dict[str, set[str]] = {}
    kept = 0
    for row in rows:
        if row["reason"] is None:
            kept += row["n"]
            continue
        removed[row["reason"]] = removed.get(row["reason"], 0) + row["n"]
        found = errors.setdefault(row["reason"], set())
        found |= {e for e in (row["error_a"], row["error_b"]) if e}
    # The smallest and largest message of each reason, as error_examples gives them.
    examples = {r: sorted({min(e), max(e)}) for r, e in errors.items() if e}
    total = kept + sum(removed.values())
    return StageStats("extract", total, kept, removed, examples)


class Extract(Stage):
    name = "extract"
    sections = ("extract",)

    def run(self, ctx: Context, table: Table | None) -> Result:
        """Extract every input file that has no part yet; count all of them. Table
        ``documents``: every record of every input (reason null: a document), in input order."""
        st, work = ctx.st, ctx.folder("")
        parts = _prepare(st, work, ctx.cfg.extract)
        done = {p: st.read_json_or_none(part_marker(parts, p)) for p in ctx.inputs}
        pending = [p for p, part in done.items() if part is None]
        if pending:
            ctx.progress.expect(len(pending))  # one task per file: a total known up front
            fn = _extract_partitions(st, ctx.cfg.extract.model_dump_json(), parts,
                                     ctx.cfg.output.compression, pending)  # fmt: skip
            finished = item_tasks(ctx.spark, len(pending)).mapInArrow(
                fn, "name string, rows bigint, bytes bigint, input string"
            )
            done.update({r["input"]: r.asDict() for r in finished.collect()})  # a row a file
        files = [{k: part[k] for k in ("name", "rows", "bytes")} for part in done.values()]
        records = Table(parts, from_arrow_schema(RECORD_SCHEMA).json(), files)
        keep = [part_marker(parts, p) for p in ctx.inputs]
        keep.append(join(work, PARTS_KEY))
        columns = ["warc_path", "reason", "error", "repaired_chars", "extract_fallback"]
        rows = _per_file_reason(ctx.read(records, columns))
        return Result({"documents": records}, stage_stats(rows), report=_file_report(ctx, rows),
                      keep=keep)  # fmt: skip


def _file_report(ctx: Context, rows: list) -> dict:
    """From the per-file rows: the documents the mojibake repair changed, those the slower
    extraction gave, and the inputs that gave no WARC record at all (empty, not WARC, or
    unreadable: their rows, if any, are all ``malformed_record``)."""
    seen = {r["warc_path"] for r in rows if r["reason"] != "malformed_record"}
    missing = [p for p in ctx.inputs if p not in seen]
    return {
        "mojibake_repaired": {
            "documents": sum(r["repaired"] for r in rows),
            "chars": sum(r["chars"] or 0 for r in rows),
        },
        "files_without_records": {"count": len(missing), "examples": missing[:5]},
        # Pages whose fast extraction was implausibly short, re-extracted the slower way.
        "fallback": {"documents": sum(r["fallback"] for r in rows)},
    }
