"""Text that stays mis-decoded. Source: ftfy's badness heuristic (Speer 2019, ftfy 6)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from ftfy.badness import badness

from filters.rules import Fraction, Rule, max_rule

# Characters mojibake is made of: a UTF-8 lead byte read as Latin-1 / cp1252 / cp1250
# (U+0080 to U+017F and the cp1252 extras), as cp1251 or cp1253 (Cyrillic, Greek), or as
# cp437 (box drawing). A line without one cannot be mojibake of those encodings.
MOJIBAKE_CHARS = re.compile(
    "[\u0080-\u017f\u0370-\u04ff\u2500-\u25ff\u0192\u02c6\u02dc\u20ac\u2122]"
)


def suspect_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` that hold a character mojibake is made of."""
    if MOJIBAKE_CHARS.search(text):
        yield from (line for line in text.split("\n") if MOJIBAKE_CHARS.search(line))


@dataclass(frozen=True)
class EncodingQuality:
    name: ClassVar[str] = "encoding"
    SIGNALS: ClassVar[dict[str, str]] = {
        # U+FFFD per character: bytes no charset decoded.
        "replacement_ratio": "float64",
        # ftfy's mis-decoded sequences per character, after extraction repaired what it could.
        "mojibake_ratio": "float64",
    }

    enabled: bool = True
    # No published thresholds: these remove no document of WikiText-2, docs-crawl or the
    # extraction benchmark (README "Text encoding").
    max_replacement_ratio: Fraction | None = 0.01
    max_mojibake_ratio: Fraction | None = 0.01

    @staticmethod
    def signals(text: str, language: str | None) -> dict[str, Any]:
        if not text:
            return dict.fromkeys(EncodingQuality.SIGNALS)
        bad = sum(badness(line) for line in suspect_lines(text))
        return {
            "replacement_ratio": text.count("\ufffd") / len(text),
            "mojibake_ratio": bad / len(text),
        }

    def rules(self) -> list[Rule]:
        n = self.name
        return [
            *max_rule(n, "replacement_chars_high", "replacement_ratio", self.max_replacement_ratio),
            *max_rule(n, "mojibake_high", "mojibake_ratio", self.max_mojibake_ratio),
        ]
