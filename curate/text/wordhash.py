"""Normalised word hashes of an Arrow batch of texts in one compiled pass (numba).

For each text: decode UTF-8, fold every code point through ``charfold.fold_table`` (what
``ngrams.normalize`` does to it), cut words at spaces and hash each word's UTF-8 bytes with
XXH64 (seed 0), the hash ``ngrams.word_hashes`` takes from the xxhash package. The result
equals ``word_hashes(normalize(text).split())`` for every text.
"""

from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.text.charfold import fold_table

_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_P4 = np.uint64(0x85EBCA77C2B2AE63)
_P5 = np.uint64(0x27D4EB2F165667C5)
_SPACE = 0x20
_REPLACEMENT = 0xFFFD  # for a byte that is not valid UTF-8 (Arrow strings should have none)


@numba.njit(inline="always")
def _rotl(x: np.uint64, r: int) -> np.uint64:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@numba.njit(inline="always")
def _read_le(buf: np.ndarray, i: int, width: int) -> np.uint64:
    """The little-endian unsigned integer of buf[i:i + width]."""
    v = np.uint64(0)
    for k in range(width):
        v |= np.uint64(buf[i + k]) << np.uint64(8 * k)
    return v


@numba.njit(inline="always")
def _round(acc: np.uint64, lane: np.uint64) -> np.uint64:
    return _rotl(acc + lane * _P2, 31) * _P1


@numba.njit(inline="always")
def _merge(h: np.uint64, acc: np.uint64) -> np.uint64:
    return (h ^ _round(np.uint64(0), acc)) * _P1 + _P4


@numba.njit(cache=True)
def xxh64(buf: np.ndarray, n: int) -> np.uint64:
    """XXH64 with seed 0 of buf[:n] (uint8), as in the xxHash specification."""
    i = 0
    if n >= 32:
        v1, v2, v3, v4 = _P1 + _P2, _P2, np.uint64(0), np.uint64(0) - _P1
        while i + 32 <= n:
            v1 = _round(v1, _read_le(buf, i, 8))
            v2 = _round(v2, _read_le(buf, i + 8, 8))
            v3 = _round(v3, _read_le(buf, i + 16, 8))
            v4 = _round(v4, _read_le(buf, i + 24, 8))
            i += 32
        h = _rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)
        h = _merge(_merge(_merge(_merge(h, v1), v2), v3), v4)
    else:
        h = _P5
    h += np.uint64(n)
    while i + 8 <= n:
        h = _rotl(h ^ _round(np.uint64(0), _read_le(buf, i, 8)), 27) * _P1 + _P4
        i += 8
    if i + 4 <= n:
        h = _rotl(h ^ (_read_le(buf, i, 4) * _P1), 23) * _P2 + _P3
        i += 4
    while i < n:
        h = _rotl(h ^ (np.uint64(buf[i]) * _P5), 11) * _P1
        i += 1
    h ^= h >> np.uint64(33)
    h *= _P2
    h ^= h >> np.uint64(29)
    h *= _P3
    return h ^ (h >> np.uint64(32))


@numba.njit(inline="always")
def _decode(data: np.ndarray, i: int, end: int) -> tuple[int, int]:
    """(code point, length) of the UTF-8 sequence at data[i]; U+FFFD and 1 if invalid."""
    b0 = int(data[i])
    if b0 < 0x80:
        return b0, 1
    if 0xC2 <= b0 < 0xE0:
        n, cp = 2, b0 & 0x1F
    elif 0xE0 <= b0 < 0xF0:
        n, cp = 3, b0 & 0x0F
    elif 0xF0 <= b0 < 0xF5:
        n, cp = 4, b0 & 0x07
    else:
        return _REPLACEMENT, 1
    if i + n > end:
        return _REPLACEMENT, 1
    for k in range(1, n):
        b = int(data[i + k])
        if b & 0xC0 != 0x80:
            return _REPLACEMENT, 1
        cp = (cp << 6) | (b & 0x3F)
    if cp >= 0x110000 or (n == 3 and cp < 0x800) or (n == 4 and cp < 0x10000):
        return _REPLACEMENT, 1
    return cp, n


@numba.njit(cache=True)
def _word_hashes(
    data: np.ndarray,
    offsets: np.ndarray,
    fold_offsets: np.ndarray,
    fold_data: np.ndarray,
    first: int,
    out: np.ndarray,
    word_counts: np.ndarray,
    word: np.ndarray,
) -> tuple[int, int]:
    """Hash the words of texts first, first + 1, ... into out while the next text surely
    fits (a text of k bytes has at most k words); return (texts done, words written)."""
    n_words, t = 0, first
    while t < len(offsets) - 1 and n_words + offsets[t + 1] - offsets[t] <= len(out):
        i, end, length, start = offsets[t], offsets[t + 1], 0, n_words
        while i < end:
            cp, step = _decode(data, i, end)
            i += step
            for k in range(fold_offsets[cp], fold_offsets[cp + 1]):
                b = fold_data[k]
                if b != _SPACE:
                    word[length] = b
                    length += 1
                elif length:
                    out[n_words] = xxh64(word, length)
                    n_words += 1
                    length = 0
        if length:
            out[n_words] = xxh64(word, length)
            n_words += 1
        word_counts[t] = n_words - start
        t += 1
    return t - first, n_words


def batch_word_hashes(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(XXH64 of every normalised word of the batch, each text's word offsets (int64,
    len(texts) + 1)); a null text has no words."""
    texts = pc.cast(pc.fill_null(texts, ""), pa.large_string())
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    _, offsets_buf, data_buf = texts.buffers()
    first = texts.offset
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[first : first + len(texts) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf else np.empty(0, dtype=np.uint8)
    fold = fold_table()
    longest = int(np.diff(offsets).max(initial=0))
    # A word is at most the text's code points times the longest folded piece.
    word = np.empty(longest * fold.longest + 1, dtype=np.uint8)
    word_counts = np.zeros(len(texts), dtype=np.int64)
    size = max(longest, (offsets[-1] - offsets[0]) // 4, 1)
    parts, done = [], 0
    while done < len(texts):
        out = np.empty(size, dtype=np.uint64)
        k, n = _word_hashes(data, offsets, fold.offsets, fold.data, done, out, word_counts, word)
        parts.append(out[:n])
        done += k
    word_offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(word_counts, out=word_offsets[1:])
    return (np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)), word_offsets
