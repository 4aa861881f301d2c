"""Decontamination: recall of benchmark items planted in real documents, false positives.

    python bench/decontam.py [--files N] [--items N]

Index: every benchmark under ../shared/data/benchmarks/ (+ HumanEval from its package),
13-grams as in the pipeline. Documents: curate's extraction of docs-crawl. Into a random
half of them one benchmark item each is planted (question + answer), verbatim or lightly
edited (casing, whitespace, punctuation, a changed number); the other half stays as
crawled. Matching runs the pipeline's functions (batch_matches per Arrow batch, then the
common-n-gram rule), one core. Prints recall per edit, the false-positive rate on the
untouched documents, and documents/s.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter

import numpy as np
import pyarrow as pa
from docs_crawl import FOLDER, SHARED, documents

from curate.config import BenchmarkSource, DecontamConfig
from curate.decontam.benchmarks import load_benchmark
from curate.decontam.index import build_index, text_ngrams
from curate.decontam.match import batch_matches

BENCHMARKS = [
    ("mmlu", "mmlu", "mmlu"),
    ("gsm8k", "gsm8k", "gsm8k_test.jsonl"),
    *[
        (name, "foundry", f"{name}.jsonl")
        for name in ("arc_challenge", "arc_easy", "boolq", "commonsense_qa", "openbook_qa",
                     "piqa", "triviaqa_sm_sub", "winogrande", "lambada_openai")
    ],
]  # fmt: skip


def edit(text: str, kind: str, rng: random.Random) -> str:
    if kind == "casing":
        return text.upper() if rng.random() < 0.5 else text.lower()
    if kind == "whitespace":
        return re.sub(r" ", lambda _: rng.choice(["  ", "\n", " \t "]), text)
    if kind == "punctuation":
        stripped = re.sub(r"[^\w\s]", "", text)
        return re.sub(
            r"(\w) ", lambda m: m.group(1) + rng.choice([", ", "; ", " - ", " "]), stripped
        )
    if kind == "number":  # items with a number only
        numbers = list(re.finditer(r"\d+(?:[.,]\d+)?", text))
        m = rng.choice(numbers)
        return text[: m.start()] + str(rng.randint(2, 999)) + text[m.end() :]
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8, help="docs-crawl WARC files")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not FOLDER.exists():
        print(f"skipped: {FOLDER} not present")
        return 0
    cfg = DecontamConfig()
    t0 = time.perf_counter()
    items = [
        item
        for name, fmt, rel in BENCHMARKS
        for item in load_benchmark(
            BenchmarkSource(name=name, format=fmt, path=str(SHARED / "benchmarks" / rel))
        )
    ]
    items += load_benchmark(BenchmarkSource(name="humaneval", format="humaneval"))
    index = build_index(items, cfg.ngram, cfg.min_item_words)
    print(f"index: {len(items):,} items of {len(index.n_items)} benchmarks, "
          f"{len(index.hashes):,} n-grams, built in {time.perf_counter() - t0:.1f} s")  # fmt: skip

    rng = random.Random(args.seed)
    docs = [text for _, text in documents(args.files)]
    indexable = [it for it in items if any(len(text_ngrams(t, cfg.ngram, 8)) for t in it.texts)]
    kinds = ["verbatim", "casing", "whitespace", "punctuation", "number"]
    planted: dict[int, tuple[str, tuple[str, str]]] = {}
    with_number = [it for it in indexable if re.search(r"\d", it.texts[-1])]
    for i in rng.sample(range(len(docs)), len(docs) // 2):
        kind = kinds[len(planted) % len(kinds)]
        item = rng.choice(with_number if kind == "number" else indexable)
        quote = edit(item.texts[-1], kind, rng)
        paras = docs[i].split("\n")
        at = rng.randint(0, len(paras))
        docs[i] = "\n".join([*paras[:at], quote, *paras[at:]])
        planted[i] = (kind, (item.benchmark, item.item))

    start = time.perf_counter()
    found: list[np.ndarray] = []
    for lo in range(0, len(docs), 256):
        found += batch_matches(pa.array(docs[lo : lo + 256]), index)
    # The stage's rule: an n-gram found in more than max_docs_per_ngram documents is common.
    per_hash = Counter(h for f in found for h in f.tolist())
    common = {h for h, n in per_hash.items() if n > cfg.max_docs_per_ngram}
    flagged = {}
    for i, f in enumerate(found):
        valid = np.array([h for h in f.tolist() if h not in common], dtype=np.uint64)
        if len(valid):
            flagged[i] = {index.items[j] for j in index.lookup(valid)}
    secs = time.perf_counter() - start

    n_plain = len(docs) - len(planted)
    print(f"\ndocuments: {len(docs):,} from {args.files} docs-crawl files; "
          f"{len(planted):,} with a planted item, {n_plain:,} untouched")  # fmt: skip
    print(f"{'planted as':<14}{'documents':>10}{'recall':>9}")
    for kind in kinds:
        mine = [(i, key) for i, (k, key) in planted.items() if k == kind]
        hits = sum(key in flagged.get(i, ()) for i, key in mine)
        print(f"{kind:<14}{len(mine):>10}{hits / len(mine):>9.3f}")
    untouched = [i for i in range(len(docs)) if i not in planted]
    fp = [i for i in untouched if i in flagged]
    print(f"false positives: {len(fp)} of {len(untouched):,} untouched documents "
          f"({100 * len(fp) / len(untouched):.3f} %)")  # fmt: skip
    for i in fp[:5]:
        print("   ", sorted(flagged[i])[:3])
    print(f"common n-grams ignored: {len(common):,}")
    print(f"speed: {len(docs) / secs:,.0f} documents/s on one core "
          f"({sum(map(len, docs)) / secs / 1e6:.1f} MB/s of text)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
