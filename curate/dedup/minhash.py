"""MinHash signatures of word (or character) shingles (Python, numpy, numba; no Spark).

The signature equals ``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash,
scheme="affine32")`` fed the same shingles: same permutations (numpy RandomState(seed)),
same MurmurHash3 fmix32 pre-mix, same ``a * h + b mod 2**32``. What is faster: words are
normalised and hashed in one compiled pass over the Arrow batch (``curate.text.wordhash``),
n-gram hashes combine word hashes for all positions at once, and one compiled loop takes
the minimum per permutation.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numba
import numpy as np
import pyarrow as pa
import xxhash

from curate.text.ngrams import POLY_INT, fold, ngram_hashes, normalize, poly, word_hashes
from curate.text.wordhash import batch_word_hashes

EMPTY = np.iinfo(np.uint32).max  # datasketch's value for "no shingle seen"


def batch_shingle_hashes(
    w: np.ndarray, word_offsets: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """``shingle_hashes`` of every text of a batch from its token hashes and offsets
    (``batch_token_hashes``), concatenated, and each text's offsets into them."""
    windows = fold(ngram_hashes(w, n))
    parts, counts = [], np.zeros(len(word_offsets) - 1, dtype=np.int64)
    for i, (start, end) in enumerate(itertools.pairwise(word_offsets.tolist())):
        if end - start >= n:
            parts.append(windows[start : end - n + 1])
        elif end > start:  # shorter than n: one shingle of all its words
            parts.append(fold(poly(w[start:end], end - start)))
        else:
            continue
        counts[i] = len(parts[-1])
    flat = np.concatenate(parts) if parts else np.empty(0, dtype=np.uint32)
    return flat, np.concatenate([[0], np.cumsum(counts)])


def shingle_hash(shingle: tuple[str, ...]) -> int:
    """Hash of one shingle (a tuple of tokens): the scalar twin of ``shingle_hashes``."""
    h = 0
    for w in shingle:
        h = (h * POLY_INT + xxhash.xxh64_intdigest(w.encode("utf-8"))) & 0xFFFFFFFFFFFFFFFF
    return (h ^ (h >> 32)) & 0xFFFFFFFF


def tokens(text: str, unit: str = "words") -> list[str]:
    """What shingles are made of: the normalised text's words, or its characters
    (``unit="chars"``, the single spaces between words included)."""
    norm = normalize(text)
    return norm.split() if unit == "words" else list(norm)


def batch_token_hashes(texts: pa.Array, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """``word_hashes(tokens(text, unit))`` of every text of a batch, concatenated, and each
    text's offsets into them: words in one compiled pass, characters per text in Python."""
    if unit == "words":
        return batch_word_hashes(texts)
    hashes = [word_hashes(tokens(t or "", unit)) for t in texts.to_pylist()]
    offsets = np.concatenate([[0], np.cumsum([len(h) for h in hashes])]).astype(np.int64)
    return (np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)), offsets


def shingles(text: str, n: int, unit: str = "words") -> list[tuple[str, ...]]:
    """n-grams of the text's tokens; a text shorter than n tokens is one shingle."""
    toks = tokens(text, unit)
    if len(toks) < n:
        return [tuple(toks)] if toks else []
    return [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]


def shingle_hashes(text: str, n: int, unit: str = "words") -> np.ndarray:
    """uint32 hashes of the text's token n-grams, all positions at once."""
    toks = tokens(text, unit)
    if not toks:
        return np.empty(0, dtype=np.uint32)
    return fold(poly(word_hashes(toks), min(n, len(toks))))


@numba.njit(inline="always")
def _fmix32(h: np.uint32) -> np.uint32:
    """MurmurHash3's 32-bit finalizer (a bijection), as datasketch's affine32 pre-mix."""
    h = np.uint32(h ^ (h >> 16))
    h = np.uint32(h * np.uint32(0x85EBCA6B))
    h = np.uint32(h ^ (h >> 13))
    h = np.uint32(h * np.uint32(0xC2B2AE35))
    return np.uint32(h ^ (h >> 16))


@numba.njit(cache=True)
def _signatures(
    hashes: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    sigs = np.full((len(offsets) - 1, len(a)), EMPTY, dtype=np.uint32)
    for d in range(len(offsets) - 1):
        sig = sigs[d]
        for s in range(offsets[d], offsets[d + 1]):
            mixed = _fmix32(hashes[s])
            for j in range(len(a)):  # branch-free, so LLVM vectorises it
                sig[j] = min(sig[j], np.uint32(mixed * a[j] + b[j]))
    return sigs


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of the affine32 scheme, drawn exactly as datasketch draws them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def signatures(hashes: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signatures (uint32[n, num_perm]) of the shingle hashes
    hashes[offsets[i]:offsets[i + 1]] of each document i; all EMPTY for no shingle."""
    a, b = permutations(num_perm, seed)
    return _signatures(hashes.astype(np.uint32, copy=False), offsets, a, b)


def signature(hashes: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signature (uint32[num_perm]) of one document's shingle hashes."""
    return signatures(hashes, np.array([0, len(hashes)]), num_perm, seed)[0]


def band_keys(sig: np.ndarray, bands: int, rows: int) -> list[int]:
    """One signed 64-bit key per band (the band index is part of the key)."""
    out = []
    for i in range(bands):
        chunk = sig[i * rows : (i + 1) * rows].tobytes()
        out.append(xxhash.xxh3_64_intdigest(chunk, seed=i) - (1 << 63))
    return out


def _false_positive(threshold: float, b: int, r: int) -> float:
    # Imported here: only the driver bands, and scipy.integrate costs each worker 0.2 s.
    from scipy.integrate import quad

    return quad(lambda s: 1 - (1 - s ** float(r)) ** float(b), 0.0, threshold)[0]


def _false_negative(threshold: float, b: int, r: int) -> float:
    from scipy.integrate import quad

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
