"""The stage runner: the only owner of ``OUTPUT/stages/<name>/``, markers, keys, timing and
progress.

A stage writes its tables through its ``Context`` and returns a ``Result``; the runner
then writes the marker ``OUTPUT/stages/<name>/_STAGE.json`` last, holding the stage's key,
counts, report and the files of every table it wrote, and deletes what the marker does
not list (a crashed attempt's files). Readers read only listed files, so nothing needs a
rename: a run works the same on a local disk and on an object store.

A stage's key hashes the settings it reads, the local files those settings name (content
hash, or size and mtime of large ones), the curate version and the key of the stage before
it; so a rerun reuses a stage whose marker key matches, and a changed setting invalidates
exactly that stage and the ones after it.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
from py4j.protocol import Py4JError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession

from curate import __version__
from curate.config import Config, ConfigError
from curate.errors import StageError
from curate.progress import Progress, stage_progress
from curate.stats import StageStats
from curate.storage import Storage, join, sha256
from curate.tables import Kernel, Partitions, Table, map_table, read_table, write_table

MARKER = "_STAGE.json"


def _cause(exc: BaseException) -> str:
    """The root message of a failure, also when an executor's Python raised it."""
    text = str(exc)
    found = re.search(r"StorageError: (.+)", text)
    if found:
        return found.group(1).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1].strip() if lines else type(exc).__name__


HASH_BUDGET_BYTES = 64 * 2**20


@dataclass
class Result:
    """What a stage produced: its tables by name, its counts (document stages) and its
    report (stats.json's section under the stage's name)."""

    tables: dict[str, Table] = field(default_factory=dict)
    stats: StageStats | None = None
    report: dict[str, Any] = field(default_factory=dict)
    # Files the stage keeps beside its tables (extract's per-WARC part markers).
    keep: list[str] = field(default_factory=list)
    # What later steps need that stats.json does not show (the mixture's shard layout).
    data: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    seconds: float = 0.0

    def to_json(self, root: str) -> dict[str, Any]:
        return {
            "key": self.key,
            "seconds": self.seconds,
            "stats": self.stats.to_json() if self.stats else None,
            "report": self.report,
            "tables": {name: t.to_json(root) for name, t in self.tables.items()},
            "keep": [k[len(root) + 1 :] if k.startswith(root + "/") else k for k in self.keep],
            "data": self.data,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], root: str) -> Result:
        return cls(
            tables={n: Table.from_json(t, root) for n, t in data["tables"].items()},
            stats=StageStats.from_json(data["stats"]) if data["stats"] else None,
            report=data["report"],
            keep=[k if "://" in k or k.startswith("/") else join(root, k) for k in data["keep"]],
            data=data["data"],
            key=data["key"],
            seconds=data["seconds"],
        )


class Stage:
    """One stage: ``name`` is its folder, its stats.json stage, its ``--from`` value and
    its report section; ``sections`` are the config sections it reads, whose settings
    make its key. ``run`` gets the document table of the stage before it."""

    name: ClassVar[str]
    sections: ClassVar[tuple[str, ...]]

    def enabled(self, cfg: Config) -> bool:
        return True

    def settings(self, cfg: Config) -> Any:
        dumped = cfg.model_dump(mode="json")
        return {section: dumped[section] for section in self.sections}

    def run(self, ctx: Context, table: Table | None) -> Result:
        raise NotImplementedError

    def steps(self, stats: StageStats) -> list[StageStats]:
        """The stage's steps of the funnel (summary, stats.json, report): itself, by
        default; a stage that removes nothing by design shows none."""
        return [stats]


def _files_under(value: str) -> list[Path]:
    path = Path(value)
    if "://" in value or len(value) > 4096 or not path.exists():
        return []
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]


def fingerprint(settings: Any) -> dict[str, str]:
    """An id of every local file, or file in a folder, that a setting names (models,
    lists, benchmarks), so that replacing one invalidates the stage that reads it: the
    content hash while the files hashed stay under HASH_BUDGET_BYTES in all (a retrained
    model with the same bytes is the same model), size and mtime beyond (a multi-GB
    model, an earlier run's output named by dedup.against)."""
    files: list[Path] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            files.extend(_files_under(value))

    walk(settings)
    out: dict[str, str] = {}
    budget = HASH_BUDGET_BYTES
    for f in sorted(set(files)):
        st = f.stat()
        if st.st_size <= budget:
            out[str(f)] = sha256(f)
            budget -= st.st_size
        else:
            out[str(f)] = f"size {st.st_size} mtime {st.st_mtime_ns}"
    return out


