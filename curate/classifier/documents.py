"""Training documents from files: .txt (documents separated by a blank line), .jsonl and
.jsonl.gz (field ``text``), .parquet (column ``text``); or a sample of a run's extracted
documents (DCLM's negatives are random crawl)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
from dataclasses import dataclass

import pyarrow.parquet as pq
import xxhash

from curate.config import ConfigError
from curate.storage import Storage, join
from curate.tables import Table

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
SUFFIXES = (".txt", ".jsonl", ".jsonl.gz", ".parquet")


@dataclass(frozen=True)
class Source:
    """What one input gave: its URI, sha256 and document count (the model card's record)."""

    uri: str
    sha256: str
    documents: int


def _texts(uri: str, data: bytes) -> list[str]:
    if uri.endswith(".txt"):
        return [d.strip() for d in _BLANK_LINE.split(data.decode("utf-8")) if d.strip()]
    if uri.endswith(".parquet"):
        table = pq.read_table(io.BytesIO(data), columns=["text"])
        return [t for t in table.column("text").to_pylist() if t and t.strip()]
    raw = gzip.decompress(data) if uri.endswith(".gz") else data
    out = []
    for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            text = json.loads(line)["text"]
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{uri}: line {n}: not a JSON object with a 'text' field") from None
        if isinstance(text, str) and text.strip():
            out.append(text)
    return out


def read_documents(st: Storage, patterns: list[str], flag: str) -> tuple[list[str], list[Source]]:
    """Every document of the files the patterns (paths or globs) match, in file order."""
    docs: list[str] = []
    sources: list[Source] = []
    for pattern in patterns:
        uris = st.glob(pattern)
        if not uris:
            raise ConfigError(f"{flag} {pattern}: no file matches")
        for uri in uris:
            if not uri.endswith(SUFFIXES):
                raise ConfigError(f"{flag} {uri}: not one of {', '.join(SUFFIXES)}")
            data = st.read_bytes(uri)
            try:
                texts = _texts(uri, data)
            except (UnicodeDecodeError, OSError, EOFError) as exc:
                raise ConfigError(f"{flag} {uri}: unreadable ({exc})") from None
            docs += texts
            sources.append(Source(uri, hashlib.sha256(data).hexdigest(), len(texts)))
    return docs, sources


def run_documents(st: Storage, run_dir: str, sample: int | None, seed: int) -> list[str]:
    """Documents the run's extract stage kept, ``sample`` of them (by a seeded hash of
    their id, so the same run gives the same sample)."""
    marker = st.read_json_or_none(join(run_dir, "stages", "extract", "_STAGE.json"))
    if marker is None:
        raise ConfigError(f"--negative-from {run_dir}: no finished extract stage there")
    table = Table.from_json(marker["tables"]["documents"], run_dir)
    rows: list[tuple[int, str]] = []
    for uri in table.uris:
        part = pq.read_table(st.open_random(uri), columns=["id", "text", "reason"])
        for doc_id, text, reason in zip(*(part.column(c).to_pylist() for c in part.column_names),
                                        strict=True):  # fmt: skip
            if reason is None and text and text.strip():
                rows.append((xxhash.xxh64_intdigest(doc_id.encode(), seed), text))
    rows.sort()
    return [text for _, text in rows[:sample]]
