"""Text normalisation and word n-gram hashing shared by dedup and decontamination.

Plain Python and numpy: ``normalize`` defines the words; ``curate.text.wordhash`` computes the
same words' hashes for a whole Arrow batch in compiled code. Words are hashed with XXH64;
n-gram hashes combine word hashes for all positions at once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import regex
import xxhash

MASK32 = np.uint64(0xFFFFFFFF)
# An odd 64-bit multiplier for the polynomial combination of word hashes (wraps mod 2^64).
POLY = np.uint64(0x9E3779B97F4A7C15)
POLY_INT = int(POLY)
WORD_CHARS = r"\p{L}\p{N}_"
_MARK = regex.compile(r"\p{Mn}+")
_DIGIT = regex.compile(r"\p{Nd}")
_NON_WORD = regex.compile(f"[^{WORD_CHARS}]+")
# ASCII fast path of normalize: digits to 0, anything but letters and _ to a space.
_ASCII = str.maketrans(
    {
        c: ("0" if c.isdigit() else c if c.isalpha() or c == "_" else " ")
        for c in map(chr, range(128))
    }
)


# Looser than normalize, for decontamination: punctuation inside a word ("don't", "3.5",
# "e-mail") joins its parts, so a copy that drops it ("dont", "35") gives the same words,
# and every number is one "0", so a changed number ("3" -> "12") changes no word.
# Arrow's RE2 has no look-behind: the batch form captures and runs twice (one pass leaves
# a chain "a.b.c" as "ab.c"). RE2's \s is ASCII only: the rest of the regex module's \s
# (Unicode White_Space: no-break and other spaces, \v, \x85) is listed, or "a,\xa0b"
# would join into one word in documents and not in the index.
_INNER_PUNCT = regex.compile(r"(?<=[\p{L}\p{N}_])[^\p{L}\p{N}\p{M}_\s]+(?=[\p{L}\p{N}_])")
_INNER_PUNCT_RE2 = r"([\p{L}\p{N}_])[^\p{L}\p{N}\p{M}_\s\x0b\x{85}\p{Z}]+([\p{L}\p{N}_])"
_NUMBER_RE = r"\p{Nd}+"
_NUMBER = regex.compile(_NUMBER_RE)


def loosen(text: str) -> str:
    return _NUMBER.sub("0", _INNER_PUNCT.sub("", text))


def loosen_batch(texts: pa.Array) -> pa.Array:
    """``loosen`` over an Arrow string array (nulls become "")."""
    x = pc.fill_null(texts, "")
    for _ in range(2):
        x = pc.replace_substring_regex(x, pattern=_INNER_PUNCT_RE2, replacement=r"\1\2")
    return pc.replace_substring_regex(x, pattern=_NUMBER_RE, replacement="0")


def fold_chars(text: str, non_word: regex.Pattern = _NON_WORD) -> str:
    """``normalize`` before whitespace is folded, character by character: lower-cased
    (final sigma folded), accents stripped, digits to 0, ``non_word`` to a space."""
    # Python lowers a capital sigma to "ς" at the end of a word: folding it to "σ" makes
    # this work character by character, which curate.text.charfold relies on.
    text = text.lower().replace("ς", "σ")
    text = _MARK.sub("", unicodedata.normalize("NFD", text))
    return non_word.sub(" ", _DIGIT.sub("0", text))


def normalize(text: str) -> str:
    """Lower-case (final sigma folded), accents stripped, digits to 0, punctuation and
    whitespace folded."""
    if text.isascii():
        return " ".join(text.lower().translate(_ASCII).split())
    return " ".join(fold_chars(text).split())


def fold(h: np.ndarray) -> np.ndarray:
    return ((h ^ (h >> np.uint64(32))) & MASK32).astype(np.uint32)


def poly(w: np.ndarray, k: int, starts: np.ndarray | None = None) -> np.ndarray:
    """Polynomial hash of the windows of k consecutive word hashes (wraps mod 2^64) that
    begin at each of ``starts``, by default at every position."""
    if starts is None:
        m = len(w) - k + 1
        columns = (w[j : j + m] for j in range(k))
    else:
        m = len(starts)
        columns = (w[starts + j] for j in range(k))
    with np.errstate(over="ignore"):
        h = np.zeros(m, dtype=np.uint64)
        for column in columns:
            h = h * POLY + column
    return h


def ngram_hashes(w: np.ndarray, n: int) -> np.ndarray:
    """64-bit hash of every window of n consecutive word hashes (none if fewer words)."""
    return poly(w, n) if len(w) >= n else np.empty(0, dtype=np.uint64)


def word_hashes(words: Sequence[str]) -> np.ndarray:
    """XXH64 of each word; each distinct word is hashed once."""
    digest = xxhash.xxh64_intdigest
    cache = {w: digest(w.encode("utf-8")) for w in set(words)}
    return np.array([cache[w] for w in words], dtype=np.uint64)
