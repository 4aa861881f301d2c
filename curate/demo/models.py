"""The demo's models, trained on text the demo crawl ships: its English language model
(perplexity) and its fastText quality classifier."""

from __future__ import annotations

from pathlib import Path

from curate.classifier.train import Settings, train_classifier
from curate.perplexity.train import train_lm
from curate.storage import use


def train_demo_models(crawl: str | Path) -> None:
    """``crawl``/models/en (KenLM) and ``crawl``/models/quality (fastText)."""
    crawl = Path(crawl)
    train_lm([str(crawl / "reference.txt")], "en", crawl / "models" / "en")
    positive, negative = str(crawl / "quality-positive.txt"), str(crawl / "quality-negative.txt")
    small = Settings(bucket=50_000)  # a 20 MB model: the demo's corpus is small
    train_classifier(
        use(None), [positive], [negative], str(crawl / "models" / "quality"), settings=small
    )
