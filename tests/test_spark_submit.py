"""jobs/pipeline.py under a real spark-submit: the master comes from spark-submit."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pyspark

ROOT = Path(__file__).resolve().parents[1]


def test_spark_submit_runs_the_same_job(demo_crawl, demo_run, tmp_path):
    _, demo_out = demo_run
    out = tmp_path / "out"
    spark_submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    result = subprocess.run(
        [
            *(str(spark_submit), "--master", "local[2]", str(ROOT / "jobs" / "pipeline.py")),
            *("--config", str(ROOT / "configs" / "demo.yaml")),
            *("--input", f"{demo_crawl}/*.warc.gz", "--output", str(out)),
            # Ignored under spark-submit: its --master wins.
            *("--set", "spark.master=spark://nowhere:7077"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "documents written" in result.stdout
    stats = json.loads((out / "stats.json").read_text())
    assert stats["stages"][-1]["out"] == pq.read_table(out / "documents").num_rows
    parts = list((demo_out / "documents").glob("part-*"))
    assert parts
    for part in parts:
        assert pq.read_table(part).equals(pq.read_table(out / "documents" / part.name))
