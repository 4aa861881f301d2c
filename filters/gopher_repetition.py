"""Gopher repetition rules. Source: Rae et al. 2021, "Scaling Language Models", Table A1."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

from filters.rules import Fraction, Rule, max_rule
from filters.text import duplicates, words

_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
_LINE_BREAK = re.compile(r"\n+")
TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)


def top_ngram_chars(tokens: list[str], n: int) -> int | None:
    """Characters covered by all occurrences of the most frequent n-gram (joined by spaces)."""
    if len(tokens) < n:
        return None
    counts = Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    gram, count = counts.most_common(1)[0]
    return (sum(map(len, gram)) + n - 1) * count


def duplicated_ngram_chars(tokens: list[str], n: int) -> int:
    """Characters in n-grams that repeat an earlier one; a repeat's words are not re-counted."""
    seen: set[tuple[str, ...]] = set()
    chars, i = 0, 0
    while i < len(tokens) - n + 1:
        gram = tuple(tokens[i : i + n])
        if gram in seen:
            chars += sum(map(len, gram))
            i += n
        else:
            seen.add(gram)
            i += 1
    return chars


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
        tokens = words(text, language)
        out: dict[str, Any] = {
            "empty": False,
            "dup_para_frac": para_dup / len(paragraphs),
            "dup_para_char_frac": para_chars / n_chars,
            "dup_line_frac": line_dup / len(lines),
            "dup_line_char_frac": line_chars / n_chars,
        }
        for n in TOP_NGRAMS:
            top = top_ngram_chars(tokens, n)
            out[f"top_{n}gram_char_frac"] = None if top is None else top / n_chars
        for n in DUP_NGRAMS:
            out[f"dup_{n}gram_char_frac"] = duplicated_ngram_chars(tokens, n) / n_chars
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
