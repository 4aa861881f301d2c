"""``ngrams.normalize`` as a table from each code point to its folded UTF-8 bytes, for the
compiled word hasher (``curate.text.wordhash``).

``normalize`` is ``ngrams.fold_chars`` (character by character) and then whitespace
folding. Running ``fold_chars`` once over all code points, each behind a NUL (a starter,
so NFD reorders nothing across it, and kept out of the non-word class), gives every code
point's piece in one pass instead of one Python call per code point.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
import regex

from curate.text.ngrams import WORD_CHARS, fold_chars

N_CODE_POINTS = 0x110000
_NON_WORD_BUT_NUL = regex.compile(f"[^{WORD_CHARS}\\x00]")


class FoldTable(NamedTuple):
    offsets: np.ndarray  # int64[0x110001]
    data: np.ndarray  # uint8: code point c folds to data[offsets[c]:offsets[c + 1]]
    longest: int  # the most bytes one code point folds to


def _folded() -> str:
    """The folded text of every code point, each behind a NUL (NUL and the surrogates,
    never in valid UTF-8, fold to a space)."""
    cps = np.arange(N_CODE_POINTS, dtype=np.uint32)
    cps[0] = ord(" ")
    cps[0xD800:0xE000] = ord(" ")
    utf32 = np.zeros(2 * N_CODE_POINTS, dtype=np.uint32)
    utf32[1::2] = cps
    return fold_chars(utf32.tobytes().decode("utf-32-le"), _NON_WORD_BUT_NUL)


@lru_cache(maxsize=1)
def fold_table() -> FoldTable:
    """What every code point folds to, as UTF-8 bytes (a space separates words)."""
    raw = np.frombuffer(_folded().encode("utf-8"), dtype=np.uint8)
    nul = np.flatnonzero(raw == 0)  # nul[c]: the NUL before code point c's piece
    offsets = np.append(nul - np.arange(N_CODE_POINTS), len(raw) - N_CODE_POINTS)
    return FoldTable(offsets, raw[raw != 0], int(np.diff(offsets).max()))
