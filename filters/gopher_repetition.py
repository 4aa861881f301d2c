"""Gopher repetition rules. Source: Rae et al. 2021, "Scaling Language Models", Table A1."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numba
import numpy as np

from filters.rules import Fraction, Rule, max_rule
from filters.text import doc_words, duplicates

_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
_LINE_BREAK = re.compile(r"\n+")
TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)
_TOP, _DUP = np.array(TOP_NGRAMS), np.array(DUP_NGRAMS)


def token_ids(tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each token as the index of its first distinct occurrence, and its length."""
    index = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    ids = np.fromiter(map(index.__getitem__, tokens), np.int64, len(tokens))
    return ids, np.fromiter(map(len, tokens), np.int64, len(tokens))


@numba.njit(cache=True)
def _groups(ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each n-gram position's group (equal id sequences share one; groups numbered in
    order of first occurrence), and each group's first position. An open-addressing table
    of hashes, each hit checked against the group's ids, so the grouping is exact."""
    m = len(ids) - n + 1
    size = 1
    while size < 2 * m:
        size *= 2
    slots = np.full(size, -1, np.int64)  # group in the slot
    group_of = np.empty(m, np.int64)
    first = np.empty(m, np.int64)
    n_groups = 0
    for i in range(m):
        h = np.uint64(14695981039346656037)
        for k in range(n):
            h = (h ^ np.uint64(ids[i + k] + 1)) * np.uint64(1099511628211)
        slot = np.int64(h & np.uint64(size - 1))
        while True:
            g = slots[slot]
            if g < 0:
                slots[slot] = n_groups
                first[n_groups] = i
                group_of[i] = n_groups
                n_groups += 1
                break
            j = first[g]
            same = True
            for k in range(n):
                if ids[j + k] != ids[i + k]:
                    same = False
                    break
            if same:
                group_of[i] = g
                break
            slot = (slot + 1) & (size - 1)
    return group_of, first[:n_groups]


@numba.njit(cache=True)
def _top_chars(ids: np.ndarray, cum: np.ndarray, n: int) -> int:
    """Characters of the most frequent n-gram's occurrences (``len(ids) >= n``)."""
    group_of, first = _groups(ids, n)
    counts = np.zeros(len(first), np.int64)
    for i in range(len(group_of)):
        counts[group_of[i]] += 1
    best = 0  # the first group of the highest count: the first to occur
    for g in range(1, len(first)):
        if counts[g] > counts[best]:
            best = g
    j = first[best]
    return (cum[j + n] - cum[j] + n - 1) * counts[best]


@numba.njit(cache=True)
def _dup_chars(ids: np.ndarray, cum: np.ndarray, n: int) -> int:
    """Characters of n-grams that repeat one seen before, scanning left to right and
    skipping over each repeat (Gopher's definition, as datatrove counts it)."""
    group_of, first = _groups(ids, n)
    seen = np.zeros(len(first), np.bool_)
    chars, i = 0, 0
    while i < len(group_of):
        g = group_of[i]
        if seen[g]:
            chars += cum[i + n] - cum[i]
            i += n
        else:
            seen[g] = True
            i += 1
    return chars


@numba.njit(cache=True)
def _ngram_chars(
    ids: np.ndarray, lengths: np.ndarray, top_ns: np.ndarray, dup_ns: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``_top_chars`` for each n of ``top_ns`` (-1 when the text is shorter than n) and
    ``_dup_chars`` for each of ``dup_ns``, over token ids and their lengths."""
    cum = np.zeros(len(ids) + 1, np.int64)
    for i in range(len(ids)):
        cum[i + 1] = cum[i] + lengths[i]
    top = np.full(len(top_ns), -1, np.int64)
    for t in range(len(top_ns)):
        if len(ids) >= top_ns[t]:
            top[t] = _top_chars(ids, cum, top_ns[t])
    dup = np.zeros(len(dup_ns), np.int64)
    for t in range(len(dup_ns)):
        if len(ids) >= dup_ns[t]:
            dup[t] = _dup_chars(ids, cum, dup_ns[t])
    return top, dup


@dataclass(frozen=True)
class GopherRepetition:
    name: ClassVar[str] = "gopher_repetition"
    SIGNALS: ClassVar[dict[str, str]] = {
        "empty": "bool",  # no text at all: removed, as datatrove's filter does
        "dup_para_frac": "float64",
        "dup_para_char_frac": "float64",
        "dup_line_frac": "float64",
        "dup_line_char_frac": "float64",
        **{f"top_{n}gram_char_frac": "float64" for n in TOP_NGRAMS},
        **{f"dup_{n}gram_char_frac": "float64" for n in DUP_NGRAMS},
    }

    enabled: bool = True
    max_dup_para_frac: Fraction | None = 0.30
    max_dup_para_char_frac: Fraction | None = 0.20
    max_dup_line_frac: Fraction | None = 0.30
    max_dup_line_char_frac: Fraction | None = 0.20
    max_top_2gram_char_frac: Fraction | None = 0.20
    max_top_3gram_char_frac: Fraction | None = 0.18
    max_top_4gram_char_frac: Fraction | None = 0.16
    max_dup_5gram_char_frac: Fraction | None = 0.15
    max_dup_6gram_char_frac: Fraction | None = 0.14
    max_dup_7gram_char_frac: Fraction | None = 0.13
    max_dup_8gram_char_frac: Fraction | None = 0.12
    max_dup_9gram_char_frac: Fraction | None = 0.11
    max_dup_10gram_char_frac: Fraction | None = 0.10

    @staticmethod
    def signals(text: str, language: str | None) -> dict[str, Any]:
        n_chars = len(text)
        if not n_chars:
            return {**dict.fromkeys(GopherRepetition.SIGNALS), "empty": True}
        paragraphs = _PARAGRAPH_BREAK.split(text.strip())
        lines = _LINE_BREAK.split(text)
        para_dup, para_chars = duplicates(paragraphs)
        line_dup, line_chars = duplicates(lines)
        ids, lengths = token_ids(doc_words(text, language))
        top, dup = _ngram_chars(ids, lengths, _TOP, _DUP)
        out: dict[str, Any] = {
            "empty": False,
            "dup_para_frac": para_dup / len(paragraphs),
            "dup_para_char_frac": para_chars / n_chars,
            "dup_line_frac": line_dup / len(lines),
            "dup_line_char_frac": line_chars / n_chars,
        }
        for n, chars in zip(TOP_NGRAMS, top.tolist(), strict=True):
            out[f"top_{n}gram_char_frac"] = None if chars < 0 else chars / n_chars
        for n, chars in zip(DUP_NGRAMS, dup.tolist(), strict=True):
            out[f"dup_{n}gram_char_frac"] = chars / n_chars
        return out

    def rules(self) -> list[Rule]:
        n = self.name
        rules = [
            Rule(f"{n}.empty", f"{n}.empty", "true"),
            *max_rule(n, "dup_para_frac", "dup_para_frac", self.max_dup_para_frac),
            *max_rule(n, "dup_para_char_frac", "dup_para_char_frac", self.max_dup_para_char_frac),
            *max_rule(n, "dup_line_frac", "dup_line_frac", self.max_dup_line_frac),
            *max_rule(n, "dup_line_char_frac", "dup_line_char_frac", self.max_dup_line_char_frac),
        ]
        for k in (*TOP_NGRAMS, *DUP_NGRAMS):
            kind = "top" if k in TOP_NGRAMS else "dup"
            signal = f"{kind}_{k}gram_char_frac"
            rules += max_rule(n, signal, signal, getattr(self, f"max_{signal}"))
        return rules
