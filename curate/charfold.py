"""``ngrams.normalize`` as a table from each code point to its folded UTF-8 bytes, for the
compiled word hasher (``curate.wordhash``).

``normalize`` works character by character (lower-case, NFD, marks dropped, digits to 0,
anything but a word character to a space), then folds whitespace. Applying its steps to all
code points at once, each behind a NUL (a starter, so NFD reorders nothing across it, and
not a word character of any output), gives every code point's piece in one pass of each
step instead of one Python call per code point.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
import regex

from curate.ngrams import DIGIT, MARK

N_CODE_POINTS = 0x110000
# normalize's _NON_WORD, one space per character (the kernel folds runs) and NUL kept.
_NON_WORD_BUT_NUL = regex.compile(r"[^\p{L}\p{N}_\x00]")


def _folded() -> str:
    """The folded text of every code point, each behind a NUL (NUL and the surrogates,
    never in valid UTF-8, fold to a space)."""
    cps = np.arange(N_CODE_POINTS, dtype=np.uint32)
    cps[0] = ord(" ")
    cps[0xD800:0xE000] = ord(" ")
    utf32 = np.zeros(2 * N_CODE_POINTS, dtype=np.uint32)
    utf32[1::2] = cps
    text = utf32.tobytes().decode("utf-32-le").lower().replace("ς", "σ")
    text = MARK.sub("", unicodedata.normalize("NFD", text))
    return _NON_WORD_BUT_NUL.sub(" ", DIGIT.sub("0", text))


@lru_cache(maxsize=1)
def fold_table() -> tuple[np.ndarray, np.ndarray]:
    """(offsets int64[0x110001], data uint8[]): code point c folds to the UTF-8 bytes
    data[offsets[c]:offsets[c + 1]] (a space separates words)."""
    raw = np.frombuffer(_folded().encode("utf-8"), dtype=np.uint8)
    nul = np.flatnonzero(raw == 0)  # nul[c]: the NUL before code point c's piece
    offsets = np.append(nul - np.arange(N_CODE_POINTS), len(raw) - N_CODE_POINTS)
    return offsets, raw[raw != 0]
