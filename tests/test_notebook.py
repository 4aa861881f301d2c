"""notebooks/tune_thresholds.ipynb runs top to bottom on the demo output (so it never rots)."""

from __future__ import annotations

import json

import nbformat
from nbclient import NotebookClient

from tests.conftest import ROOT, demo_paths


def test_tuning_notebook_executes(demo_run, demo_crawl, monkeypatch):
    _, out = demo_run
    monkeypatch.setenv("CURATE_OUTPUT", str(out))
    monkeypatch.setenv("CURATE_SET", json.dumps(demo_paths(demo_crawl)))
    nb = nbformat.read(ROOT / "notebooks" / "tune_thresholds.ipynb", as_version=4)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )  # fmt: skip
    client.execute()
    printed = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "gopher_quality.word_count_low" in printed and "newly removed:" in printed
    tuned = json.loads((out / "tune" / "tune.json").read_text())
    assert (
        tuned["rules"]["gopher_quality.word_count_low"]["docs_then"]
        > (tuned["rules"]["gopher_quality.word_count_low"]["docs_now"])
    )
