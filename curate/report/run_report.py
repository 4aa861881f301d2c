"""Write OUTPUT/report/: its data (data.json, reused while the run's last stage key is
unchanged), the figures and index.html (drawn in a local scratch folder, then copied
through the storage layer, index.html last)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from curate.report.data import collect
from curate.report.html import render
from curate.runner import Context
from curate.storage import join

DATA_FILE = "data.json"


def write_report(
    ctx: Context, stats: dict[str, Any], manifest: dict[str, Any] | None, key: str
) -> str:
    """``key`` identifies the stage outputs the data is computed from."""
    st, folder = ctx.st, join(ctx.out, "report")
    stored = st.read_json_or_none(join(folder, DATA_FILE))
    data = stored["data"] if stored and stored.get("key") == key else None
    if data is None:
        data = collect(ctx, stats, manifest)
    with tempfile.TemporaryDirectory(prefix="curate-report-") as tmp:
        index = render(data, stats, Path(tmp))
        for path in sorted(Path(tmp).iterdir(), key=lambda p: p == index):
            st.write_bytes(join(folder, path.name), path.read_bytes())
    st.write_json(join(folder, DATA_FILE), {"key": key, "data": data})
    return join(folder, "index.html")
