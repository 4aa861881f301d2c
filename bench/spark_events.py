"""The largest Spark task of a time window, from Spark's event log: what one task read
(Parquet files, a local checkpoint held in executor storage, shuffle) and its peak
execution memory, so a bench can show whether any task's share of the data grows with
the input."""

from __future__ import annotations

import json
from pathlib import Path

# Written uncompressed, one file, flushed often, so it can be read while Spark runs.
# Parquet's vectored reads (parquet-hadoop 1.17's default) fetch column chunks outside the
# task's thread, which Spark's input metric does not see: a scan task then reports only
# its footers (16 KB for a 9 MB file). Serial reads make the metric count every byte.
CONF = {
    "spark.eventLog.enabled": "true",
    "spark.eventLog.compress": "false",
    "spark.eventLog.rolling.enabled": "false",
    "spark.eventLog.buffer.kb": "4k",
    "spark.hadoop.parquet.hadoop.vectored.io.enabled": "false",
}
KINDS = ("Parquet input", "checkpoint input", "shuffle read bytes", "peak execution memory")


def conf(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return CONF | {"spark.eventLog.dir": str(folder)}


def largest_task(folder: Path, start_ms: float, end_ms: float) -> dict[str, tuple[int, str]]:
    """The maximum over tasks that finished in [start_ms, end_ms] (epoch ms) of each KIND,
    with the job group (curate's stage) of the task that holds it. A task's input is a
    checkpoint's when its Spark stage reads a local checkpoint (decoded rows, so larger
    than the Parquet they came from), else Parquet's. ``folder`` may hold other runs'
    logs (one file per application), outside the window."""
    out = dict.fromkeys(KINDS, (0, ""))
    for path in folder.iterdir():
        # One application a file, and stage ids are an application's own: a bench's
        # earlier runs in the folder reuse them.
        group_of: dict[int, str] = {}  # stage id -> job group
        reads_checkpoint: set[int] = set()
        for line in path.read_text(errors="replace").splitlines():
            if '"SparkListenerJobStart"' not in line and '"SparkListenerTaskEnd"' not in line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:  # the line being written
                continue
            if event["Event"] == "SparkListenerJobStart":
                group = (event.get("Properties") or {}).get("spark.jobGroup.id") or "-"
                group_of.update(dict.fromkeys(event["Stage IDs"], group))
                for stage in event.get("Stage Infos", []):
                    if any(r["Name"] == "LocalCheckpointRDD" for r in stage["RDD Info"]):
                        reads_checkpoint.add(stage["Stage ID"])
                continue
            finish = event["Task Info"]["Finish Time"]
            metrics = event.get("Task Metrics")
            if metrics is None or not start_ms <= finish <= end_ms:
                continue
            shuffle = metrics["Shuffle Read Metrics"]
            read = metrics["Input Metrics"]["Bytes Read"]
            checkpoint = event["Stage ID"] in reads_checkpoint
            now = {
                "Parquet input": 0 if checkpoint else read,
                "checkpoint input": read if checkpoint else 0,
                "shuffle read bytes": shuffle["Remote Bytes Read"] + shuffle["Local Bytes Read"],
                "peak execution memory": metrics["Peak Execution Memory"],
            }
            for k, v in now.items():
                if v > out[k][0]:
                    out[k] = (v, group_of.get(event["Stage ID"], "-"))
    return out
