"""Gopher quality rules. Source: Rae et al. 2021, "Scaling Language Models" (Gopher), App. A.1.1."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

from filters.rules import Count, Fraction, NonNegative, Rule, max_rule, min_rule
from filters.text import NO_SPACE_LANGUAGES, doc_words, is_symbol

STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})


@lru_cache(maxsize=256)
def _stop_set(listed: tuple[str, ...]) -> frozenset[str]:
    return frozenset(listed)


@dataclass(frozen=True)
class GopherQuality:
    name: ClassVar[str] = "gopher_quality"
    SIGNALS: ClassVar[dict[str, str]] = {
        "n_words": "int64",
        "mean_word_length": "float64",
        "hash_ratio": "float64",
        "ellipsis_ratio": "float64",
        "bullet_lines_ratio": "float64",
        "ellipsis_lines_ratio": "float64",
        "alpha_words_ratio": "float64",
        "n_stop_words": "int64",
    }
    # Stop words are counted in annotate: changing a language's list changes the signal.
    ANNOTATE_FIELDS: ClassVar[tuple[str, ...]] = ("stop_words",)

    enabled: bool = True
    min_words: Count | None = 50
    max_words: Count | None = 100_000
    min_mean_word_length: NonNegative | None = 3
    max_mean_word_length: NonNegative | None = 10
    max_symbol_word_ratio: NonNegative | None = 0.1
    max_bullet_lines_ratio: Fraction | None = 0.9
    max_ellipsis_lines_ratio: Fraction | None = 0.3
    min_alpha_words_ratio: Fraction | None = 0.8
    min_stop_words: Count | None = 2
    # Stop words of other languages (FineWeb-2 publishes them: configs/fineweb2-thresholds.yaml);
    # English, and a document without a language, use Gopher's.
    stop_words: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def signals(self, text: str, language: str | None) -> dict[str, Any]:
        tokens = doc_words(text, language)
        n_tokens = len(tokens)
        # Each distinct token classified once: words repeat, and the tests are per token.
        n_content = content_chars = n_alpha = 0
        for token, count in Counter(tokens).items():
            if not is_symbol(token):
                n_content += count
                content_chars += len(token) * count
            if token.isalpha() or any(c.isalpha() for c in token):
                n_alpha += count
        lines = text.splitlines() or [""]
        no_space = language in NO_SPACE_LANGUAGES
        listed = self.stop_words.get(language) if language else None
        stop = _stop_set(tuple(listed)) if listed else None
        if stop is None and language in (None, "en"):
            stop = STOP_WORDS
        return {
            "n_words": n_content,
            # Characters per word mean nothing where every character is a word.
            "mean_word_length": (content_chars / n_content if n_content and not no_space else None),
            "hash_ratio": text.count("#") / n_tokens if n_tokens else None,
            "ellipsis_ratio": (text.count("...") + text.count("…")) / n_tokens
            if n_tokens
            else None,
            "bullet_lines_ratio": sum(ln.lstrip().startswith(("•", "-")) for ln in lines)
            / len(lines),
            "ellipsis_lines_ratio": sum(ln.rstrip().endswith(("...", "…")) for ln in lines)
            / len(lines),
            "alpha_words_ratio": n_alpha / n_tokens if n_tokens else None,
            # A language without a stop-word list is not judged by the rule.
            "n_stop_words": len(stop.intersection(tokens)) if stop is not None else None,
        }

    def rules(self) -> list[Rule]:
        n = self.name
        return [
            *min_rule(n, "word_count_low", "n_words", self.min_words),
            *max_rule(n, "word_count_high", "n_words", self.max_words),
            *min_rule(n, "mean_word_length_low", "mean_word_length", self.min_mean_word_length),
            *max_rule(n, "mean_word_length_high", "mean_word_length", self.max_mean_word_length),
            *max_rule(n, "hash_ratio_high", "hash_ratio", self.max_symbol_word_ratio),
            *max_rule(n, "ellipsis_ratio_high", "ellipsis_ratio", self.max_symbol_word_ratio),
            *max_rule(n, "bullet_lines_high", "bullet_lines_ratio", self.max_bullet_lines_ratio),
            *max_rule(
                n, "ellipsis_lines_high", "ellipsis_lines_ratio", self.max_ellipsis_lines_ratio
            ),
            *min_rule(n, "alpha_words_low", "alpha_words_ratio", self.min_alpha_words_ratio),
            *min_rule(n, "stop_words_low", "n_stop_words", self.min_stop_words),
        ]
