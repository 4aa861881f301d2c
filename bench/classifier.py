"""Quality classifier (DCLM's fastText recipe) on real text it was not tuned on.

    python bench/classifier.py

Positives: WikiText-2 ``valid`` paragraphs; negatives: half of the real crawl documents
in ../shared/data (docs-crawl and the Common Crawl sample, extracted by curate), split by
a hash of their id. Held out: WikiText-2 ``test`` paragraphs against the other half of the
crawl. Prints the held-out AUC (goal >= 0.95), training time, and scoring throughput in
documents/s on one core beside language ID's on the same documents (goal >= 20,000).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import xxhash
from docs_crawl import SHARED, documents

from curate.classifier.model import load_classifier, probability
from curate.classifier.train import POSITIVE, auc, train_classifier
from curate.config import ExtractConfig
from curate.extract.records import ingest_file
from curate.langid import load_model, predict
from curate.storage import use

MIN_WORDS = 20  # a WikiText-2 line shorter than this is a heading or a fragment


def wikitext(split: str) -> list[str]:
    lines = (SHARED / "reference-text" / f"wikitext2.{split}.txt").read_text().splitlines()
    return [ln.strip() for ln in lines if len(ln.split()) >= MIN_WORDS and not ln.startswith(" =")]


def crawl() -> list[tuple[str, str]]:
    docs = documents(8)
    for path in sorted((SHARED / "warc" / "cc").glob("*.warc.gz")):
        if ".wat." in path.name or ".wet." in path.name:
            continue
        docs += [(r["id"], r["text"]) for b in ingest_file(str(path), ExtractConfig())
                 for r in b.to_pylist() if r["reason"] is None]  # fmt: skip
    return docs


def throughput(fn, docs: list[str], rounds: int = 3) -> float:
    """Documents per second on this one core, best of ``rounds``."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for d in docs:
            fn(d)
        best = min(best, time.perf_counter() - started)
    return len(docs) / best


def main() -> int:
    if not (SHARED / "reference-text").is_dir():
        print("../shared/data/reference-text not present: nothing to measure")
        return 0
    docs = crawl()
    half = [xxhash.xxh64_intdigest(i.encode()) % 2 for i, _ in docs]
    train_neg = [t for (_, t), h in zip(docs, half, strict=True) if h == 0]
    test_neg = [t for (_, t), h in zip(docs, half, strict=True) if h == 1]
    train_pos, test_pos = wikitext("valid"), wikitext("test")
    with tempfile.TemporaryDirectory() as tmp:
        pos, neg = Path(tmp) / "pos.txt", Path(tmp) / "neg.jsonl"
        pos.write_text("\n\n".join(train_pos) + "\n")
        neg.write_text("".join(json.dumps({"text": t}) + "\n" for t in train_neg))
        started = time.perf_counter()
        card = train_classifier(use(None), [str(pos)], [str(neg)], str(Path(tmp) / "m"))
        train_s = time.perf_counter() - started
        model = load_classifier(str(Path(tmp) / "m" / "model.bin"))
        held = auc([probability(model, t, POSITIVE) for t in test_pos],
                   [probability(model, t, POSITIVE) for t in test_neg])  # fmt: skip
        ours = throughput(lambda t: probability(model, t, POSITIVE), test_neg)
        lid_model = load_model()
        lid = throughput(lambda t: predict(lid_model, t), test_neg)
    mean_chars = sum(map(len, test_neg)) / len(test_neg)
    print(f"training: {card['documents']['train']} documents (balanced), {train_s:.1f} s; "
          f"card AUC on its own 10 % split {card['held_back_auc']:.4f}")  # fmt: skip
    print(f"held out: {len(test_pos):,} WikiText-2 test paragraphs vs {len(test_neg):,} "
          f"crawl documents (mean {mean_chars:,.0f} characters)")  # fmt: skip
    print(f"{'':<28}{'value':>12}{'goal':>12}  met")
    print(f"{'held-out AUC':<28}{held:>12.4f}{'>= 0.95':>12}  {'yes' if held >= 0.95 else 'NO'}")
    print(f"{'classifier docs/s (1 core)':<28}{ours:>12,.0f}{'>= 20,000':>12}  "
          f"{'yes' if ours >= 20_000 else 'NO'}")  # fmt: skip
    print(f"{'language ID docs/s (1 core)':<28}{lid:>12,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
