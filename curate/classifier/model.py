"""A fastText quality classifier as a signal: the probability of its positive label for a
document's text on one line, loaded once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from curate.config import ClassifierConfig, ConfigError
from curate.text.oneline import one_line

# Bounds the cost of one long page; DCLM scores the whole page, and its top-scored pages
# are decided in their first 100,000 characters.
MAX_CHARS = 100_000


def column(cfg: ClassifierConfig) -> str:
    return f"classifier_{cfg.name}"


@lru_cache(maxsize=8)
def load_classifier(path: str):
    import fasttext

    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: not found")
    try:
        return fasttext.load_model(path)
    except ValueError as exc:  # fastText's message for a file that is no model
        raise OSError(f"{path}: not a fastText model ({exc})") from None


def check_classifier(cfg: ClassifierConfig) -> None:
    """Loads the model and checks its labels: a ConfigError naming the classifier and path
    (before Spark starts) instead of a failed task."""
    where = f"quality.classifiers {cfg.name}: {cfg.path}"
    try:
        model = load_classifier(cfg.path)
    except FileNotFoundError:
        raise ConfigError(f"{where}: model not found") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the model ({exc})") from None
    labels = model.get_labels()
    if cfg.label not in labels:
        raise ConfigError(f"{where}: label {cfg.label} is none of the model's {labels}")


def probability(model, text: str, label: str) -> float | None:
    """P(label | text); None for a text with no word."""
    line = one_line(text, MAX_CHARS)
    if not line:
        return None
    labels, probs = model.predict(line, k=-1)
    for name, p in zip(labels, probs, strict=True):
        if name == label:
            return min(1.0, float(p))  # fastText's softmax can exceed 1 by 1e-5
    return 0.0


def scores(cfg: ClassifierConfig, texts: list[str], langs: list[str | None]) -> list[float | None]:
    """The classifier's signal for a batch: null outside its languages."""
    model = load_classifier(cfg.path)
    covered = set(cfg.languages)
    return [
        probability(model, t, cfg.label) if not covered or lang in covered else None
        for t, lang in zip(texts, langs, strict=True)
    ]
