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
    """The demo crawl and its models, as `curate demo` writes them."""
    from curate.demo.models import train_demo_models

    out = tmp_path_factory.mktemp("demo-crawl")
    write_demo_crawl(out)
    train_demo_models(out)
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
        "quality.classifiers=[{name: demo, path: "
        f"{demo_crawl / 'models' / 'quality' / 'model.bin'}, languages: [en]}}]",
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
    """Byte-identical documents and signatures (file by file) and the same shards (bytes,
    sha256, tokens)."""
    import pyarrow.parquet as pq

    stats = json.loads((out / "stats.json").read_text())
    assert stats["stages"][-1]["out"] == pq.read_table(out / "documents").num_rows
    for table in ("documents", "signatures"):
        parts = sorted(p.name for p in (reference / table).glob("part-*"))
        assert parts == sorted(p.name for p in (out / table).glob("part-*"))
        for part in parts:
            ours, theirs = out / table / part, reference / table / part
            assert pq.read_table(theirs).equals(pq.read_table(ours)), part
            assert ours.read_bytes() == theirs.read_bytes(), part
    ours = json.loads((out / "manifest.json").read_text())
    theirs = json.loads((reference / "manifest.json").read_text())
    assert ours["domains"] == theirs["domains"]


class S3:
    """A real S3 API (moto's server) on a free 127.0.0.1 port, with one bucket."""

    bucket = "curate-test"

    def __init__(self) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",  # never ask a metadata service
        }
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        self.client.create_bucket(Bucket=self.bucket)

    def restart(self) -> None:
        """A new server on the same port; moto keeps the buckets in this process."""
        from moto.server import ThreadedMotoServer

        port = int(self.endpoint.rsplit(":", 1)[1])
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.server.start()

    @property
    def settings(self) -> list[str]:
        """--set overrides that point a run at this server (for the in-process runs, whose
        executors were started before these variables existed)."""
        return [
            f"storage.endpoint_url={self.endpoint}",
            "storage.access_key_id=testing",
            "storage.secret_access_key=testing",
        ]

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def upload(self, folder: Path, prefix: str, pattern: str = "*") -> None:
        for path in sorted(folder.glob(pattern)):
            if path.is_file():
                self.client.upload_file(str(path), self.bucket, f"{prefix}/{path.name}")

    def read_json(self, key: str):
        return json.loads(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def keys(self, prefix: str) -> dict[str, str]:
        """Key -> ETag of every object under ``prefix``."""
        out = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            out.update({o["Key"]: o["ETag"] for o in page.get("Contents", [])})
        return out

    def download(self, prefix: str, target: Path) -> Path:
        for key in self.keys(prefix):
            if key.endswith("/"):  # a folder marker (pyarrow keeps emptied folders)
                continue
            dest = target / key[len(prefix) :].lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(self.bucket, key, str(dest))
        return target


@pytest.fixture(scope="session")
def s3():
    server = S3()
    yield server
    server.server.stop()
