"""The whole pipeline on ../shared/data/warc/docs-crawl/ in local[2]: documents/s end to
end, the time share of each stage, and the peak memory of the driver, the JVM (driver and
executors, one process in local mode) and the Python workers.

Every stage is on: language ID (all languages kept), the Gopher / C4 / FineWeb rules, a
KenLM model trained on WikiText-2 (English scored, others passed through), MinHash-LSH
dedup, PII scrubbing, decontamination against every shared benchmark and HumanEval, the
tokenised shards, manifest and run report.

    python bench/pipeline.py [--files 8]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import psutil
from decontam import BENCHMARKS
from docs_crawl import FOLDER, SHARED

from curate.config import Config
from curate.perplexity.train import train_lm
from curate.pipeline import run


class PeakMemory:
    """Samples the resident memory of this process and its descendants every 0.2 s."""

    def __init__(self) -> None:
        self.peak = {"driver (Python)": 0, "JVM (driver + executors)": 0, "Python workers": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.2):
            now = {k: 0 for k in self.peak}
            now["driver (Python)"] = me.memory_info().rss
            for child in me.children(recursive=True):
                try:
                    kind = (
                        "JVM (driver + executors)" if child.name() == "java" else "Python workers"
                    )
                    now[kind] += child.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            for k, v in now.items():
                self.peak[k] = max(self.peak[k], v)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def config(files: int, out: Path, model: Path) -> Config:
    paths = [str(p) for p in sorted(FOLDER.glob("*.warc.gz"))[:files]]
    benchmarks = [
        {"name": name, "format": fmt, "path": str(SHARED / "benchmarks" / rel)}
        for name, fmt, rel in BENCHMARKS
    ]
    benchmarks.append({"name": "humaneval", "format": "humaneval"})
    return Config.model_validate(
        {
            "input": {"paths": paths},
            "output": {"dir": str(out), "target_file_mb": 16},
            "spark": {"master": "local[2]", "shuffle_partitions": 8, "progress": False},
            "perplexity": {"models": {"en": str(model)}, "cutoffs": "auto"},
            "decontam": {"benchmarks": benchmarks},
            "mixture": {"tokenizer": {"kind": "tiktoken", "name": "cl100k_base"}},
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8, help="docs-crawl WARC files (of 8)")
    args = parser.parse_args()
    wikitext = SHARED / "reference-text" / "wikitext2.valid.txt"
    if not FOLDER.is_dir() or not wikitext.exists():
        print(f"skipped: {FOLDER} or {wikitext} not present")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        train_lm([str(wikitext)], "en", f"{tmp}/lm-en")
        cfg = config(args.files, Path(tmp) / "out", Path(tmp) / "lm-en")
        with PeakMemory() as memory:
            t0 = time.perf_counter()
            stats = run(cfg)
            wall = time.perf_counter() - t0
    records = stats["stages"][0]["in"]
    pages = stats["stages"][0]["out"]
    print(f"docs-crawl: {args.files} WARC files, {records:,} records, {pages:,} pages "
          f"extracted, {stats['documents']['rows']:,} documents out; local[2]")  # fmt: skip
    print(f"end to end: {wall:.1f} s (Spark start-up included), {records / wall:.1f} records/s, "
          f"{records / wall / 2:.1f} records/s per core")  # fmt: skip
    seconds = {k: v for k, v in stats["seconds"].items() if k != "total"}
    total = sum(seconds.values())
    print(f"\n{'stage':<12}{'seconds':>9}{'share':>8}")
    for name, s in seconds.items():
        print(f"{name:<12}{s:>9.1f}{100 * s / total:>7.1f}%")
    print(f"{'(stats.json, report)':<12}{stats['seconds']['total'] - total:>9.1f}")
    print(f"\n{'peak resident memory':<28}{'MiB':>8}")
    for name, b in memory.peak.items():
        print(f"{name:<28}{b / 2**20:>8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
