"""Find benchmark n-grams in documents (Arrow batches) and cut them out (NeMo-style)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import regex

from curate.config import DecontamConfig
from curate.decontam.index import NgramIndex, item_words
from curate.text.ngrams import loosen_batch, ngram_hashes, word_hashes
from curate.text.wordhash import batch_word_hashes

# Word tokens (inner punctuation included) with their offsets: item_words of each token
# gives the words item_words gives for the whole text.
_TOKEN = regex.compile(r"[\p{L}\p{N}\p{M}_]+(?:[^\p{L}\p{N}\p{M}_\s]+[\p{L}\p{N}\p{M}_]+)*")


def batch_matches(texts: pa.Array, index: NgramIndex) -> list[np.ndarray]:
    """For each text, the sorted distinct hashes of its n-grams found in the index."""
    w, offsets = batch_word_hashes(loosen_batch(texts))
    doc_of_word = np.repeat(np.arange(len(texts)), np.diff(offsets))
    hit_docs, hit_hashes = [], []
    for n in index.lengths:
        h = ngram_hashes(w, n)
        if not len(h):
            continue
        start_doc = doc_of_word[: len(h)]
        inside = np.arange(len(h)) + n <= offsets[start_doc + 1]  # window within one doc
        hit = inside & index.contains(h)
        hit_docs.append(start_doc[hit])
        hit_hashes.append(h[hit])
    out = [np.empty(0, dtype=np.uint64) for _ in range(len(texts))]
    if hit_docs:
        docs, hashes = np.concatenate(hit_docs), np.concatenate(hit_hashes)
        for d in np.unique(docs):
            out[d] = np.unique(hashes[docs == d])
    return out


def _tokens(text: str) -> tuple[list[tuple[int, int]], np.ndarray]:
    """(start, end) of every normalised word of ``text``, and the words' hashes."""
    spans, words = [], []
    for m in _TOKEN.finditer(text):
        for word in item_words(m.group()):
            spans.append(m.span())
            words.append(word)
    return spans, word_hashes(words)


def match_spans(text: str, hashes: np.ndarray, lengths: tuple[int, ...]) -> list[tuple[int, int]]:
    """Character spans of the n-grams of ``text`` whose hash is in ``hashes``."""
    spans, w = _tokens(text)
    wanted = set(hashes.tolist())
    out = []
    for n in lengths:
        for p, h in enumerate(ngram_hashes(w, n).tolist()):
            if h in wanted:
                out.append((spans[p][0], spans[p + n - 1][1]))
    return sorted(out)


def cut(text: str, spans: list[tuple[int, int]], cfg: DecontamConfig) -> str | None:
    """The text without the spans (each widened by the margin), or None when the document
    is to be dropped: cut more than max_splits times, or nothing long enough left."""
    merged: list[list[int]] = []
    for lo, hi in spans:
        lo, hi = max(0, lo - cfg.margin_chars), min(len(text), hi + cfg.margin_chars)
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    if not merged or len(merged) > cfg.max_splits:
        return None
    pieces, prev = [], 0
    for lo, hi in merged:
        pieces.append(text[prev:lo])
        prev = hi
    pieces.append(text[prev:])
    kept = [p.strip() for p in pieces if len(p.strip()) >= cfg.min_fragment_chars]
    return "\n".join(kept) if kept else None
