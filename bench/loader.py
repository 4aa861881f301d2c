"""Loader: tokens/s per worker and realised domain proportions vs the manifest.

    python bench/loader.py [--files N] [--seq-len L] [--sequences N]

Runs the pipeline (local[2]) on the demo crawl and on the first N docs-crawl files
(../shared/data/warc/docs-crawl/, when present; domains by host), then for each run
writes a child manifest (`curate mix`: temperature weights, a budget of exactly
``sequences x seq_len`` tokens) and reads every sequence with one MixtureDataset worker in
this process, the way one DataLoader worker would. Shards hold token ids (tokenised in
the pipeline), so the loader only reads, shuffles and packs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from docs_crawl import FOLDER

from curate.config import load_config
from curate.demo.crawl import write_demo_crawl
from curate.loader import MixtureDataset
from curate.mixture.manifest import remix
from curate.mixture.weights import Weighting
from curate.perplexity.train import train_lm
from curate.pipeline import run

ROOT = Path(__file__).resolve().parents[1]


def demo_run(tmp: Path) -> Path:
    crawl = tmp / "demo-data"
    write_demo_crawl(crawl)
    train_lm([str(crawl / "reference.txt")], "en", crawl / "models" / "en")
    cfg = load_config(
        ROOT / "configs" / "demo.yaml", [], [str(crawl / "*.warc.gz")], str(tmp / "demo-out")
    )
    cfg.perplexity.models = {"en": str(crawl / "models" / "en")}
    for source in [*cfg.decontam.benchmarks, *cfg.mixture.sources]:
        source.path = str(crawl / Path(source.path).name)
    run(cfg)
    return tmp / "demo-out"


def docs_crawl_run(tmp: Path, files: int) -> Path:
    paths = [str(p) for p in sorted(FOLDER.glob("*.warc.gz"))[:files]]
    overrides = [
        "perplexity.models={}",
        "decontam.benchmarks=[]",
        "mixture.sources=[]",
        "mixture.shard_mb=8",
        "mixture.row_group_mb=2",
        "mixture.domains=[{name: python, hosts: ['*.python.org']},"
        " {name: debian, hosts: ['*.debian.org']}]",
    ]
    cfg = load_config(ROOT / "configs" / "demo.yaml", overrides, paths, str(tmp / "docs-out"))
    cfg.language.keep = []
    run(cfg)
    return tmp / "docs-out"


def measure(name: str, out: Path, seq_len: int, sequences: int) -> None:
    repeat = Weighting("temperature", sequences * seq_len, max_epochs=10_000)
    child, manifest = remix(out / "manifest.json", repeat, out / "manifest-bench.json")
    ds = MixtureDataset(child, seq_len=seq_len)
    start = time.perf_counter()
    counts: Counter[str] = Counter()
    for item in ds:
        counts[item["domain"]] += 1
    secs = time.perf_counter() - start
    tokens = len(ds) * seq_len
    weights = manifest["mixture"]["weights"]
    worst = max(abs(counts[d] / len(ds) - w) for d, w in weights.items())
    shards = sum(len(i["shards"]) for i in manifest["domains"].values())
    print(
        f"\n{name}: {len(weights)} domains, {shards} shards, "
        f"{sum(i['tokens'] for i in manifest['domains'].values()):,} tokens stored"
    )
    print(
        f"  {len(ds):,} sequences of {seq_len} in {secs:.2f} s: "
        f"{tokens / secs / 1e6:.1f} M tokens/s on one worker (shard checks included)"
    )
    print(f"  {'domain':<10}{'manifest':>10}{'realised':>10}")
    for d, w in sorted(weights.items()):
        print(f"  {d:<10}{100 * w:>9.2f}%{100 * counts[d] / len(ds):>9.2f}%")
    print(f"  largest gap {100 * worst:.3f} percentage points")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2)
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--sequences", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = {"demo crawl": demo_run(Path(tmp))}
        if FOLDER.exists():
            runs[f"docs-crawl ({args.files} files)"] = docs_crawl_run(Path(tmp), args.files)
        for name, out in runs.items():
            measure(name, out, args.seq_len, args.sequences)
    return 0


if __name__ == "__main__":
    sys.exit(main())
