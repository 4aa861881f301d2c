"""Object storage: the demo crawl read from and written to a real S3 API (moto's server on
127.0.0.1), with no shared folder; the output equals the local run's, a killed run resumes
there, the tools read s3:// URIs, and bad endpoints, buckets or credentials fail early."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from curate.cli import main
from curate.pipeline import run
from tests.conftest import ROOT, demo_config, demo_paths

CURATE = str(Path(sys.executable).parent / "curate")
DEMO = str(ROOT / "configs" / "demo.yaml")


def _same_documents(ours: Path, reference: Path, sub: str = "documents") -> None:
    """Same rows and values; ``warc_path`` names where each input was read (s3:// here)."""
    a = pq.read_table(ours / sub).sort_by("id").drop(["warc_path"])
    b = pq.read_table(reference / sub).sort_by("id").drop(["warc_path"])
    assert a.equals(b)


def _same_shards(ours: Path, reference: Path) -> None:
    m_ours = json.loads((ours / "manifest.json").read_text())
    m_ref = json.loads((reference / "manifest.json").read_text())
    assert m_ours["id"] == m_ref["id"]
    for info in m_ref["domains"].values():
        for shard in info["shards"]:
            assert (ours / shard["path"]).read_bytes() == (reference / shard["path"]).read_bytes()


@pytest.fixture(scope="module")
def s3_run(spark, s3, demo_crawl, demo_run, tmp_path_factory):
    """The demo config on the crawl uploaded to S3, output to S3, in this process."""
    s3.upload(demo_crawl, "crawl", "*.warc.gz")
    overrides = [*s3.settings, "spark.progress=false"]
    cfg = demo_config(demo_crawl, Path("-"), overrides)
    cfg.input.paths = [s3.uri("crawl/*.warc.gz")]
    cfg.output.dir = s3.uri("out")
    stats = run(cfg, spark=spark)
    local = s3.download("out", tmp_path_factory.mktemp("s3-out"))
    return stats, local


def test_s3_run_equals_the_local_run(s3_run, demo_run, s3):
    stats, local = s3_run
    reference_stats, reference = demo_run
    _same_documents(local, reference)
    _same_documents(local, reference, "removed")
    _same_shards(local, reference)
    assert [s["out"] for s in stats["stages"]] == [s["out"] for s in reference_stats["stages"]]
    assert stats["documents"]["path"] == s3.uri("out/documents")
    # Only the files the markers list are there: no temporary or unlisted leftovers.
    marker = json.loads((local / "stages" / "publish" / "_STAGE.json").read_text())
    listed = {f["name"] for f in marker["tables"]["documents"]["files"]}
    assert {p.name for p in (local / "documents").glob("*.parquet")} == listed


def test_s3_outputs_open_with_the_tools(s3_run, s3, demo_crawl, demo_run, tmp_path, capsys):
    """curate filter, tune, mix, inspect-manifest and MixtureDataset on s3:// URIs."""
    from curate.loader import MixtureDataset
    from curate.storage import use

    sets = [a for item in [*demo_paths(demo_crawl), *s3.settings] for a in ("--set", item)]
    loose = ["--set", "quality.gopher_quality.min_words=10", "--set", "language.keep=[en, de]"]
    assert main(["filter", DEMO, "--signals", s3.uri("out"), "--output", s3.uri("refiltered"),
                 *sets, *loose]) == 0  # fmt: skip
    refiltered = s3.read_json("refiltered/stats.json")
    assert refiltered["stages"][-1]["out"] > demo_run[0]["stages"][-1]["out"]
    # tune compares the config file with it + --set: a file holding the test's paths.
    config = tmp_path / "demo-s3.yaml"
    cfg = demo_config(demo_crawl, Path("-"), s3.settings)
    config.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    assert main(["tune", str(config), "--signals", s3.uri("out"), *loose]) == 0
    assert "newly kept" in capsys.readouterr().out
    assert "out/tune/tune.json" in s3.keys("out/tune")

    os.environ.update(s3.env)  # the tools without a config read the standard variables
    use(None)._filesystems.clear()
    try:
        assert main(["inspect-manifest", s3.uri("out")]) == 0
        assert "tokenizer cl100k_base" in capsys.readouterr().out
        target = s3.uri("out/manifest-child.json")
        assert main(["mix", s3.uri("out"), "--method", "unimax", "--output", target]) == 0
        assert "out/manifest-child.json" in s3.keys("out/manifest-child")
        remote = MixtureDataset(s3.uri("out/manifest.json"), seq_len=64)
        local = MixtureDataset(demo_run[1] / "manifest.json", seq_len=64)
        for a, b, _ in zip(remote, local, range(20), strict=False):
            assert a["domain"] == b["domain"] and (a["tokens"] == b["tokens"]).all()
    finally:
        for key in s3.env:
            os.environ.pop(key, None)
        use(None)._filesystems.clear()


def _cli(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    full = {**os.environ, **env, "PYSPARK_PYTHON": sys.executable}
    return subprocess.Popen([CURATE, *args], env=full, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _demo_args(demo_crawl: Path, s3, out: str) -> list[str]:
    sets = [a for item in demo_paths(demo_crawl) for a in ("--set", item)]
    return ["run", DEMO, "--input", s3.uri("crawl/*.warc.gz"), "--output", s3.uri(out), *sets,
            "--set", "spark.master=local[2]", "--set", "spark.progress=false"]  # fmt: skip


@pytest.mark.slow
def test_kill_and_resume_on_s3(s3_run, s3, demo_crawl, demo_run, tmp_path):
    """SIGKILL once the first WARC's part is committed; the rerun redoes none of the
    committed parts and gives the same output."""
    prefix = "killed/stages/extract/parts/"
    proc = _cli(_demo_args(demo_crawl, s3, "killed"), s3.env)
    deadline = time.time() + 300
    try:
        while not [k for k in s3.keys(prefix) if k.endswith(".json")]:
            assert proc.poll() is None, proc.stderr.read()[-3000:]
            assert time.time() < deadline, "no WARC finished within 300 s"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    time.sleep(1)
    before = {k: v for k, v in s3.keys(prefix).items() if k.endswith(".json")}
    assert 1 <= len(before) < 4
    rerun = _cli(_demo_args(demo_crawl, s3, "killed"), s3.env)
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err[-3000:]
    after = s3.keys(prefix)
    assert {k: after[k] for k in before} == before  # committed parts not redone
    assert len([k for k in after if k.endswith(".json")]) == 4
    local = s3.download("killed", tmp_path / "killed")
    _same_documents(local, demo_run[1])
    _same_shards(local, demo_run[1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fails_before_spark(args: list[str], env: dict[str, str], *expected: str) -> None:
    proc = _cli(args, env)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err[-2000:]
    assert "Traceback" not in err and "log4j" not in err  # one message, before Spark
    for text in expected:
        assert text in err, err


def test_bad_endpoint_bucket_or_credentials_fail_before_spark(s3, demo_crawl):
    args = _demo_args(demo_crawl, s3, "never")
    unreachable = {**s3.env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{_free_port()}"}
    _fails_before_spark(args, unreachable, "s3://curate-test/crawl", "list failed")
    missing = [a.replace("s3://curate-test/never", "s3://no-such-bucket/out") for a in args]
    _fails_before_spark(missing, s3.env, "s3://no-such-bucket/out", "cannot write there")
    # A second server that checks credentials (moto's IAM auth, on after the request that
    # makes the bucket).
    port = _free_port()
    auth = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline
                time.sleep(0.2)
        import boto3

        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="x",
                     aws_secret_access_key="x", region_name="us-east-1").create_bucket(
            Bucket=s3.bucket)  # fmt: skip
        wrong = {**s3.env, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "AKIAWRONG0000000"}
        _fails_before_spark(args, wrong, "s3://curate-test/crawl", "INVALID_ACCESS_KEY_ID")
    finally:
        auth.terminate()
        auth.wait(timeout=30)


@pytest.mark.slow
def test_write_failure_mid_run_names_the_uri_and_the_rerun_resumes(s3, demo_crawl, demo_run):
    """The endpoint goes away after extract: the run fails naming an s3:// URI; once it is
    back, the rerun reuses extract and finishes with the same output."""
    proc = _cli(_demo_args(demo_crawl, s3, "broken"), s3.env)
    deadline = time.time() + 300
    while "broken/stages/extract/_STAGE.json" not in s3.keys("broken/stages/extract"):
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        assert time.time() < deadline
        time.sleep(0.2)
    s3.server.stop()
    try:
        _, err = proc.communicate(timeout=600)
    finally:
        s3.restart()
    assert proc.returncode == 1, err[-3000:]
    said = [line for line in err.splitlines() if line.startswith("curate: stage ")]
    assert len(said) == 1 and " failed: s3://curate-test/broken/" in said[0], err[-3000:]
    rerun = _cli([*_demo_args(demo_crawl, s3, "broken")], s3.env)
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err[-3000:]
    stats = s3.read_json("broken/stats.json")
    assert stats["run"]["stages_reused"] == ["extract"]
