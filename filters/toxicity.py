"""Toxicity. Source: Raffel et al. 2020 (C4, bad-words list) and alt-profanity-check's model."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from typing import Any, ClassVar

from filters.rules import Fraction, Rule, max_rule

# Words or line breaks, in one pass for both signals. The model's vocabulary holds its
# TfidfVectorizer's \b\w\w+\b tokens: those are these words of two or more characters
# (a greedy run starts and ends at a boundary); a single letter is not in it.
_WORD_OR_BREAK = re.compile(r"\w+|\n")
_BREAK = -2


def tokenize(lines: list[str]) -> list[str]:
    """The lines' lower-cased words, with "\n" between one line's and the next's."""
    return _WORD_OR_BREAK.findall("\n".join(lines).lower())


class _Linear:
    """alt-profanity-check's model as arrays: TF-IDF (l2) of each line's words, then the
    average over its calibrated linear classifiers of sigmoid(a * (w.x + c) + b). The same
    probabilities as its predict_prob, for a whole document's lines in one numpy pass
    (sklearn's per-call overhead is ~10 ms)."""

    def __init__(self, index: dict[str, int], idf, weights, intercepts, a, b) -> None:
        self.index, self.idf, self.weights = index, idf, weights  # weights: (k, vocabulary)
        self.intercepts, self.a, self.b = intercepts, a, b
        self._lookup = {**index, "\n": _BREAK}.get

    def probabilities(self, lines: list[str]):
        return self.of_tokens(tokenize(lines), len(lines))

    def of_tokens(self, tokens: list[str], n: int):
        """Each of ``n`` lines' probability from tokenize()'s tokens (the lines hold no
        line breaks of their own, so each "\n" opens the next); ids looked up in C."""
        import numpy as np

        ids = np.fromiter(map(self._lookup, tokens, repeat(-1)), np.int64, len(tokens))
        line = np.cumsum(ids == _BREAK)
        known = ids >= 0
        line_of, term = line[known], ids[known]
        dots = np.zeros((len(self.intercepts), n))
        if len(term):
            keys, counts = np.unique(line_of * len(self.idf) + term, return_counts=True)
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
    process (from the arrays kept between runs: filters.toxicity_model)."""
    from filters.toxicity_model import load

    m = load()
    index = {word: i for i, word in enumerate(m["words"].tolist())}
    return _Linear(index, m["idf"], m["weights"], m["intercepts"], m["a"], m["b"])


@lru_cache(maxsize=1)
def default_words() -> tuple[str, ...]:
    """better-profanity's English list (its profanity_wordlist.txt)."""
    import importlib.resources

    text = importlib.resources.files("better_profanity").joinpath("profanity_wordlist.txt")
    return tuple(w.strip().lower() for w in text.read_text().splitlines() if w.strip())


class _WordList:
    """Entries split into words as the text is ("gang-bang" is the phrase "gang bang"):
    single words are a set look-up per word, phrases are counted in the joined words of
    documents that hold all of a phrase's words."""

    def __init__(self, entries: tuple[str, ...]) -> None:
        split = [tuple(_WORD_OR_BREAK.findall(e.lower())) for e in entries]
        self.singles = frozenset(w[0] for w in split if len(w) == 1)
        self.phrases = tuple(sorted({w for w in split if len(w) > 1}))

    def hits(self, words: list[str]) -> int:
        n = sum(map(self.singles.__contains__, words))
        if self.phrases:
            present = set(words)
            joined = f" {' '.join(words)} "
            n += sum(joined.count(f" {' '.join(p)} ") for p in self.phrases
                     if present.issuperset(p))  # fmt: skip
        return n


@dataclass(frozen=True)
class Toxicity:
    name: ClassVar[str] = "toxicity"
    SIGNALS: ClassVar[dict[str, str]] = {
        "flagged_lines_frac": "float64",
        "max_line_probability": "float64",
        "flagged_words_ratio": "float64",
    }
    ANNOTATE_FIELDS: ClassVar[tuple[str, ...]] = (
        "line_probability",
        "words",
        "words_file",
        "language_words",
        "language_words_files",
    )

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
    # One language's own list ({fr: [...]}, or list files {fr: path}), used for that
    # language instead of the one above.
    language_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    language_words_files: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lists = {lang: _WordList(words) for lang, words in self.language_words.items()}
        if self.words:
            default = _WordList(self.words)
        else:
            default = None
            lists.setdefault("en", _WordList(default_words()))
            lists.setdefault(None, lists["en"])  # no language found: read as English
        object.__setattr__(self, "_lists", lists)
        object.__setattr__(self, "_default", default)

    def signals(self, text: str, language: str | None) -> dict[str, Any]:
        """The model is English: other languages get the word-list signal only, and only
        from a list of the user's."""
        out: dict[str, Any] = dict.fromkeys(self.SIGNALS)
        listed = self._lists.get(language, self._default)
        model = language in (None, "en")
        lines = [ln for ln in text.splitlines() if ln.strip()] if listed or model else []
        if not lines:
            return out
        tokens = tokenize(lines)
        n_words = len(tokens) - (len(lines) - 1)
        if listed and n_words:
            out["flagged_words_ratio"] = listed.hits(tokens) / n_words
        if model:
            probs = load_model().of_tokens(tokens, len(lines))
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
