"""The published tables open in the readers trainers and engineers use: Hugging Face
datasets (also streaming), DuckDB, polars and pandas, with the same rows and types."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest


def _folders(out):
    shards = sorted(p for p in (out / "shards").iterdir() if p.is_dir())
    return {
        "documents": out / "documents",
        "removed": out / "removed",
        "signatures": out / "signatures",
        f"shards/{shards[0].name}": shards[0],
    }


@pytest.mark.parametrize("name", ["documents", "removed", "signatures", "shards"])
def test_published_tables_open_everywhere(demo_run, name, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    duckdb = pytest.importorskip("duckdb")
    polars = pytest.importorskip("polars")
    import pandas

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    _, out = demo_run
    ((label, folder),) = [(k, v) for k, v in _folders(out).items() if k.startswith(name)]
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    assert files, label
    expected = pa.concat_tables([pq.read_table(f) for f in files])
    assert expected.num_rows > 0

    hf = datasets.load_dataset(
        "parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf")
    )
    assert hf.num_rows == expected.num_rows
    assert hf.features.arrow_schema.names == expected.schema.names
    streamed = datasets.load_dataset("parquet", data_files=files, split="train", streaming=True)
    assert sum(1 for _ in streamed) == expected.num_rows
    if name == "documents":
        pii = hf.features["pii_counts"]
        assert pii.feature["entity"].dtype == "string" and pii.feature["count"].dtype == "int32"

    # A folder is a table: Parquet files, and _SUCCESS, which readers skip.
    assert polars.read_parquet(str(folder)).height == expected.num_rows
    assert pandas.read_parquet(str(folder)).shape[0] == expected.num_rows
    ((count,),) = duckdb.sql(f"select count(*) from read_parquet('{folder}/*.parquet')").fetchall()
    assert count == expected.num_rows
    assert polars.read_parquet(str(folder)).columns == expected.schema.names