def stage_key(upstream: str, name: str, settings: Any, extra: Any = None) -> str:
    """``extra`` is hashed but not searched for file names (e.g. the list of input WARCs)."""
    blob = {
        "curate": __version__,
        "upstream": upstream,
        "stage": name,
        "settings": settings,
        "files": fingerprint(settings),
        "extra": extra,
    }
    text = json.dumps(blob, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass
class Context:
    """What a running stage may use: Spark, the config, the storage layer, the results
    of the stages before it, and the places of its own tables."""

    spark: SparkSession
    cfg: Config
    st: Storage
    out: str
    inputs: list[str]
    stage: str = ""
    results: dict[str, Result] = field(default_factory=dict)
    # Documents that reach the running stage: the last document stage's ``out``.
    n_in: int = 0
    # The running stage's progress line, told the tasks the stage knows it will run.
    progress: Progress = field(default_factory=Progress)

    def folder(self, table: str) -> str:
        """Where this stage's ``table`` lives: ``OUTPUT/stages/<stage>/<table>``."""
        return join(self.out, "stages", self.stage, table)

    def published(self, name: str) -> str:
        """A folder users read: ``OUTPUT/documents``, ``removed``, ``signatures``, ``shards``."""
        return join(self.out, name)

    def write(
        self,
        df: DataFrame,
        table: str,
        published: bool = False,
        through: tuple[Partitions, pa.Schema] | None = None,
    ) -> Table:
        """One file per partition of ``df`` (``through``: after a mapInArrow function,
        run by the writing task; see ``curate.tables.write_table``); a published table's
        files are named by partition (``part-00003.zstd.parquet``: the caller's
        partitioning is the layout)."""
        folder = self.published(table) if published else self.folder(table)
        return write_table(df, self.st, folder, self.cfg.output.compression, published, through)

    def map(
        self,
        table: Table,
        name: str,
        kernel: Callable[[], Kernel],
        schema: pa.Schema,
        columns: list[str] | None = None,
    ) -> Table:
        """This stage's table ``name``: ``table`` file by file through ``kernel()``
        (``curate.tables.map_table``), one task per file."""
        self.progress.expect(len(table.files))
        return map_table(self.spark, self.st, table, self.folder(name), kernel, schema,
                         self.cfg.output.compression, columns)  # fmt: skip

    def read(
        self, table: Table, columns: list[str] | None = None, rows: tuple[str, bool] | None = None
    ) -> DataFrame:
        return read_table(self.spark, self.st, table, columns, rows)

    def table(self, stage: str, name: str = "documents") -> Table | None:
        result = self.results.get(stage)
        return result.tables.get(name) if result else None


class StageRunner:
    """Runs or reuses the stages of one output folder, in order."""

    def __init__(
        self,
        ctx: Context,
        order: list[str],
        from_stage: str | None = None,
        upstream: str = "",
    ) -> None:
        self.ctx = ctx
        self.order = order
        self.from_index = order.index(from_stage) if from_stage else None
        self.upstream = upstream
        self.ran: list[str] = []
        self.reused: list[str] = []
        self.seconds: dict[str, float] = {}

    def marker(self, name: str) -> str:
        return join(self.ctx.out, "stages", name, MARKER)

    def _forced(self, name: str) -> bool:
        return self.from_index is not None and self.order.index(name) >= self.from_index

    def run(self, stage: Stage, table: Table | None) -> Result:
        """The stage's result, reused or run; StageError naming the cause on failure."""
        try:
            return self._run(stage, table)
        except (OSError, Py4JError, PySparkException) as exc:
            raise StageError(f"stage {stage.name} failed: {_cause(exc)}") from exc

    def _run(self, stage: Stage, table: Table | None) -> Result:
        ctx, st = self.ctx, self.ctx.st
        extra = ctx.inputs if stage.name == "extract" else None
        key = stage_key(self.upstream, stage.name, stage.settings(ctx.cfg), extra)
        saved = st.read_json_or_none(self.marker(stage.name))
        if saved is not None and saved.get("key") == key and not self._forced(stage.name):
            result = Result.from_json(saved, ctx.out)
            self._clean(stage.name, result, None)  # a kill after the marker left these
            self.reused.append(stage.name)
        else:
            previous = Result.from_json(saved, ctx.out) if saved else None
            # The old marker goes first: a crash from here on leaves the stage unfinished.
            st.delete(self.marker(stage.name))
            ctx.stage = stage.name
            t0 = time.time()
            with stage_progress(ctx.spark, stage.name, ctx.cfg.spark.progress) as progress:
                ctx.progress = progress
                result = stage.run(ctx, table)
            result.key, result.seconds = key, round(time.time() - t0, 3)
            st.write_json(self.marker(stage.name), result.to_json(ctx.out))
            self._clean(stage.name, result, previous)
            self.ran.append(stage.name)
        ctx.results[stage.name] = result
        if result.stats is not None:
            ctx.n_in = result.stats.n_out
        self.upstream = key
        self.seconds[stage.name] = result.seconds
        return result

    def _clean(self, name: str, result: Result, previous: Result | None) -> None:
        """Delete what the new marker does not list: files of a crashed or earlier attempt
        under the stage's folder and under the published folders it writes."""
        st = self.ctx.st
        listed = {uri for t in result.tables.values() for uri in t.uris} | set(result.keep)
        listed.add(self.marker(name))
        folders = {join(self.ctx.out, "stages", name)}
        folders |= {t.folder for t in result.tables.values()}
        if previous is not None:
            folders |= {t.folder for t in previous.tables.values()}
        for folder in sorted(folders):
            published = not folder.startswith(join(self.ctx.out, "stages", name))
            for entry in st.list(folder, recursive=not published):
                leaf = entry.uri.rsplit("/", 1)[1]
                if entry.uri in listed or (published and leaf.startswith("_")):
                    continue
                st.delete(entry.uri)


def resolve_stage(name: str, order: list[str]) -> str:
    """The stage that ``--from NAME`` starts at; ConfigError naming the choices otherwise."""
    if name not in order:
        raise ConfigError(f"--from {name}: not a stage; choose one of {', '.join(order)}")
    return name


def load_results(st: Storage, out: str, names: list[str]) -> dict[str, Result]:
    """The finished stages of an earlier run (``curate filter``, ``tune``)."""
    results = {}
    for name in names:
        saved = st.read_json_or_none(join(out, "stages", name, MARKER))
        if saved is not None:
            results[name] = Result.from_json(saved, out)
    return results
