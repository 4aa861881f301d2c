"""FineWeb rules. Source: Penedo et al. 2024, "The FineWeb Datasets", Sec. 3.3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from filters.rules import Count, Fraction, NonNegative, Rule, max_rule, min_rule
from filters.text import doc_words, duplicates, ends_sentence


@dataclass(frozen=True)
class FineWebQuality:
    name: ClassVar[str] = "fineweb"
    SIGNALS: ClassVar[dict[str, str]] = {
        "n_lines": "int64",
        "line_punct_ratio": "float64",
        "short_line_ratio": "float64",
        "dup_line_char_ratio": "float64",
        "newlines_per_word": "float64",
    }
    # A line of at most this many characters is short: decides the short_line_ratio signal.
    ANNOTATE_FIELDS: ClassVar[tuple[str, ...]] = ("short_line_length",)

    enabled: bool = True
    min_line_punct_ratio: Fraction | None = 0.12
    short_line_length: Count = 30
    max_short_line_ratio: Fraction | None = 0.67
    max_dup_line_char_ratio: Fraction | None = 0.01
    max_newlines_per_word: NonNegative | None = 0.3

    def signals(self, text: str, language: str | None) -> dict[str, Any]:
        lines = [ln for ln in text.split("\n") if ln.strip()]
        if not lines:
            return {**dict.fromkeys(self.SIGNALS), "n_lines": 0}
        n_words = len(doc_words(text, language))
        _, dup_chars = duplicates(lines)
        body_chars = len(text.replace("\n", ""))
        return {
            "n_lines": len(lines),
            "line_punct_ratio": sum(ends_sentence(ln) for ln in lines) / len(lines),
            "short_line_ratio": sum(len(ln) <= self.short_line_length for ln in lines) / len(lines),
            "dup_line_char_ratio": dup_chars / body_chars if body_chars else None,
            "newlines_per_word": text.count("\n") / n_words if n_words else None,
        }

    def rules(self) -> list[Rule]:
        n = self.name
        return [
            *min_rule(n, "empty", "n_lines", 1),
            *min_rule(n, "line_punct_ratio_low", "line_punct_ratio", self.min_line_punct_ratio),
            *max_rule(n, "short_lines_high", "short_line_ratio", self.max_short_line_ratio),
            *max_rule(
                n, "dup_line_chars_high", "dup_line_char_ratio", self.max_dup_line_char_ratio
            ),
            *max_rule(n, "newlines_per_word_high", "newlines_per_word", self.max_newlines_per_word),
        ]
