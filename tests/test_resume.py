"""Resume and reruns: a killed run picks up where it stopped, reruns redo exactly the
stages whose settings changed (or those named by --from), and the output never differs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from curate import runner
from curate.config import ConfigError, ExtractConfig
from curate.pipeline import STAGE_NAMES, run
from curate.runner import resolve_stage, stage_key
from curate.stages.extract import PARTS, _prepare
from curate.storage import use
from tests.conftest import ROOT, assert_same_output, demo_config, demo_paths

ALL = list(STAGE_NAMES)


def _parts(out: Path) -> dict[str, tuple[int, int]]:
    """The finished WARCs' parts (a part counts once its marker is written)."""
    folder = out / "stages" / "extract" / PARTS
    names = [json.loads(m.read_text())["name"] for m in folder.glob("*.json")]
    return {n: ((folder / n).stat().st_ino, (folder / n).stat().st_mtime_ns) for n in names}


def _counts(stats: dict) -> list[dict]:
    return [{k: v for k, v in s.items() if k != "seconds"} for s in stats["stages"]]


def _kill_when(demo_crawl: Path, out: Path, done: Callable[[], bool]) -> None:
    """Start `curate run` on the demo crawl and SIGKILL it as soon as ``done()``."""
    overrides = [arg for item in demo_paths(demo_crawl) for arg in ("--set", item)]
    cmd = [
        str(Path(sys.executable).parent / "curate"),
        *("run", str(ROOT / "configs" / "demo.yaml")),
        *("--input", f"{demo_crawl}/*.warc.gz", "--output", str(out)),
        *(*overrides, "--set", "spark.master=local[2]"),
    ]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    try:
        while not done():
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            assert time.time() < deadline, "not there within 300 s"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    time.sleep(1)  # the killed Python workers may still finish a part


def _kill_during_extract(demo_crawl: Path, out: Path) -> dict[str, tuple[int, int]]:
    """SIGKILL `curate run` once the first WARC is done; the finished parts."""
    _kill_when(demo_crawl, out, lambda: bool(_parts(out)))
    return _parts(out)


@pytest.fixture(scope="module")
def resumed(spark, demo_crawl, tmp_path_factory):
    out = tmp_path_factory.mktemp("resumed")
    before = _kill_during_extract(demo_crawl, out)
    cfg = demo_config(demo_crawl, out, ["spark.progress=false"])
    return cfg, before, run(cfg, spark=spark)


def test_resume_after_kill_redoes_only_unfinished_work(resumed, demo_run):
    cfg, before, stats = resumed
    out = Path(cfg.output.dir)
    assert 1 <= len(before) < 4, "the kill should land while WARCs remain"
    after = _parts(out)
    assert len(after) == 4
    assert {name: after[name] for name in before} == before  # finished WARCs not redone
    assert stats["run"] == {"stages_run": ALL, "stages_reused": []}
    assert_same_output(out, demo_run[1])
    assert _counts(stats) == _counts(demo_run[0])


@pytest.mark.slow
def test_reruns_redo_exactly_what_changed(resumed, spark, demo_crawl, demo_run):
    cfg, _, _ = resumed
    out = Path(cfg.output.dir)

    def rerun(overrides: list[str], from_stage: str | None = None) -> list[str]:
        new = demo_config(demo_crawl, out, ["spark.progress=false", *overrides])
        stats = run(new, spark=spark, from_stage=from_stage)
        assert sorted(stats["run"]["stages_run"] + stats["run"]["stages_reused"]) == sorted(ALL)
        return stats["run"]["stages_run"]

    documents = {p.name: p.stat().st_mtime_ns for p in (out / "documents").glob("part-*")}
    assert rerun([]) == []
    assert rerun([f"decontam.index_cache={out.parent / 'index-cache'}"]) == []  # not a result
    assert {p.name: p.stat().st_mtime_ns for p in (out / "documents").glob("part-*")} == documents

    assert rerun([], from_stage="pii") == ["pii", "decontam", "publish", "mixture"]
    assert_same_output(out, demo_run[1])

    # A threshold: signals are reused, thresholds applied again, everything after redone.
    assert rerun(["language.min_score=0.9"]) == ALL[2:]
    assert rerun(["language.min_score=0.9", "pii.replace.EMAIL_ADDRESS=<MAIL>"]) == ALL[4:]
    # Back to the first settings: the same output as the uninterrupted run.
    assert rerun([]) == ALL[2:]
    assert_same_output(out, demo_run[1])


