"""Write OUTPUT/report/: its data (data.json, reused while the run's last stage key is
unchanged), the figures and index.html, swapped in at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

from curate.config import Config
from curate.io.atomic import atomic_dir
from curate.report.data import collect
from curate.report.html import render

DATA_FILE = "data.json"


def write_report(
    spark: SparkSession,
    cfg: Config,
    out: Path,
    stats: dict[str, Any],
    manifest: dict[str, Any] | None,
    key: str,
) -> Path:
    """``key`` identifies the stage outputs the data is computed from."""
    folder = out / "report"
    saved = folder / DATA_FILE
    data = None
    if saved.is_file():
        stored = json.loads(saved.read_text())
        data = stored["data"] if stored.get("key") == key else None
    if data is None:
        data = collect(spark, cfg, out, stats, manifest)
    with atomic_dir(folder) as tmp:
        render(data, stats, tmp)
        (tmp / DATA_FILE).write_text(json.dumps({"key": key, "data": data}, indent=1))
    return folder / "index.html"
