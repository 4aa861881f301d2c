"""Shared fixtures: one SparkSession for the whole run, the demo crawl, the shared data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.config import Config, SparkConfig, load_config
from curate.demo.crawl import write_demo_crawl
from curate.spark import build_session

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test where that data is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path


@pytest.fixture(scope="session")
def spark():
    session = build_session(SparkConfig(master="local[2]", shuffle_partitions=4))
    yield session
    session.stop()


@pytest.fixture(scope="session")
def demo_crawl(tmp_path_factory) -> Path:
    """The demo crawl and its English language model, as `curate demo` writes them."""
    from curate.perplexity.train import train_lm

    out = tmp_path_factory.mktemp("demo-crawl")
    write_demo_crawl(out)
    train_lm([str(out / "reference.txt")], "en", out / "models" / "en")
    return out


@pytest.fixture(scope="session")
def demo_truth(demo_crawl) -> dict[str, dict]:
    records = json.loads((demo_crawl / "truth.json").read_text())["records"]
    return {r["id"]: r for r in records}


def stage_context(spark, out: Path, sections: dict | None = None):
    """A runner Context for calling one stage's ``run`` directly, writing under ``out``."""
    from curate.runner import Context
    from curate.storage import use

    cfg = Config.model_validate({"input": {"paths": ["-"]}, "output": {"dir": str(out)},
                                 **(sections or {})})  # fmt: skip
    return Context(spark, cfg, use(cfg.storage), str(out), [], stage="test")


def make_config(inputs: list[str], out: Path, **extract) -> Config:
    return Config.model_validate(
        {
            "input": {"paths": inputs},
            "output": {"dir": str(out), "target_file_mb": 0.05},
            "extract": extract,
        }
    )


@pytest.fixture(scope="session")
def demo_run(spark, demo_crawl, tmp_path_factory):
    """The pipeline run once on the demo crawl: (stats, output dir)."""
    from curate.pipeline import run

    out = tmp_path_factory.mktemp("demo-out")
    stats = run(demo_config(demo_crawl, out), spark=spark)
    return stats, out


def demo_paths(demo_crawl: Path) -> list[str]:
    """--set overrides pointing configs/demo.yaml's demo-data/ paths at the test's crawl."""
    return [
        f"perplexity.models={{en: {demo_crawl / 'models' / 'en'}}}",
        "decontam.benchmarks=[{name: demo_benchmark, format: jsonl, "
        f"path: {demo_crawl / 'benchmark.jsonl'}, fields: [question, answer]}}]",
        f"mixture.sources=[{{domain: books, path: {demo_crawl / 'books.jsonl'}, format: jsonl}}]",
    ]


def demo_config(demo_crawl: Path, out: Path, overrides: list[str] | None = None) -> Config:
    """configs/demo.yaml, as `make demo` runs it, on the test's crawl, model and output."""
    overrides = [*demo_paths(demo_crawl), *(overrides or [])]
    return load_config(
        ROOT / "configs" / "demo.yaml", overrides, [str(demo_crawl / "*.warc.gz")], str(out)
    )


def assert_same_output(out: Path, reference: Path) -> None:
    """Same documents (file by file) and the same shards (bytes, sha256, tokens)."""
    import pyarrow.parquet as pq

    stats = json.loads((out / "stats.json").read_text())
    assert stats["stages"][-1]["out"] == pq.read_table(out / "documents").num_rows
    parts = sorted(p.name for p in (reference / "documents").glob("part-*"))
    assert parts == sorted(p.name for p in (out / "documents").glob("part-*"))
    for part in parts:
        assert pq.read_table(reference / "documents" / part).equals(
            pq.read_table(out / "documents" / part)
        )
    ours = json.loads((out / "manifest.json").read_text())
    theirs = json.loads((reference / "manifest.json").read_text())
    assert ours["domains"] == theirs["domains"]
