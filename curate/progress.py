"""A console progress line per stage, from Spark's status tracker (driver side).

Each stage's Spark jobs run under a job group named after the stage; a thread polls the
tracker for that group's tasks. On a terminal the line is redrawn in place; in a log (CI,
spark-submit on YARN) a line is printed every ``LOG_EVERY_S`` seconds and when the stage ends.
A stage's later jobs only appear once they start, so the tracker's task total grows as
the stage goes: an ETA is shown only against a total the stage knows beforehand
(``Progress.expect``: extract's one task per input file), else rate and elapsed time.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyspark.sql import SparkSession

POLL_S = 0.5
LOG_EVERY_S = 30.0


@dataclass(frozen=True)
class Tasks:
    done: int = 0
    running: int = 0
    total: int = 0
    failed: int = 0


class Progress:
    """What a running stage tells its progress line: the tasks it knows it will run."""

    def __init__(self) -> None:
        self.expected: int | None = None

    def expect(self, tasks: int) -> None:
        self.expected = tasks


def format_line(
    stage: str, tasks: Tasks, elapsed: float, finished: bool = False, expected: int | None = None
) -> str:
    """``[extract] 12/40 tasks, 2 running, 1.5 tasks/s, ETA 19s, 8s elapsed`` against a
    known total, ``[dedup] 12 tasks done, 2 running, 1.5 tasks/s, 8s elapsed`` without."""
    failed = f" ({tasks.failed} failed attempts)" if tasks.failed else ""
    if finished:
        return f"[{stage}] {tasks.done} tasks{failed}, done in {elapsed:.1f}s"
    rate = tasks.done / elapsed if elapsed > 0 else 0.0
    parts = [f"{tasks.running} running", f"{rate:.1f} tasks/s"]
    if expected and tasks.done < expected:
        head = f"[{stage}] {tasks.done}/{expected} tasks{failed}"
        parts.append(f"ETA {(expected - tasks.done) / rate:.0f}s" if rate > 0 else "ETA ?")
    else:
        head = f"[{stage}] {tasks.done} tasks done{failed}"
    return ", ".join([head, *parts, f"{elapsed:.0f}s elapsed"])


def group_tasks(spark: SparkSession, group: str) -> Tasks:
    """Tasks of every job started so far under ``group`` (later jobs add to the total)."""
    tracker = spark.sparkContext.statusTracker()
    done = running = total = failed = 0
    for job_id in tracker.getJobIdsForGroup(group):
        job = tracker.getJobInfo(job_id)
        for stage_id in job.stageIds if job else ():
            info = tracker.getStageInfo(stage_id)
            if info is None:
                continue
            # A finished job's stages that did not run were skipped (their shuffle output
            # was reused): count only the tasks that ran.
            finished = job.status == "SUCCEEDED"
            total += info.numCompletedTasks if finished else info.numTasks
            done += info.numCompletedTasks
            running += info.numActiveTasks
            failed += info.numFailedTasks
    return Tasks(done, running, total, failed)


@contextmanager
def stage_progress(spark: SparkSession, stage: str, enabled: bool = True) -> Iterator[Progress]:
    """Run the body's Spark jobs under job group ``stage`` and report their progress."""
    sc = spark.sparkContext
    group = f"curate-{stage}"
    sc.setJobGroup(group, f"curate stage {stage}")
    stop = threading.Event()
    started = time.time()
    tty = sys.stderr.isatty()
    progress = Progress()

    def show(finished: bool) -> None:
        tasks, elapsed = group_tasks(spark, group), time.time() - started
        line = format_line(stage, tasks, elapsed, finished, progress.expected)
        # On a terminal the line is redrawn in place until the stage ends.
        if tty:
            print(f"\r{line}\033[K", end="\n" if finished else "", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def poll() -> None:
        last_log = started
        while not stop.wait(POLL_S):
            if tty or time.time() - last_log >= LOG_EVERY_S:
                show(False)
                last_log = time.time()

    thread = threading.Thread(target=poll, name=f"progress-{stage}", daemon=True)
    if enabled:
        thread.start()
    try:
        yield progress
    finally:
        stop.set()
        if enabled:
            thread.join()
            show(True)
        sc.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
        sc.setLocalProperty("spark.job.description", None)  # type: ignore[arg-type]
