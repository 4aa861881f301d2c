"""The largest Spark task of a time window, from Spark's event log: what one task read
(Parquet input, shuffle) and its peak execution memory, so a bench can show whether any
task's share of the data grows with the input."""

from __future__ import annotations

import json
from pathlib import Path

# Written uncompressed, one file, flushed often, so it can be read while Spark runs.
CONF = {
    "spark.eventLog.enabled": "true",
    "spark.eventLog.compress": "false",
    "spark.eventLog.rolling.enabled": "false",
    "spark.eventLog.buffer.kb": "4k",
}
KINDS = ("input bytes", "shuffle read bytes", "peak execution memory")


def conf(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return CONF | {"spark.eventLog.dir": str(folder)}


def largest_task(folder: Path, start_ms: float, end_ms: float) -> dict[str, tuple[int, str]]:
    """The maximum over tasks that finished in [start_ms, end_ms] (epoch ms) of each KIND,
    with the job group (curate's stage) of the task that holds it."""
    out = dict.fromkeys(KINDS, (0, ""))
    group_of: dict[int, str] = {}  # stage id -> job group
    for path in folder.iterdir():
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
                continue
            finish = event["Task Info"]["Finish Time"]
            metrics = event.get("Task Metrics")
            if metrics is None or not start_ms <= finish <= end_ms:
                continue
            shuffle = metrics["Shuffle Read Metrics"]
            now = {
                "input bytes": metrics["Input Metrics"]["Bytes Read"],
                "shuffle read bytes": shuffle["Remote Bytes Read"] + shuffle["Local Bytes Read"],
                "peak execution memory": metrics["Peak Execution Memory"],
            }
            for k, v in now.items():
                if v > out[k][0]:
                    out[k] = (v, group_of.get(event["Stage ID"], "-"))
    return out
