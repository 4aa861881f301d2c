"""MinHash signatures of word shingles, vectorised with numpy (pure Python, no Spark).

The signature equals ``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash,
scheme="affine32")`` fed the same shingles: same permutations (numpy RandomState(seed)),
same MurmurHash3 fmix32 pre-mix, same ``a * h + b mod 2**32``. What is faster is the
shingle hashing: each distinct word is hashed once (xxh3-64) and n-gram hashes are
combined for all positions at once instead of one hash call per shingle.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import pyarrow as pa
import xxhash
from scipy.integrate import quad

from curate.ngrams import (
    POLY_INT,
    batch_word_hashes,
    fold,
    ngram_hashes,
    normalize,
    poly,
    word_hashes,
)

EMPTY = np.iinfo(np.uint32).max  # datasketch's value for "no shingle seen"


def batch_shingle_hashes(normalized: pa.Array, n: int) -> list[np.ndarray]:
    """``shingle_hashes`` for every normalised text of a batch at once."""
    w, offsets = batch_word_hashes(normalized)
    windows = fold(ngram_hashes(w, n))
    out = []
    for start, end in itertools.pairwise(offsets):
        if end - start >= n:
            out.append(windows[start : end - n + 1])
        elif end > start:  # shorter than n: one shingle of all its words
            out.append(fold(poly(w[start:end], end - start)))
        else:
            out.append(np.empty(0, dtype=np.uint32))
    return out


def shingle_hash(shingle: tuple[str, ...]) -> int:
    """Hash of one shingle (a tuple of words): the scalar twin of ``shingle_hashes``."""
    h = 0
    for w in shingle:
        h = (h * POLY_INT + xxhash.xxh3_64_intdigest(w.encode("utf-8"))) & 0xFFFFFFFFFFFFFFFF
    return (h ^ (h >> 32)) & 0xFFFFFFFF


def shingles(text: str, n: int) -> list[tuple[str, ...]]:
    """Word n-grams of the normalised text; a text shorter than n words is one shingle."""
    words = normalize(text).split()
    if len(words) < n:
        return [tuple(words)] if words else []
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def shingle_hashes(text: str, n: int) -> np.ndarray:
    """uint32 hashes of the text's word n-grams, all positions at once."""
    words = normalize(text).split()
    if not words:
        return np.empty(0, dtype=np.uint32)
    return fold(poly(word_hashes(words), min(n, len(words))))


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (a bijection), as datasketch's affine32 pre-mix."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint32(16))
        h = h * np.uint32(0x85EBCA6B)
        h = h ^ (h >> np.uint32(13))
        h = h * np.uint32(0xC2B2AE35)
        return h ^ (h >> np.uint32(16))


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of the affine32 scheme, drawn exactly as datasketch draws them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def signature(hashes: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signature (uint32[num_perm]); all EMPTY for no shingle."""
    if hashes.size == 0:
        return np.full(num_perm, EMPTY, dtype=np.uint32)
    a, b = permutations(num_perm, seed)
    mixed = _fmix32(np.unique(hashes))[:, None]
    with np.errstate(over="ignore"):
        return (mixed * a + b).min(axis=0)


def band_keys(sig: np.ndarray, bands: int, rows: int) -> list[int]:
    """One signed 64-bit key per band (the band index is part of the key)."""
    out = []
    for i in range(bands):
        chunk = sig[i * rows : (i + 1) * rows].tobytes()
        out.append(xxhash.xxh3_64_intdigest(chunk, seed=i) - (1 << 63))
    return out


def _false_positive(threshold: float, b: int, r: int) -> float:
    return quad(lambda s: 1 - (1 - s ** float(r)) ** float(b), 0.0, threshold)[0]


def _false_negative(threshold: float, b: int, r: int) -> float:
    return quad(lambda s: 1 - (1 - (1 - s ** float(r)) ** float(b)), threshold, 1.0)[0]


@lru_cache(maxsize=32)
def optimal_bands(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) minimising the weighted false positive + negative areas, as
    datasketch's MinHashLSH chooses them (Leskovec et al., Mining of Massive Datasets, 3.4)."""
    best, best_error = (0, 0), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            error = (
                _false_positive(threshold, b, r) * fp_weight
                + _false_negative(threshold, b, r) * fn_weight
            )
            if error < best_error:
                best, best_error = (b, r), error
    return best
