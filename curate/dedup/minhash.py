"""MinHash signatures of word shingles, vectorised with numpy (pure Python, no Spark).

The signature equals ``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash,
scheme="affine32")`` fed the same shingles: same permutations (numpy RandomState(seed)),
same MurmurHash3 fmix32 pre-mix, same ``a * h + b mod 2**32``. What is faster is the
shingle hashing: each distinct word is hashed once (xxh3-64) and n-gram hashes are
combined for all positions at once instead of one hash call per shingle.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import regex
import xxhash
from scipy.integrate import quad

_MASK32 = np.uint64(0xFFFFFFFF)
# An odd 64-bit multiplier for the polynomial combination of word hashes (wraps mod 2^64).
_POLY = np.uint64(0x9E3779B97F4A7C15)
_POLY_INT = int(_POLY)
# The same classes in Python (regex) and Arrow (RE2), so both paths normalise alike.
_MARK_RE = r"\p{Mn}+"
_DIGIT_RE = r"\p{Nd}"
_NON_WORD_RE = r"[^\p{L}\p{N}_]+"
_MARK = regex.compile(_MARK_RE)
_DIGIT = regex.compile(_DIGIT_RE)
_NON_WORD = regex.compile(_NON_WORD_RE)
# ASCII fast path of normalize: digits to 0, anything but letters and _ to a space.
_ASCII = str.maketrans(
    {
        c: ("0" if c.isdigit() else c if c.isalpha() or c == "_" else " ")
        for c in map(chr, range(128))
    }
)
EMPTY = np.iinfo(np.uint32).max  # datasketch's value for "no shingle seen"


def normalize(text: str) -> str:
    """Lower-case, accents stripped, digits to 0, punctuation and whitespace folded."""
    text = text.lower()
    if text.isascii():
        return " ".join(text.translate(_ASCII).split())
    text = _MARK.sub("", unicodedata.normalize("NFD", text))
    return " ".join(_NON_WORD.sub(" ", _DIGIT.sub("0", text)).split())


def normalize_batch(texts: pa.Array) -> pa.Array:
    """``normalize`` over an Arrow string array, in Arrow's C++ kernels (nulls become "")."""
    x = pc.utf8_normalize(pc.utf8_lower(pc.fill_null(texts, "")), form="NFD")
    x = pc.replace_substring_regex(x, pattern=_MARK_RE, replacement="")
    x = pc.replace_substring_regex(x, pattern=_DIGIT_RE, replacement="0")
    x = pc.replace_substring_regex(x, pattern=_NON_WORD_RE, replacement=" ")
    return pc.utf8_trim_whitespace(x)


def _fold(h: np.ndarray) -> np.ndarray:
    return ((h ^ (h >> np.uint64(32))) & _MASK32).astype(np.uint32)


def _poly(w: np.ndarray, k: int) -> np.ndarray:
    """Polynomial hash of every window of k consecutive word hashes (wraps mod 2^64)."""
    m = len(w) - k + 1
    with np.errstate(over="ignore"):
        h = np.zeros(m, dtype=np.uint64)
        for j in range(k):
            h = h * _POLY + w[j : j + m]
    return h


def batch_shingle_hashes(normalized: pa.Array, n: int) -> list[np.ndarray]:
    """``shingle_hashes`` for every normalised text of a batch at once: words are split and
    dictionary-encoded in Arrow, so each distinct word of the batch is hashed once."""
    lists = pc.utf8_split_whitespace(normalized)
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    nonempty = pc.not_equal(flat, "")
    flat, parents = flat.filter(nonempty), parents.filter(nonempty).to_numpy()
    counts = np.bincount(parents, minlength=len(normalized))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    encoded = pc.dictionary_encode(flat)
    digest = xxhash.xxh3_64_intdigest
    uniq = encoded.dictionary.to_pylist()
    table = np.fromiter((digest(u.encode("utf-8")) for u in uniq), dtype=np.uint64, count=len(uniq))
    w = table[encoded.indices.to_numpy()] if len(flat) else np.empty(0, dtype=np.uint64)
    windows = _fold(_poly(w, n)) if len(w) >= n else np.empty(0, dtype=np.uint32)
    out = []
    for start, end in itertools.pairwise(offsets):
        if end - start >= n:
            out.append(windows[start : end - n + 1])
        elif end > start:  # shorter than n: one shingle of all its words
            out.append(_fold(_poly(w[start:end], end - start)))
        else:
            out.append(np.empty(0, dtype=np.uint32))
    return out


def word_hashes(words: Sequence[str]) -> np.ndarray:
    """xxh3-64 of each word; each distinct word is hashed once."""
    digest = xxhash.xxh3_64_intdigest
    cache = {w: digest(w.encode("utf-8")) for w in set(words)}
    return np.array([cache[w] for w in words], dtype=np.uint64)


def shingle_hash(shingle: tuple[str, ...]) -> int:
    """Hash of one shingle (a tuple of words): the scalar twin of ``shingle_hashes``."""
    h = 0
    for w in shingle:
        h = (h * _POLY_INT + xxhash.xxh3_64_intdigest(w.encode("utf-8"))) & 0xFFFFFFFFFFFFFFFF
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
    return _fold(_poly(word_hashes(words), min(n, len(words))))


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
