"""A compact n-gram index of benchmark texts: sorted 64-bit hashes and the item of each."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from curate.decontam.benchmarks import BenchmarkItem
from curate.text.ngrams import (
    loosen,
    loosen_batch,
    ngram_hashes,
    normalize,
    poly,
    word_hashes,
)
from curate.text.wordhash import batch_word_hashes


@dataclass
class NgramIndex:
    hashes: np.ndarray  # uint64, sorted; one entry per (n-gram, item) pair
    item_of: np.ndarray  # int32, index into items
    items: list[tuple[str, str]]  # (benchmark, item id)
    lengths: tuple[int, ...]  # window lengths in words: ngram, and shorter whole items
    # Per benchmark: items loaded, and items too short to index.
    n_items: dict[str, int] = field(default_factory=dict)
    too_short: dict[str, int] = field(default_factory=dict)

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Indices into ``items`` of every item holding any of ``hashes``."""
        lo = np.searchsorted(self.hashes, hashes, side="left")
        hi = np.searchsorted(self.hashes, hashes, side="right")
        if not len(lo):
            return np.empty(0, dtype=np.int32)
        return np.unique(np.concatenate([self.item_of[a:b] for a, b in zip(lo, hi, strict=True)]))

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        """Boolean mask: which of ``hashes`` are in the index."""
        idx = np.searchsorted(self.hashes, hashes)
        idx[idx == len(self.hashes)] = 0
        return self.hashes[idx] == hashes if len(self.hashes) else np.zeros(len(hashes), bool)


def item_words(text: str) -> list[str]:
    """The words decontamination compares: ``loosen``, then ``normalize``."""
    return normalize(loosen(text)).split()


def window_hashes(w: np.ndarray, n: int, min_words: int) -> np.ndarray:
    """Hashes of the n-grams of a text's word hashes ``w``; a text of min_words..n-1 words
    is one n-gram of all its words; a shorter one has none."""
    if len(w) < min_words:
        return np.empty(0, dtype=np.uint64)
    return ngram_hashes(w, n) if len(w) >= n else poly(w, len(w))


def text_ngrams(text: str, n: int, min_words: int) -> np.ndarray:
    """``window_hashes`` of the text's words, hashed one text at a time."""
    return window_hashes(word_hashes(item_words(text)), n, min_words)


def build_index(items: list[BenchmarkItem], n: int, min_words: int) -> NgramIndex:
    """Every item's n-gram hashes, all texts at once: words hashed in one compiled pass
    (the pass documents are matched with), windows hashed over the concatenated words
    and kept where they lie inside one text; equal to ``text_ngrams`` text by text."""
    texts = [t for item in items for t in item.texts]
    owner = np.repeat(np.arange(len(items), dtype=np.int32), [len(it.texts) for it in items])
    w, offsets = batch_word_hashes(loosen_batch(pa.array(texts, pa.string())))
    sizes = np.diff(offsets)
    hashes, owners = [], []
    if len(w) >= n:
        text_at = np.repeat(np.arange(len(texts)), sizes)[: len(w) - n + 1]
        inside = np.arange(len(text_at)) + n <= offsets[text_at + 1]
        hashes.append(poly(w, n)[inside])
        owners.append(owner[text_at[inside]])
    short = (sizes >= min_words) & (sizes < n)
    for k in np.unique(sizes[short]).tolist():  # one n-gram of all its words
        at = np.flatnonzero(sizes == k)
        hashes.append(poly(w, k, offsets[at]))
        owners.append(owner[at])
    all_hashes = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
    all_owners = np.concatenate(owners) if owners else np.empty(0, dtype=np.int32)
    # Sorted by hash, then item; an (n-gram, item) pair once.
    order = np.lexsort((all_owners, all_hashes))
    all_hashes, all_owners = all_hashes[order], all_owners[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (all_hashes[1:] != all_hashes[:-1]) | (all_owners[1:] != all_owners[:-1])
    indexed = np.bincount(all_owners, minlength=len(items)) > 0
    return NgramIndex(
        hashes=all_hashes[first],
        item_of=all_owners[first],
        items=[(it.benchmark, it.item) for it in items],
        lengths=tuple(sorted({n, *sizes[short].tolist()})),
        n_items=dict(Counter(it.benchmark for it in items)),
        too_short=dict(
            Counter(it.benchmark for it, ok in zip(items, indexed, strict=True) if not ok)
        ),
    )
