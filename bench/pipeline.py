"""The whole pipeline on ../shared/data/warc/docs-crawl/ in local[2]: curate beside
datatrove's FineWeb recipe, where curate's time goes, and how its cost grows with the data.

Part 1, the peer in the same run: datatrove's FineWeb recipe (bench/fineweb_peer.py,
``LocalPipelineExecutor``, 2 workers), curate with the same stages and thresholds, and
curate's full default pipeline (language ID, every filter signal, KenLM on English, line +
URL + exact + MinHash dedup, PII, decontamination against every shared benchmark, tokens,
shards, manifest, report), taking turns over ``--rounds`` rounds (the order reversed each
round) so the machine's drift cancels; each side's best round is compared. A fourth row
runs the same stages with resiliparse extracting instead of trafilatura. Each curate
run is a process of its own, as a spark-submit is (Spark started before its clock).
Records/s per core end to end (input WARC records / wall seconds / 2), per stage,
documents kept (and those only one side keeps, matched by URL, by where the other dropped
them) and peak resident memory.

Part 2, where the time goes: the full pipeline's stages (and stats, report and manifest
after them) against extraction's own time; Part 3 prints the same at every scale.

Part 3, the scale curve: the full pipeline on docs-crawl copied 1x, 4x (and 16x, 64x with
``--scale 64``; copies made by bench/replicate.py: new record ids, URLs and about 1 %% of
words changed, so dedup has work; 8 shuffle partitions per 1x): wall time, time per 1x of
input, and peak memory of the driver, the JVM and the largest Python worker (a task that
held more than one file's or bucket's data would grow it), and from Spark's event log the
largest task's Parquet input, shuffle read and peak execution memory.

    python bench/pipeline.py [--files 8] [--rounds 2] [--scale 4|16|64] [--skip-peer]
                             [--only-scale 1|4|16|64] [--s3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from decontam import BENCHMARKS
from docs_crawl import FOLDER, SHARED
from fineweb_peer import fineweb_settings, place_lid_model, run_datatrove
from kept_diff import report as kept_diff
from replicate import replicate
from spark_events import conf as event_log_conf
from spark_events import largest_task

from curate.config import Config
from curate.perplexity.train import train_lm
from curate.pipeline import run
from curate.spark import build_session

WORKERS = 2
MIB = 2**20
# Spark's event log (set by main before the session starts): Part 3 reads its task metrics.
EVENTS: dict[str, str] = {}


class PeakMemory:
    """Samples the resident memory of this process and its descendants every 0.2 s: the
    driver, the JVM (driver and executors: one process in local mode), all Python workers
    together, and the largest single Python worker."""

    KINDS = ("driver (Python)", "JVM (driver + executors)", "Python workers", "largest worker")

    def __init__(self) -> None:
        self.peak = dict.fromkeys(self.KINDS, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(0.2):
            now = dict.fromkeys(self.KINDS, 0)
            now["driver (Python)"] = me.memory_info().rss
            for child in me.children(recursive=True):
                try:
                    rss = child.memory_info().rss
                    if child.name() == "java":
                        now["JVM (driver + executors)"] += rss
                    else:
                        now["Python workers"] += rss
                        now["largest worker"] = max(now["largest worker"], rss)
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


def full_settings(model: Path) -> dict:
    """Every stage on: the default pipeline, KenLM for English, every shared benchmark."""
    benchmarks = [
        {"name": name, "format": fmt, "path": str(SHARED / "benchmarks" / rel)}
        for name, fmt, rel in BENCHMARKS
    ]
    benchmarks.append({"name": "humaneval", "format": "humaneval"})
    return {
        "perplexity": {"models": {"en": str(model)}, "cutoffs": "auto"},
        "decontam": {"benchmarks": benchmarks},
        "mixture": {"tokenizer": {"kind": "tiktoken", "name": "cl100k_base"}},
    }


def config(
    paths: list[str],
    out: str,
    settings: dict,
    storage: dict | None = None,
    shuffle_partitions: int = 8,
) -> Config:
    return Config.model_validate(
        {
            "input": {"paths": paths},
            "output": {"dir": out, "target_file_mb": 16, **settings.pop("output", {})},
            "storage": storage or {},
            "spark": {
                "master": f"local[{WORKERS}]",
                "shuffle_partitions": shuffle_partitions,
                "progress": False,
                "conf": dict(EVENTS),
            },
            **settings,
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


def timed_curate(cfg: Config) -> dict:
    """One curate run in a process of its own, as each spark-submit is: a fresh JVM and
    fresh Python workers, no model, JIT or cache state left by an earlier run in the
    bench (datatrove's executor starts its workers afresh too); Spark is started before
    the clock."""
    with tempfile.TemporaryDirectory() as name:
        cfg_path, out_path = Path(name, "config.json"), Path(name, "result.json")
        cfg_path.write_text(cfg.model_dump_json())
        subprocess.run([sys.executable, __file__, "--one-run", str(cfg_path), str(out_path)],
                       check=True)  # fmt: skip
        return json.loads(out_path.read_text())


def one_run(cfg_path: Path, out_path: Path) -> None:
    """The child of ``timed_curate``: its result as JSON in ``out_path``."""
    cfg = Config.model_validate_json(cfg_path.read_text())
    spark = build_session(cfg.spark)  # started before the clock
    with PeakMemory() as memory:
        start_ms = time.time() * 1000
        t0 = time.perf_counter()
        stats = run(cfg, spark)
        wall = time.perf_counter() - t0
    spark.stop()  # closes the event log, which Part 3 reads next
    result = {"wall": wall, "stats": stats, "memory": memory.peak,
              "documents": stats["documents"]["rows"],
              "window_ms": (start_ms, time.time() * 1000)}  # fmt: skip
    out_path.write_text(json.dumps(result))


def timed_datatrove(files: list[Path], work: Path) -> dict:
    with PeakMemory() as memory:
        result = run_datatrove(files, work, WORKERS)
    # The idle Spark JVM of the curate runs is not datatrove's.
    memory.peak["JVM (driver + executors)"] = 0
    return result | {"memory": memory.peak}


def records_in(stats: dict) -> int:
    return stats["stages"][0]["in"]


def resiliparse_settings() -> dict:
    """The same stages with resiliparse extracting: what a user who trades extraction
    quality for speed gets (not the issue's comparison, whose peer runs trafilatura)."""
    return fineweb_settings() | {"extract": {"extractor": "resiliparse"}}


def part1(files: list[Path], tmp: Path, model: Path, rounds: int) -> dict[str, dict]:
    settings = {
        "datatrove FineWeb": None,
        "curate, same stages": fineweb_settings,
        "curate, full pipeline": lambda: full_settings(model),
        "same, resiliparse": resiliparse_settings,
    }
    sides = list(settings)
    runs: dict[str, list[dict]] = {s: [] for s in sides}
    for r in range(rounds):
        for side in sides if r % 2 == 0 else sides[::-1]:
            out = tmp / f"part1-{sides.index(side)}-{r}"
            make = settings[side]
            if make is None:
                out.mkdir()
                result = timed_datatrove(files, out)
            else:
                result = timed_curate(config([str(f) for f in files], str(out), make()))
            runs[side].append(result)
            print(f"  round {r + 1}: {side:<24} {result['wall']:7.1f} s", flush=True)
    best = {side: min(rs, key=lambda x: x["wall"]) for side, rs in runs.items()}
    records = records_in(best["curate, full pipeline"]["stats"])
    peer = best["datatrove FineWeb"]["wall"]
    print(f"\nPart 1: {len(files)} docs-crawl files, {records:,} WARC records, {WORKERS} workers; "
          f"best of {rounds} rounds\n")  # fmt: skip
    print(f"{'':<24}{'wall s (rounds)':>22}{'records/s/core':>16}{'vs datatrove':>14}"
          f"{'docs kept':>11}{'peak MiB':>10}")  # fmt: skip
    for side, rs in runs.items():
        b = best[side]
        walls = ", ".join(f"{x['wall']:.1f}" for x in rs)
        mem = sum(v for k, v in b["memory"].items() if k != "largest worker") / MIB
        print(f"{side:<24}{walls:>22}{records / b['wall'] / WORKERS:>16.1f}"
              f"{peer / b['wall']:>13.2f}x{b['documents']:>11,}{mem:>10,.0f}")  # fmt: skip
    same = best["curate, same stages"]
    kept_diff(tmp / "part1-0-0", tmp / "part1-1-0")  # round 1's datatrove and same-stages runs
    print("\nPer stage: datatrove's task seconds summed over workers; curate's stage wall seconds")
    for name, sec in best["datatrove FineWeb"]["steps"].items():
        print(f"  {'datatrove':<12}{name:<32}{sec:>8.1f}")
    for label, side in (("curate", same), ("resiliparse", best["same, resiliparse"])):
        for name, sec in side["stats"]["seconds"].items():
            print(f"  {label:<12}{name:<32}{sec:>8.1f}")
        print(f"  {label:<12}{'(report, manifest after total)':<32}"
              f"{side['wall'] - side['stats']['seconds']['total']:>8.1f}")  # fmt: skip
    return best


def stage_seconds(result: dict) -> tuple[dict[str, float], float]:
    """Seconds by stage (stats, report and manifest as one) and the seconds outside
    extraction."""
    seconds = dict(result["stats"]["seconds"])
    total = seconds.pop("total")
    seconds["(stats, report, manifest)"] = result["wall"] - total
    outside = sum(v for k, v in seconds.items() if k != "extract")
    return seconds, outside


def part2(result: dict) -> None:
    seconds, outside = stage_seconds(result)
    print("\nPart 2: the full pipeline's time by stage (Spark already started)\n")
    for name, sec in seconds.items():
        print(f"  {name:<28}{sec:>8.1f} s{100 * sec / result['wall']:>7.1f} %")
    extract = seconds["extract"]
    print(f"  outside extraction {outside:.1f} s = {outside / extract:.2f} x extraction's "
          f"{extract:.1f} s (goal <= 1.00)")  # fmt: skip
    print("  peak MiB: " + ", ".join(f"{k} {v / MIB:,.0f}" for k, v in result["memory"].items()))


def part3(files: list[Path], tmp: Path, model: Path, scales: list[int]) -> None:
    print("\nPart 3: scale curve, full pipeline, local[2]\n")
    print(f"{'scale':>6}{'records':>10}{'docs out':>10}{'wall s':>9}{'s per 1x':>10}"
          + "".join(f"{k:>26}" for k in PeakMemory.KINDS))  # fmt: skip
    points = {}
    for k in scales:
        inputs = replicate(files, k, tmp / "copies")
        # Shuffle partitions grow with the data, as a user sets them, so a shuffle task's
        # share (one bucket of keys) stays the same size.
        result = timed_curate(config([str(f) for f in inputs], str(tmp / f"scale{k}"),
                                     full_settings(model), shuffle_partitions=8 * k))  # fmt: skip
        points[k] = result
        stats = result["stats"]
        print(
            f"{k:>5}x{records_in(stats):>10,}{result['documents']:>10,}{result['wall']:>9.1f}"
            f"{result['wall'] / k:>10.1f}"
            + "".join(f"{v / MIB:>26,.0f}" for v in result["memory"].values()),
        )
        task = largest_task(Path(EVENTS["spark.eventLog.dir"]), *result["window_ms"])
        seconds, outside = stage_seconds(result)
        ratio = outside / seconds["extract"]
        print("       seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items())
              + f"; outside extraction {ratio:.2f} x extraction")  # fmt: skip
        print("       largest task (its stage): " + ", ".join(
            f"{kind} {v / MIB:,.1f} MiB ({group.removeprefix('curate-')})"
            for kind, (v, group) in task.items()), flush=True)  # fmt: skip
    if 4 in points and len(points) > 1:
        base = points[4]["wall"] / 4
        for k, r in points.items():
            if k > 4:
                print(f"  {k}x: {r['wall'] / k / base:.2f} x linear from 4x (goal <= 1.10)")
    for k, r in points.items():
        per = ", ".join(f"{n} {s:.0f}" for n, s in r["stats"]["seconds"].items())
        print(f"  {k}x stages s: {per}")


def s3_rounds(files: list[Path], tmp: Path, model: Path) -> None:
    """The full pipeline with inputs and output on S3 (moto on loopback) beside local."""
    s3 = LoopbackS3(files)
    for i, kind in enumerate(["local", "s3", "s3", "local"]):
        if kind == "local":
            cfg = config([str(f) for f in files], str(tmp / f"s3cmp{i}"), full_settings(model))
        else:
            cfg = config(s3.inputs, f"s3://{s3.bucket}/out{i}", full_settings(model), s3.storage)
        print(f"  {kind:<6} {timed_curate(cfg)['wall']:.1f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8, help="docs-crawl WARC files (of 8)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scale", type=int, default=4, choices=[1, 4, 16, 64],
                        help="largest copy count of the scale curve")  # fmt: skip
    parser.add_argument("--skip-peer", action="store_true", help="parts 2 and 3 only")
    parser.add_argument("--only-scale", type=int, choices=[1, 4, 16, 64],
                        help="one point of part 3 alone (a long one: 16x, 64x)")  # fmt: skip
    parser.add_argument("--s3", action="store_true", help="also local vs S3 on loopback")
    parser.add_argument(
        "--one-run", nargs=2, type=Path, metavar=("CONFIG", "RESULT"), help=argparse.SUPPRESS
    )  # timed_curate's child process
    args = parser.parse_args()
    if args.one_run:
        one_run(*args.one_run)
        return 0
    wikitext = SHARED / "reference-text" / "wikitext2.valid.txt"
    if not FOLDER.is_dir() or not wikitext.exists():
        print(f"skipped: {FOLDER} or {wikitext} not present")
        return 0
    files = sorted(FOLDER.glob("*.warc.gz"))[: args.files]
    with tempfile.TemporaryDirectory() as name:
        parts(args, files, wikitext, Path(name))
    return 0


def parts(args: argparse.Namespace, files: list[Path], wikitext: Path, tmp: Path) -> None:
    place_lid_model(tmp / "assets")  # before datatrove is imported
    EVENTS.update(event_log_conf(tmp / "events"))
    model = tmp / "lm-en"
    train_lm([str(wikitext)], "en", str(model))
    if args.only_scale:
        part3(files, tmp, model, [args.only_scale])
        return
    if args.skip_peer:
        part2(timed_curate(config([str(f) for f in files], str(tmp / "full"),
                                  full_settings(model))))  # fmt: skip
    else:
        part2(part1(files, tmp, model, args.rounds)["curate, full pipeline"])
    part3(files, tmp, model, [k for k in (1, 4, 16, 64) if k <= args.scale])
    if args.s3:
        s3_rounds(files, tmp, model)


if __name__ == "__main__":
    raise SystemExit(main())
