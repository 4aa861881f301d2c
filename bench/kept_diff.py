"""Which documents datatrove's FineWeb recipe and curate's same-stages run keep, matched
by URL: for each one only one side keeps, where the other side dropped it (curate: the
removal reason its stage tables record; datatrove: before or at its MinHash step)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq


def _columns(table_dir: Path, *names: str) -> list[list]:
    table = ds.dataset(table_dir, format="parquet").to_table(columns=list(names))
    return [table.column(name).to_pylist() for name in names]


def curate_fates(out: Path) -> dict[str, str]:
    """url -> "kept" or the reason a stage removed it (the last stage that saw it decides)."""
    fate: dict[str, str] = {}
    for table, reason in (("extract/parts", "reason"), ("filter/documents", "filter_reason"),
                          ("dedup/documents", "filter_reason")):  # fmt: skip
        folder = out / "stages" / table
        if folder.is_dir():
            for url, why in zip(*_columns(folder, "url", reason), strict=True):
                if url is not None:
                    fate[url] = why or "passed on"
    for url in _columns(out / "documents", "url")[0]:
        fate[url] = "kept"
    return fate


def datatrove_fates(work: Path) -> dict[str, str]:
    """url -> "kept", "removed by MinHash" (in the filtered JSONL, not in the output)."""
    fate: dict[str, str] = {}
    for path in sorted((work / "filtered").glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as f:
            for line in f:
                fate[json.loads(line)["metadata"]["url"]] = "removed by MinHash"
    for path in sorted((work / "output").rglob("*.parquet")):
        meta = pq.read_table(path, columns=["metadata"]).column("metadata").combine_chunks()
        for url in meta.field("url").to_pylist():
            fate[url] = "kept"
    return fate


def report(work: Path, out: Path) -> None:
    ours, theirs = curate_fates(out), datatrove_fates(work)
    kept_ours = {u for u, f in ours.items() if f == "kept"}
    kept_theirs = {u for u, f in theirs.items() if f == "kept"}
    only_theirs = Counter(ours.get(u, "never read as a record") for u in kept_theirs - kept_ours)
    only_ours = Counter(theirs.get(u, "removed before MinHash") for u in kept_ours - kept_theirs)
    print(f"\nDocuments kept, matched by URL: both {len(kept_ours & kept_theirs):,}; "
          f"datatrove only {len(kept_theirs - kept_ours):,}; "
          f"curate only {len(kept_ours - kept_theirs):,}")  # fmt: skip
    print("  datatrove only, by curate's reason: "
          + ", ".join(f"{r} {n}" for r, n in only_theirs.most_common()))  # fmt: skip
    print("  curate only, by where datatrove dropped it: "
          + ", ".join(f"{r} {n}" for r, n in only_ours.most_common()))  # fmt: skip
