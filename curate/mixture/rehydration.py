"""Rehydration: repeat a deduplicated document by the size of the duplicate cluster it
survived. Source: FineWeb-2 (huggingface/fineweb-2, README "Rehydration": a cluster of
size s gets the weight of the largest listed size <= s; clusters of 1,000 and more are
taken to be boilerplate and kept once)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

FINEWEB2 = {1: 1, 2: 2, 3: 3, 5: 5, 100: 8, 1000: 1}


def resolve(setting: str | Mapping[int, int] | None) -> dict[int, int] | None:
    """``mixture.rehydration`` as {cluster size: copies}: a preset name, a table or None."""
    if setting is None:
        return None
    if isinstance(setting, str):
        return dict(FINEWEB2)
    return {int(k): int(v) for k, v in sorted(setting.items())}


def copies(weights: Mapping[int, int] | None, sizes: np.ndarray) -> np.ndarray:
    """Copies of each document per epoch for its cluster ``sizes`` (1: no duplicate)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    if not weights:
        return np.ones(len(sizes), dtype=np.int64)
    limits = sorted(weights)
    values = np.array([weights[k] for k in limits], dtype=np.int64)
    return values[np.searchsorted(limits, np.maximum(sizes, 1), side="right") - 1]


def epoch_size(weights: Mapping[int, int] | None, clusters: list[list[int]]) -> tuple[int, int]:
    """(documents, tokens) one epoch holds of a row group whose documents are given as
    [cluster size, documents, tokens] rows (the manifest's row_groups[].clusters)."""
    if not clusters:
        return 0, 0
    table = np.asarray(clusters, dtype=np.int64)
    c = copies(weights, table[:, 0])
    return int((c * table[:, 1]).sum()), int((c * table[:, 2]).sum())
