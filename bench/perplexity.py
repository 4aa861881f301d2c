"""Perplexity as a quality separator: natural text vs shuffled words and page boilerplate.

    python bench/perplexity.py [--files N]

Model: `curate train-lm` (SentencePiece + KenLM, CCNet normalisation) trained on
WikiText-2 `valid` (217k words) with the options for a small corpus (a 120-piece
vocabulary, order 6, no pruning; --vocab-size/--order/--prune to compare others).
Evaluated on WikiText-2 `test` paragraphs (held out) vs the same paragraphs with their
words shuffled, and vs the whole visible text (menus, footers, sidebars: resiliparse with
main_content=False) of English docs-crawl pages. Prints the AUC
of perplexity as a separator (the probability that a natural paragraph scores lower than
the other side's text), the paired win rate, and documents/s scored on one core.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time

import numpy as np
from docs_crawl import FOLDER, SHARED, documents

from curate.config import ExtractConfig
from curate.extract.records import ingest_file
from curate.langid import load_model, predict
from curate.perplexity.model import LanguageModel
from curate.perplexity.train import TrainOptions, train_lm

WIKITEXT = SHARED / "reference-text"


def auc(natural: np.ndarray, other: np.ndarray) -> float:
    """P(natural < other), ties counted half (Mann-Whitney U / n1 n2)."""
    less = (natural[:, None] < other[None, :]).mean()
    ties = (natural[:, None] == other[None, :]).mean()
    return float(less + ties / 2)


def page_text(files: int) -> list[str]:
    from resiliparse.extract.html2text import extract_plain_text

    def whole_page(html: str, url: str | None) -> str:
        return extract_plain_text(html, main_content=False).strip()

    lid = load_model()
    out = []
    for path in sorted(FOLDER.glob("*.warc.gz"))[:files]:
        for batch in ingest_file(str(path), ExtractConfig(), whole_page):
            for r in batch.to_pylist():
                if r["reason"] is None and predict(lid, r["text"])[0] == "en":
                    out.append(r["text"])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2, help="docs-crawl WARC files")
    parser.add_argument("--min-words", type=int, default=20, help="test paragraphs")
    parser.add_argument("--vocab-size", type=int, default=120)
    parser.add_argument("--order", type=int, default=6)
    parser.add_argument("--prune", default="0", help="lmplz --prune, comma-separated")
    args = parser.parse_args()
    options = TrainOptions(
        order=args.order,
        vocab_size=args.vocab_size,
        prune=[int(x) for x in args.prune.split(",")],
    )
    if not (WIKITEXT / "wikitext2.valid.txt").exists():
        print(f"skipped: {WIKITEXT} not present")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        meta = train_lm([str(WIKITEXT / "wikitext2.valid.txt")], "en", f"{tmp}/en", options)
        print(f"trained on WikiText-2 valid ({meta['training_lines']:,} lines, "
              f"{meta['vocab_size']:,} pieces, order {args.order}, prune {args.prune}) "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        model = LanguageModel("en", f"{tmp}/en")
        lines = (WIKITEXT / "wikitext2.test.txt").read_text().splitlines()
        paras = [p.strip() for p in lines
                 if len(p.split()) >= args.min_words and not p.strip().startswith("=")]  # fmt: skip
        rng = random.Random(1)
        shuffled = []
        for p in paras:
            words = p.split()
            rng.shuffle(words)
            shuffled.append(" ".join(words))
        natural = np.array([model.score(p).perplexity for p in paras])
        other = np.array([model.score(p).perplexity for p in shuffled])
        print(f"\nWikiText-2 test: {len(paras):,} paragraphs of >= {args.min_words} words")
        print(f"{'vs':<34}{'AUC':>7}{'paired win':>12}{'median ppl':>12}")
        print(f"{'(natural)':<34}{'':>7}{'':>12}{np.median(natural):>12.1f}")
        print(f"{'same paragraphs, words shuffled':<34}{auc(natural, other):>7.3f}"
              f"{(natural < other).mean():>12.3f}{np.median(other):>12.1f}")  # fmt: skip
        if FOLDER.exists():
            pages = page_text(args.files)
            boiler = np.array([s for s in (model.score(t).perplexity for t in pages) if s])
            print(f"{'docs-crawl pages, all visible text':<34}{auc(natural, boiler):>7.3f}"
                  f"{'':>12}{np.median(boiler):>12.1f}  ({len(boiler)} pages)")  # fmt: skip
            docs = [text for _, text in documents(args.files)]
            start = time.perf_counter()
            for text in docs:
                model.score(text)
            secs = time.perf_counter() - start
            mb_s = sum(map(len, docs)) / secs / 1e6
            print(f"\nspeed: {len(docs) / secs:,.0f} documents/s on one core "
                  f"({mb_s:.2f} MB/s; docs-crawl main text)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
