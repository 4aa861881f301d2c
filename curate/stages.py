"""Stage markers: which stages of a run can be reused, and which must run again.

Every stage writes its output under ``OUTPUT/stages/<name>/`` and, once that output is in
place, a marker ``_STAGE.json`` holding its key, counts and report. A stage's key hashes
the settings it reads, the files those settings name (content hash, or size and mtime of
large ones), the curate version and the key of the stage before it; so a rerun reuses a
stage whose marker key matches, and a changed setting invalidates exactly that stage and
the ones after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from curate import __version__
from curate.config import ConfigError
from curate.io.atomic import write_json_atomic
from curate.io.checksum import file_sha256
from curate.progress import stage_progress

# The order in which a run executes its stages (disabled ones are passed over).
STAGE_ORDER = ("extract", "annotate", "filter", "dedup", "pii", "decontam", "publish", "mixture")
# Names a user may give to --from: the filter stages of stats.json and a few synonyms.
FROM_ALIASES = {
    "language": "annotate",
    "signals": "annotate",
    "quality": "filter",
    "perplexity": "filter",
    "decontamination": "decontam",
    "documents": "publish",
    "tokens": "mixture",
    "shards": "mixture",
}
MARKER = "_STAGE.json"
HASH_BUDGET_BYTES = 64 * 2**20


def resolve_stage(name: str) -> str:
    """The stage that ``--from NAME`` starts at; ConfigError naming the choices otherwise."""
    stage = FROM_ALIASES.get(name, name)
    if stage not in STAGE_ORDER:
        choices = ", ".join([*STAGE_ORDER, *FROM_ALIASES])
        raise ConfigError(f"--from {name}: not a stage; choose one of {choices}")
    return stage


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
            out[str(f)] = file_sha256(f)
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


class StageRunner:
    """Runs or reuses the stages of one output folder, in order."""

    def __init__(
        self,
        spark: SparkSession,
        out: Path,
        from_stage: str | None = None,
        upstream: str = "",
        progress: bool = True,
    ) -> None:
        self.spark = spark
        self.out = out
        self.from_index = STAGE_ORDER.index(resolve_stage(from_stage)) if from_stage else None
        self.upstream = upstream
        self.progress = progress
        self.ran: list[str] = []
        self.reused: list[str] = []
        self.seconds: dict[str, float] = {}

    def marker(self, name: str) -> Path:
        return self.out / "stages" / name / MARKER

    def _forced(self, name: str) -> bool:
        return self.from_index is not None and STAGE_ORDER.index(name) >= self.from_index

    def run(
        self,
        name: str,
        settings: Any,
        work: Callable[[], dict[str, Any]],
        extra: Any = None,
    ) -> dict[str, Any]:
        """``work`` writes the stage's output and returns its JSON-able result (counts,
        report), stored in the marker; a reused stage returns the stored result."""
        key = stage_key(self.upstream, name, settings, extra)
        marker = self.marker(name)
        saved = json.loads(marker.read_text()) if marker.is_file() else None
        if saved is not None and saved.get("key") == key and not self._forced(name):
            self.reused.append(name)
            result = saved
        else:
            # The old marker goes first: a crash from here on leaves the stage unfinished.
            if marker.exists():
                os.remove(marker)
            t0 = time.time()
            with stage_progress(self.spark, name, enabled=self.progress):
                result = work()
            result = {"key": key, "seconds": round(time.time() - t0, 3), **result}
            write_json_atomic(marker, result)
            self.ran.append(name)
        self.upstream = key
        self.seconds[name] = result["seconds"]
        return result
