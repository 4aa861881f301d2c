"""`curate train-classifier`: a fastText quality classifier, positives ``__label__hq``
against negatives ``__label__cc``, with DCLM's settings, deterministic, and a model card
with the AUC on a held-back split.

Settings from DCLM's ``baselines/train_fasttext_classifier.py`` (lr 0.1, dim 100, ws 5,
epoch 5, minCount 1, fastText's 2M buckets) with ``--wordNgrams 2`` as its README trains
the bigram classifier.
"""

from __future__ import annotations

import dataclasses
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fasttext
import xxhash

from curate.classifier.documents import Source, read_documents, run_documents
from curate.classifier.model import MAX_CHARS, probability
from curate.storage import Storage, absolute
from curate.text.oneline import one_line

POSITIVE, NEGATIVE = "__label__hq", "__label__cc"


class TrainingError(RuntimeError):
    """Training could not give a model; the message says what to change."""


@dataclass(frozen=True)
class Settings:
    lr: float = 0.1
    dim: int = 100
    ws: int = 5
    epoch: int = 5
    min_count: int = 1
    word_ngrams: int = 2
    # Hash buckets for word bigrams: fastText's (and so DCLM's) 2M give an 800 MB model
    # at dim 100; a small corpus needs far fewer (the demo uses 50,000: 20 MB).
    bucket: int = 2_000_000
    seed: int = 0
    holdout: float = 0.1  # share of each class held back for the card's AUC
    balance: bool = True  # sample the larger class down to the smaller one's size


def _by_hash(docs: list[str], seed: int) -> list[str]:
    """A seeded, order-free arrangement: the same documents give the same split."""
    return sorted(docs, key=lambda d: (xxhash.xxh64_intdigest(d.encode(), seed), d))


def split(docs: list[str], holdout: float, seed: int) -> tuple[list[str], list[str]]:
    """(train, held back): the first ``holdout`` share by seeded hash is held back."""
    ordered = _by_hash(docs, seed)
    n = max(1, round(len(ordered) * holdout)) if holdout > 0 else 0
    return ordered[n:], ordered[:n]


def auc(positive: list[float], negative: list[float]) -> float:
    """P(score of a positive > score of a negative), ties counting half (Mann-Whitney U)."""
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(positive, negative).statistic) / (len(positive) * len(negative))


def _train_file(path: str, s: Settings, model_path: str) -> str | None:
    """Train on ``path`` and save to ``model_path``; fastText's error message, if any."""
    try:
        model = fasttext.train_supervised(
            input=path, lr=s.lr, dim=s.dim, ws=s.ws, epoch=s.epoch, minCount=s.min_count,
            wordNgrams=s.word_ngrams, bucket=s.bucket, seed=s.seed, thread=1, verbose=0,
        )  # fmt: skip
    except RuntimeError as exc:
        return str(exc)
    model.save_model(model_path)
    return None


def _fit(path: str, s: Settings, model_path: str) -> None:
    """fastText training in a fresh process: a second training in a process that trained
    before can diverge where the first did not (seen under pytest), so every model comes
    from a clean one, and the same inputs give the same bytes."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        error = pool.apply(_train_file, (path, s, model_path))
    if error and "NaN" in error:
        raise TrainingError(
            f"fastText diverged ({error}): add training documents or lower --lr (now {s.lr})"
        )
    if error:
        raise TrainingError(f"fastText training failed: {error}")


def train_classifier(
    st: Storage,
    positive: list[str],
    negative: list[str] | None,
    output: str,
    lang: str = "en",
    negative_from: str | None = None,
    sample: int | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Train, write ``output/model.bin`` and ``output/card.json``; return the card."""
    s = settings or Settings()
    started = time.time()
    pos, pos_sources = read_documents(st, positive, "--positive")
    neg_sources: list[Source] = []
    if negative_from:
        neg = run_documents(st, negative_from, sample, s.seed)
    else:
        neg, neg_sources = read_documents(st, negative or [], "--negative")
        neg = _by_hash(neg, s.seed)[:sample] if sample else neg
    read = {"hq": len(pos), "cc": len(neg)}
    for name, docs in (("positive", pos), ("negative", neg)):
        if len(docs) < 2:
            raise TrainingError(f"{len(docs)} {name} document(s): need at least 2 per class")
    pos_train, pos_held = split(pos, s.holdout, s.seed)
    neg_train, neg_held = split(neg, s.holdout, s.seed)
    if s.balance:
        n = min(len(pos_train), len(neg_train))
        pos_train, neg_train = _by_hash(pos_train, s.seed)[:n], _by_hash(neg_train, s.seed)[:n]
    # A line with a label and no word would give fastText an empty average (NaN).
    lines = [f"{POSITIVE} {x}" for d in pos_train if (x := one_line(d, MAX_CHARS))]
    lines += [f"{NEGATIVE} {x}" for d in neg_train if (x := one_line(d, MAX_CHARS))]
    random.Random(s.seed).shuffle(lines)  # fastText's SGD reads the file in order
    out = Path(absolute(output))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "train.txt")
        Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
        _fit(path, s, str(out / "model.bin"))
    model = fasttext.load_model(str(out / "model.bin"))  # not the cached one: it may be new
    held = None
    if pos_held and neg_held:
        held = auc([probability(model, d, POSITIVE) or 0.0 for d in pos_held],
                   [probability(model, d, POSITIVE) or 0.0 for d in neg_held])  # fmt: skip
    card = {
        "format": 1,
        "labels": {"positive": POSITIVE, "negative": NEGATIVE},
        "language": lang,
        "inputs": {
            "positive": [dataclasses.asdict(x) for x in pos_sources],
            "negative": [dataclasses.asdict(x) for x in neg_sources]
            or {"run": absolute(negative_from or ""), "sample": sample},
        },
        "documents": {
            "read": read,
            "train": {"hq": len(pos_train), "cc": len(neg_train)},
            "held_back": {"hq": len(pos_held), "cc": len(neg_held)},
        },
        "settings": {**dataclasses.asdict(s), "threads": 1, "source": "DCLM"},
        "held_back_auc": held,
        "seconds": round(time.time() - started, 2),
    }
    st.write_json(str(out / "card.json"), card)
    return card
