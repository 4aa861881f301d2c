"""The documents every benchmark runs on: curate's extraction of ../shared/data/warc/docs-crawl/."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from curate.config import ExtractConfig
from curate.extract.records import ingest_file
from curate.langid import load_model, predict

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FOLDER = SHARED / "warc" / "docs-crawl"


def _docs_of(path: str, extractor: str) -> list[tuple[str, str]]:
    return [
        (r["id"], r["text"])
        for b in ingest_file(path, ExtractConfig(extractor=extractor))
        for r in b.to_pylist()
        if r["reason"] is None
    ]


def documents(files: int, extractor: str = "trafilatura") -> list[tuple[str, str]]:
    """(id, text) of every extracted document of the first ``files`` WARC files."""
    paths = sorted(FOLDER.glob("*.warc.gz"))[:files]
    with ProcessPoolExecutor() as pool:
        chunks = pool.map(partial(_docs_of, extractor=extractor), map(str, paths))
        return [d for chunk in chunks for d in chunk]


def english(docs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    model = load_model()
    return [d for d in docs if predict(model, d[1])[0] == "en"]
