"""jobs/pipeline.py under a real spark-submit: local[2], and a standalone cluster (a master
and two workers on 127.0.0.1, started from the pyspark installation)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pyspark
import pytest

from tests.conftest import assert_same_output, demo_paths

ROOT = Path(__file__).resolve().parents[1]
SPARK_HOME = Path(pyspark.__file__).parent
ENV = {
    **os.environ,
    "PYSPARK_PYTHON": sys.executable,
    "SPARK_LOCAL_IP": "127.0.0.1",
    "SPARK_HOME": str(SPARK_HOME),
}


def _submit(
    master: str, demo_crawl: Path, out: Path | str, env: dict | None = None
) -> subprocess.CompletedProcess:
    overrides = [arg for item in demo_paths(demo_crawl) for arg in ("--set", item)]
    return subprocess.run(
        [
            *(str(SPARK_HOME / "bin" / "spark-submit"), "--master", master),
            str(ROOT / "jobs" / "pipeline.py"),
            *("--config", str(ROOT / "configs" / "demo.yaml")),
            *("--input", f"{demo_crawl}/*.warc.gz", "--output", str(out)),
            *overrides,
            # Ignored under spark-submit: its --master wins.
            *("--set", "spark.master=spark://nowhere:7077"),
        ],
        env={**ENV, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_spark_submit_from_another_folder_makes_the_same_data(demo_crawl, demo_run, tmp_path):
    """`make demo`'s config with its relative paths, run from a copy of the project in
    another folder (as another clone would be): the same manifest id, shard bytes and
    documents (but for ``warc_path``, which names where each input was read)."""
    _, reference = demo_run
    clone = tmp_path / "elsewhere" / "curate"
    shutil.copytree(demo_crawl, clone / "demo-data")
    shutil.copytree(ROOT / "configs", clone / "configs")
    result = subprocess.run(
        [
            *(str(SPARK_HOME / "bin" / "spark-submit"), "--master", "local[2]"),
            *(str(ROOT / "jobs" / "pipeline.py"), "--config", "configs/demo.yaml"),
        ],
        env=ENV,
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "documents written" in result.stdout
    out = clone / "out" / "demo"
    ours, theirs = (json.loads((d / "manifest.json").read_text()) for d in (out, reference))
    assert ours["id"] == theirs["id"]
    for info in theirs["domains"].values():
        for shard in info["shards"]:
            assert (out / shard["path"]).read_bytes() == (reference / shard["path"]).read_bytes()
    a, b = (pq.read_table(d / "documents").drop(["warc_path"]) for d in (out, reference))
    assert a.equals(b)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive_workers(ui_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as r:
            return int(json.load(r).get("aliveworkers", 0))
    except OSError:
        return 0


@pytest.mark.slow
def test_standalone_cluster_gives_the_local_output(demo_crawl, demo_run, s3, tmp_path):
    """A master and two workers; output to a local folder, then to S3 (no folder shared
    by the driver and the executors: the workers get the endpoint from their environment,
    as spark.executorEnv or an instance role would give it)."""
    _, reference = demo_run
    port, ui = _free_port(), _free_port()
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    env = {**ENV, **s3.env, "SPARK_WORKER_DIR": str(tmp_path / "work"),
           "SPARK_LOG_DIR": str(tmp_path)}  # fmt: skip
    logs = (tmp_path / "master.log").open("w")
    procs = [
        subprocess.Popen(
            [
                spark_class,
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--webui-port",
                str(ui),
            ],
            env=env,
            stdout=logs,
            stderr=subprocess.STDOUT,
        )
    ]
    try:
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        spark_class,
                        "org.apache.spark.deploy.worker.Worker",
                        "--cores",
                        "1",
                        "--memory",
                        "2g",
                        "--webui-port",
                        str(_free_port()),
                        f"spark://127.0.0.1:{port}",
                    ],
                    env=env,
                    stdout=(tmp_path / f"worker{i}.log").open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.time() + 120
        while _alive_workers(ui) < 2:
            assert time.time() < deadline, (tmp_path / "master.log").read_text()[-2000:]
            time.sleep(1)
        result = _submit(f"spark://127.0.0.1:{port}", demo_crawl, tmp_path / "out")
        assert result.returncode == 0, result.stderr[-3000:]
        assert "documents written" in result.stdout
        assert_same_output(tmp_path / "out", reference)
        master = f"spark://127.0.0.1:{port}"
        result = _submit(master, demo_crawl, s3.uri("cluster-out"), s3.env)
        assert result.returncode == 0, result.stderr[-3000:]
        assert_same_output(s3.download("cluster-out", tmp_path / "from-s3"), reference)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
