"""Toxicity. Source: Raffel et al. 2020 (C4, bad-words list) and alt-profanity-check's model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from filters.rules import Fraction, Rule, max_rule

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # the model's TfidfVectorizer token_pattern
_WORD = re.compile(r"\w+(?:['’]\w+)*")


class _Linear:
    """alt-profanity-check's model as arrays: TF-IDF (l2) of each line's words, then the
    average over its calibrated linear classifiers of sigmoid(a * (w.x + c) + b). The same
    probabilities as its predict_prob, for a whole document's lines in one numpy pass
    (sklearn's per-call overhead is ~10 ms)."""

    def __init__(self, index: dict[str, int], idf, weights, intercepts, a, b) -> None:
        self.index, self.idf, self.weights = index, idf, weights  # weights: (k, vocabulary)
        self.intercepts, self.a, self.b = intercepts, a, b

    def probabilities(self, lines: list[str]):
        import numpy as np

        line_of, term = [], []
        for i, line in enumerate(lines):
            for token in _TOKEN.findall(line.lower()):
                t = self.index.get(token)
                if t is not None:
                    line_of.append(i)
                    term.append(t)
        n = len(lines)
        dots = np.zeros((len(self.intercepts), n))
        if term:
            keys, counts = np.unique(np.array(line_of) * len(self.idf) + np.array(term),
                                     return_counts=True)  # fmt: skip
            rows, cols = np.divmod(keys, len(self.idf))
            x = counts * self.idf[cols]
            norm = np.sqrt(np.bincount(rows, x * x, minlength=n))
            scale = np.divide(1.0, norm, out=np.zeros(n), where=norm > 0)
            for k in range(len(self.intercepts)):
                dots[k] = np.bincount(rows, x * self.weights[k, cols], minlength=n) * scale
        z = self.a[:, None] * (dots + self.intercepts[:, None]) + self.b[:, None]
        return (1 / (1 + np.exp(z))).mean(axis=0)


@lru_cache(maxsize=1)
def load_model() -> _Linear:
    """The vectorizer and calibrated classifiers shipped in alt-profanity-check, once per
    process."""
    import numpy as np
    from profanity_check import profanity_check as shipped

    calibrated = shipped.model.calibrated_classifiers_
    return _Linear(
        dict(shipped.vectorizer.vocabulary_),
        np.asarray(shipped.vectorizer.idf_, dtype=np.float64),
        np.array([c.estimator.coef_[0] for c in calibrated], dtype=np.float64),
        np.array([c.estimator.intercept_[0] for c in calibrated], dtype=np.float64),
        np.array([c.calibrators[0].a_ for c in calibrated], dtype=np.float64),
        np.array([c.calibrators[0].b_ for c in calibrated], dtype=np.float64),
    )


@lru_cache(maxsize=1)
def default_words() -> tuple[str, ...]:
    """better-profanity's English list (its profanity_wordlist.txt)."""
    import importlib.resources

    text = importlib.resources.files("better_profanity").joinpath("profanity_wordlist.txt")
    return tuple(w.strip().lower() for w in text.read_text().splitlines() if w.strip())


@dataclass(frozen=True)
class Toxicity:
    name: ClassVar[str] = "toxicity"
    SIGNALS: ClassVar[dict[str, str]] = {
        "flagged_lines_frac": "float64",
        "max_line_probability": "float64",
        "flagged_words_ratio": "float64",
    }
    ANNOTATE_FIELDS: ClassVar[tuple[str, ...]] = ("line_probability", "words", "words_file")

    enabled: bool = True
    # A line is flagged when the model gives it at least this probability (its predict()).
    line_probability: Fraction = 0.5
    # Measured (bench/toxicity.py): news and Wikipedia articles on crime, war or scandal
    # reach 0.125 of lines flagged and 0.024 of words listed; above these, pages are abuse.
    max_flagged_lines_frac: Fraction | None = 0.2
    max_line_probability: Fraction | None = None
    max_flagged_words_ratio: Fraction | None = 0.03
    # Words and phrases of the word-list signal (lower case), for every language; empty:
    # better-profanity's English list, for English. A list file (one entry a line) is
    # merged in by the annotate stage.
    words: tuple[str, ...] = ()
    words_file: str | None = None

    def __post_init__(self) -> None:
        listed = self.words or default_words()
        object.__setattr__(self, "_english_only", not self.words)
        singles = frozenset(w for w in listed if " " not in w)
        phrases = tuple(w for w in listed if " " in w)
        object.__setattr__(self, "_singles", singles)
        object.__setattr__(self, "_phrases", phrases)

    def signals(self, text: str, language: str | None) -> dict[str, Any]:
        """The model and the default list are English: other languages get the word-list
        signal only from a list of the user's."""
        out: dict[str, Any] = dict.fromkeys(self.SIGNALS)
        english = language in (None, "en")
        words = _WORD.findall(text.lower()) if english or not self._english_only else []
        if words:
            hits = sum(w in self._singles for w in words)
            if self._phrases:
                joined = " ".join(words)
                hits += sum(joined.count(p) for p in self._phrases)
            out["flagged_words_ratio"] = hits / len(words)
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if lines and english:
            probs = load_model().probabilities(lines)
            out["flagged_lines_frac"] = float((probs >= self.line_probability).mean())
            out["max_line_probability"] = float(probs.max())
        return out

    def rules(self) -> list[Rule]:
        n = self.name
        return [
            *max_rule(n, "flagged_lines", "flagged_lines_frac", self.max_flagged_lines_frac),
            *max_rule(n, "line_probability", "max_line_probability", self.max_line_probability),
            *max_rule(n, "flagged_words", "flagged_words_ratio", self.max_flagged_words_ratio),
        ]