@pytest.mark.slow
def test_kills_at_each_stage_boundary_resume_to_the_same_bytes(
    spark, demo_crawl, demo_run, tmp_path
):
    """SIGKILL as soon as the annotate marker is written, rerun and SIGKILL once the filter
    marker is, then once the dedup marker is, then run to the end: no finished stage is
    redone (its marker is the first one written) and documents/ and the shards are
    byte-identical to an uninterrupted run's."""
    written = {}
    for stage in ("annotate", "filter", "dedup"):
        marker = tmp_path / "stages" / stage / "_STAGE.json"
        _kill_when(demo_crawl, tmp_path, marker.is_file)
        written[stage] = marker.stat().st_mtime_ns
    stats = run(demo_config(demo_crawl, tmp_path, ["spark.progress=false"]), spark=spark)
    assert stats["run"]["stages_reused"][:4] == ["extract", "annotate", "filter", "dedup"]
    for stage, mtime in written.items():
        assert (tmp_path / "stages" / stage / "_STAGE.json").stat().st_mtime_ns == mtime
    assert_same_output(tmp_path, demo_run[1])


def test_another_extract_config_starts_the_parts_afresh(tmp_path):
    st = use(None)
    parts = Path(_prepare(st, str(tmp_path), ExtractConfig()))
    parts.mkdir(parents=True)  # the layer makes no folders: object stores have none
    (parts / "a.parquet").write_bytes(b"x")
    assert (Path(_prepare(st, str(tmp_path), ExtractConfig())) / "a.parquet").exists()
    assert not (
        Path(_prepare(st, str(tmp_path), ExtractConfig(timeout_s=2))) / "a.parquet"
    ).exists()


def test_stage_keys_follow_settings_files_and_upstream(tmp_path):
    model = tmp_path / "model.bin"
    model.write_bytes(b"one")
    key = stage_key("up", "annotate", {"model": str(model)})
    assert key == stage_key("up", "annotate", {"model": str(model)})
    assert key != stage_key("other", "annotate", {"model": str(model)})
    assert key != stage_key("up", "annotate", {"model": str(model), "x": 1})
    model.write_bytes(b"a new model")
    assert key != stage_key("up", "annotate", {"model": str(model)})
    model.write_bytes(b"one")  # retrained to the same bytes: the same model
    assert key == stage_key("up", "annotate", {"model": str(model)})


def test_fingerprint_hashes_content_within_its_budget(tmp_path, monkeypatch):
    small, big = tmp_path / "a.txt", tmp_path / "b.bin"
    small.write_bytes(b"x" * 10)
    big.write_bytes(b"y" * 100)
    monkeypatch.setattr(runner, "HASH_BUDGET_BYTES", 50)
    ids = runner.fingerprint({"folder": str(tmp_path)})
    assert len(ids[str(small)]) == 64  # sha256 of the content
    assert ids[str(big)].startswith("size 100 mtime ")  # over the budget: not read


def test_from_names_a_stage():
    from curate.cli import build_parser

    run_parser = build_parser()._subparsers._group_actions[0].choices["run"]
    help_text = next(a.help for a in run_parser._actions if a.dest == "from_stage")
    assert help_text.endswith(", ".join(ALL) + ")")  # the CLI help names STAGES' stages
    assert resolve_stage("dedup", ALL) == "dedup"
    with pytest.raises(ConfigError, match="--from qualty: not a stage; choose one of extract"):
        resolve_stage("qualty", ALL)
