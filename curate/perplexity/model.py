"""A trained language model directory (sp.model + lm.binary + meta.json) and its scoring."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from curate.config import ConfigError, PerplexityConfig
from curate.perplexity.normalize import normalize_line

SP_FILE, LM_FILE, META_FILE = "sp.model", "lm.binary", "meta.json"


MAX_EXPONENT = 308  # 10.0 ** 309 overflows a float


@dataclass(frozen=True)
class Score:
    perplexity: float | None  # per word; None: nothing to score
    n_words: int  # words + one end-of-paragraph per paragraph


class LanguageModel:
    """SentencePiece + KenLM for one language; paragraphs are the text's lines (CCNet)."""

    def __init__(self, lang: str, directory: str | Path) -> None:
        directory = Path(directory)
        _check_model(lang, directory)
        import kenlm
        import sentencepiece

        self.lang = lang
        self.sp = sentencepiece.SentencePieceProcessor(model_file=str(directory / SP_FILE))
        self.lm = kenlm.Model(str(directory / LM_FILE))
        meta = directory / META_FILE
        self.meta = json.loads(meta.read_text()) if meta.is_file() else {}

    def paragraph_scores(self, text: str) -> list[tuple[float, int]]:
        """(log10 probability, words incl. the end of paragraph) of every non-empty
        paragraph."""
        normalized = [normalize_line(line) for line in text.split("\n")]
        out = []
        # One SentencePiece call for every line of the document.
        for line, pieces in zip(normalized, self.sp.encode(normalized, out_type=str), strict=True):
            if pieces:
                logprob = self.lm.score(" ".join(pieces), bos=True, eos=True)
                out.append((logprob, len(line.split()) + 1))
        return out

    def score(self, text: str) -> Score:
        """Document perplexity per word: 10 ** (-total log10 prob / total words), i.e.
        paragraphs weighted by their lengths. CCNet divides by SentencePiece pieces; per
        word the value does not depend on the vocabulary, and the easy pieces inside long
        words do not dilute it (bench/perplexity.py: AUC vs shuffled text 0.897 per piece,
        0.942 per word, same model)."""
        scores = self.paragraph_scores(text)
        n = sum(k for _, k in scores)
        if not n:
            return Score(None, 0)
        exponent = -sum(s for s, _ in scores) / n
        # Past float range (a page of one 4 MB "word"): as perplexing as it gets.
        return Score(math.inf if exponent > MAX_EXPONENT else round(10.0**exponent, 1), n)


def _check_model(lang: str, directory: Path) -> None:
    for name in (SP_FILE, LM_FILE):
        if not (directory / name).is_file():
            raise ConfigError(
                f"perplexity.models.{lang}: {directory / name} not found "
                f"(train one with `curate train-lm --lang {lang} --output {directory}`)"
            )


def check_models(cfg: PerplexityConfig) -> None:
    """Every configured model directory is complete: checked before Spark starts."""
    if cfg.enabled:
        for lang, directory in sorted(cfg.models.items()):
            _check_model(lang, Path(directory))


@lru_cache(maxsize=16)
def load_model(lang: str, directory: str) -> LanguageModel:
    """One model per executor process, language and path."""
    return LanguageModel(lang, directory)
