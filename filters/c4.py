"""C4 rules. Source: Raffel et al. 2020, "Exploring the Limits of Transfer Learning", Sec. 2.2."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from filters.rules import Count, Rule, min_rule
from filters.text import count_sentences

_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
END_PUNCTUATION = (".", "?", "!", '"', "'")
POLICY_PHRASES = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)


@dataclass(frozen=True)
class C4Quality:
    name: ClassVar[str] = "c4"
    SIGNALS: ClassVar[dict[str, str]] = {
        "n_sentences": "int64",
        "lines_kept_frac": "float64",
        "lorem_ipsum": "bool",
        "curly_bracket": "bool",
        "n_bad_words": "int64",
    }
    # These decide which lines count, so they are applied when signals are computed:
    # changing one needs a new annotate run (curate filter refuses otherwise).
    ANNOTATE_FIELDS: ClassVar[tuple[str, ...]] = (
        "drop_lines_without_terminal_punct",
        "min_words_per_line",
        "max_word_length",
        "drop_javascript_lines",
        "drop_policy_lines",
        "remove_citations",
        "bad_words",
    )

    enabled: bool = True
    drop_lines_without_terminal_punct: bool = True
    min_words_per_line: Count = 3
    max_word_length: Count = 1000
    drop_javascript_lines: bool = True
    drop_policy_lines: bool = True
    remove_citations: bool = True
    # C4 used the "List of Dirty, Naughty, Obscene and Otherwise Bad Words"; none is bundled.
    bad_words: tuple[str, ...] = ()
    min_sentences: Count | None = 5
    filter_lorem_ipsum: bool = True
    filter_curly_bracket: bool = True
    filter_bad_words: bool = True

    def kept_lines(self, text: str) -> tuple[list[str], bool, bool, int]:
        """Lines C4 keeps, and whether a kept-so-far line had lorem ipsum or a curly bracket."""
        kept, lorem, curly, total = [], False, False, 0
        for raw in text.splitlines():
            total += 1
            line = raw.strip()
            split = line.split()
            n_words = len(split)
            # No word of a line can be longer than the line.
            if len(line) > self.max_word_length and max(map(len, split)) > self.max_word_length:
                continue
            if self.remove_citations:
                line = _CITATION.sub("", line)
            if self.drop_lines_without_terminal_punct and (
                not line.endswith(END_PUNCTUATION) or line.endswith("...")
            ):
                continue
            if n_words < self.min_words_per_line:
                continue
            lower = line.lower()
            lorem = lorem or "lorem ipsum" in lower
            curly = curly or "{" in line
            if self.drop_javascript_lines and "javascript" in lower:
                continue
            if self.drop_policy_lines and any(p in lower for p in POLICY_PHRASES):
                continue
            kept.append(line)
        return kept, lorem, curly, total

    def signals(self, text: str, language: str | None) -> dict[str, Any]:
        kept, lorem, curly, total = self.kept_lines(text)
        lower = text.lower()
        return {
            "n_sentences": sum(count_sentences(line, language) for line in kept),
            "lines_kept_frac": len(kept) / total if total else None,
            "lorem_ipsum": lorem,
            "curly_bracket": curly,
            "n_bad_words": sum(w in lower for w in self.bad_words) if self.bad_words else None,
        }

    def rules(self) -> list[Rule]:
        n = self.name
        rules = []
        if self.filter_lorem_ipsum:
            rules.append(Rule(f"{n}.lorem_ipsum", f"{n}.lorem_ipsum", "true"))
        if self.filter_curly_bracket:
            rules.append(Rule(f"{n}.curly_bracket", f"{n}.curly_bracket", "true"))
        rules += min_rule(n, "too_few_sentences", "n_sentences", self.min_sentences)
        if self.filter_bad_words:
            rules.append(Rule(f"{n}.bad_words", f"{n}.n_bad_words", ">", 0))
        return rules
