"""The whole pipeline on ../shared/data/warc/docs-crawl/ in local[2]: documents/s end to
end, the time share of each stage, and the peak memory of the driver, the JVM (driver and
executors, one process in local mode) and the Python workers.

Every stage is on: language ID (all languages kept), the Gopher / C4 / FineWeb rules, a
KenLM model trained on WikiText-2 (English scored, others passed through), MinHash-LSH
dedup, PII scrubbing, decontamination against every shared benchmark and HumanEval, the
tokenised shards, manifest and run report.

The same run on the local disk and on S3, two rounds, taking turns (local, S3, S3,
local; each side's best shown in the table): inputs and output on the local disk, or
inputs and output on S3 (moto's S3 server on 127.0.0.1, every table read and written
by the executors through the storage layer).

    python bench/pipeline.py [--files 8] [--storage both|local|s3]
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
from curate.spark import build_session


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


def config(paths: list[str], out: str, model: Path, storage: dict) -> Config:
    benchmarks = [
        {"name": name, "format": fmt, "path": str(SHARED / "benchmarks" / rel)}
        for name, fmt, rel in BENCHMARKS
    ]
    benchmarks.append({"name": "humaneval", "format": "humaneval"})
    return Config.model_validate(
        {
            "input": {"paths": paths},
            "output": {"dir": out, "target_file_mb": 16},
            "storage": storage,
            "spark": {"master": "local[2]", "shuffle_partitions": 8, "progress": False},
            "perplexity": {"models": {"en": str(model)}, "cutoffs": "auto"},
            "decontam": {"benchmarks": benchmarks},
            "mixture": {"tokenizer": {"kind": "tiktoken", "name": "cl100k_base"}},
        }
    )


class LoopbackS3:
    """moto's S3 server on a free 127.0.0.1 port, with one bucket holding the inputs."""

    bucket = "bench"

    def __init__(self, files: list[Path]) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        keys = {"access_key_id": "bench", "secret_access_key": "bench"}
        self.storage = {"endpoint_url": f"http://{host}:{port}", **keys}
        client = boto3.client("s3", endpoint_url=self.storage["endpoint_url"],
                              aws_access_key_id="bench", aws_secret_access_key="bench",
                              region_name="us-east-1")  # fmt: skip
        client.create_bucket(Bucket=self.bucket)
        for f in files:
            client.upload_file(str(f), self.bucket, f"crawl/{f.name}")
        self.inputs = [f"s3://{self.bucket}/crawl/{f.name}" for f in files]


def timed(cfg: Config) -> tuple[dict, float, dict]:
    with PeakMemory() as memory:
        t0 = time.perf_counter()
        stats = run(cfg)
        wall = time.perf_counter() - t0
    return stats, wall, memory.peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8, help="docs-crawl WARC files (of 8)")
    parser.add_argument("--storage", choices=["both", "local", "s3"], default="both")
    args = parser.parse_args()
    wikitext = SHARED / "reference-text" / "wikitext2.valid.txt"
    if not FOLDER.is_dir() or not wikitext.exists():
        print(f"skipped: {FOLDER} or {wikitext} not present")
        return 0
    files = sorted(FOLDER.glob("*.warc.gz"))[: args.files]
    kinds = ["local", "s3"] if args.storage == "both" else [args.storage]
    # Two rounds, the order reversed in the second, so machine drift cancels; Spark is
    # started before the first timed run.
    order = [*kinds, *reversed(kinds)] if len(kinds) == 2 else kinds
    runs: dict[str, list[tuple[dict, float, dict]]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory() as tmp:
        train_lm([str(wikitext)], "en", f"{tmp}/lm-en")
        s3 = LoopbackS3(files) if "s3" in kinds else None
        for i, kind in enumerate(order):
            if kind == "local":
                cfg = config([str(f) for f in files], f"{tmp}/out{i}", Path(tmp) / "lm-en", {})
            else:
                out = f"s3://{s3.bucket}/out{i}"
                cfg = config(s3.inputs, out, Path(tmp) / "lm-en", s3.storage)
            build_session(cfg.spark)
            runs[kind].append(timed(cfg))
    results = {k: min(r, key=lambda x: x[1]) for k, r in runs.items()}  # each side's best
    for kind, r in runs.items():
        print(f"{kind} runs: " + ", ".join(f"{x[1]:.1f} s" for x in r))
    stats = next(iter(results.values()))[0]
    records, pages = stats["stages"][0]["in"], stats["stages"][0]["out"]
    print(f"docs-crawl: {args.files} WARC files, {records:,} records, {pages:,} pages "
          f"extracted, {stats['documents']['rows']:,} documents out; local[2]")  # fmt: skip
    for kind, (st, wall, _) in results.items():
        assert st["documents"]["rows"] == stats["documents"]["rows"], "outputs differ"
        rate = records / wall
        print(f"{kind:<6} end to end: {wall:.1f} s (Spark already started), "
              f"{rate:.1f} records/s, {rate / 2:.1f} records/s per core")  # fmt: skip
    if len(results) == 2:
        ratios = [s[1] / loc[1] for s, loc in zip(runs["s3"], runs["local"], strict=True)]
        print("S3 / local wall time, per round: " + ", ".join(f"{r:.2f}" for r in ratios))
    print(f"\n{'stage':<22}" + "".join(f"{k + ' s':>10}{'share':>8}" for k in results))
    names = [k for k in stats["seconds"] if k != "total"]
    for name in [*names, "(stats.json, report)"]:
        row = f"{name:<22}"
        for st, _, _ in results.values():
            seconds = {k: v for k, v in st["seconds"].items() if k != "total"}
            total = sum(seconds.values())
            value = st["seconds"]["total"] - total if name.startswith("(") else seconds[name]
            row += f"{value:>10.1f}" + (
                f"{100 * value / total:>7.1f}%" if name in seconds else " " * 8
            )
        print(row)
    print(f"\n{'peak resident memory, MiB':<28}" + "".join(f"{k:>8}" for k in results))
    for name in next(iter(results.values()))[2]:
        print(f"{name:<28}" + "".join(f"{r[2][name] / 2**20:>8.0f}" for r in results.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
