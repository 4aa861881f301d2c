"""Per-document dedup keys over an Arrow batch (no Spark): URL key, content hash,
shingle set and LSH band keys."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from curate.dedup.lines import cut_lines
from curate.dedup.minhash import band_keys, batch_shingle_hashes, batch_token_hashes, signatures

if TYPE_CHECKING:
    from curate.config import DedupConfig

KEYS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("url_key", pa.string()),
        ("content_hash", pa.int64()),
        ("n_shingles", pa.int32()),
        ("shingle_set", pa.list_(pa.int64())),
        ("bands", pa.list_(pa.int64())),
    ]
)
# The columns of signatures/ (keys + crawl_date): what dedup.against compares with.
SIGNATURE_COLUMNS = [
    "id", "crawl_date", "url_key", "content_hash", "n_shingles", "shingle_set", "bands",
]  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_key(url: str | None) -> str | None:
    """Scheme and host lower-cased, default port, fragment and trailing slash dropped."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def content_hash(token_hashes: np.ndarray) -> int:
    """Hash of a document's normalised tokens (their XXH64 hashes, in order) as a signed
    64-bit integer (Spark's bigint): equal for texts that normalise alike."""
    return xxhash.xxh3_64_intdigest(token_hashes.astype("<u8").tobytes()) - (1 << 63)


def keys_batch(
    batch: pa.RecordBatch,
    ngram: int,
    num_perm: int,
    seed: int,
    bands: int,
    rows: int,
    unit: str = "words",
) -> pa.RecordBatch:
    ids, urls = batch.column("id").to_pylist(), batch.column("url").to_pylist()
    w, word_offsets = batch_token_hashes(batch.column("text"), unit)
    hashes, offsets = batch_shingle_hashes(w, word_offsets, ngram)
    out: dict[str, list] = {f.name: [] for f in KEYS_SCHEMA}
    sets = [np.unique(hashes[lo:hi]) for lo, hi in itertools.pairwise(offsets.tolist())]
    set_offsets = np.concatenate([[0], np.cumsum([len(s) for s in sets])])
    flat = np.concatenate(sets) if sets else np.empty(0, dtype=np.uint32)
    sigs = signatures(flat, set_offsets, num_perm, seed)
    for i, (doc_id, url, doc_set) in enumerate(zip(ids, urls, sets, strict=True)):
        out["id"].append(doc_id)
        out["url_key"].append(url_key(url))
        out["content_hash"].append(content_hash(w[word_offsets[i] : word_offsets[i + 1]]))
        out["n_shingles"].append(int(doc_set.size))
        out["shingle_set"].append(doc_set.astype(np.int64).tolist())
        out["bands"].append(band_keys(sigs[i], bands, rows) if doc_set.size else [])
    return pa.RecordBatch.from_pydict(out, schema=KEYS_SCHEMA)


def cut_and_key_batch(
    batch: pa.RecordBatch, schema: pa.Schema, bands: int, rows: int, cfg: DedupConfig
) -> pa.RecordBatch:
    """A batch of documents (with ``cut``: the repeated line keys to cut, or null) as
    ``schema``: its columns with the lines cut (``text``, ``n_chars``), the characters cut
    (``line_chars_removed``) and the keys of the cut text (KEYS_SCHEMA's columns)."""
    texts = batch.column("text").to_pylist()
    cuts = batch.column("cut").to_pylist() if "cut" in batch.schema.names else [None] * len(texts)
    cut = [cut_lines(t or "", c) for t, c in zip(texts, cuts, strict=True)]
    text = pa.array([t for t, _ in cut], pa.string())
    docs = pa.RecordBatch.from_arrays(
        [batch.column("id"), batch.column("url"), text], names=["id", "url", "text"]
    )
    keys = keys_batch(docs, cfg.ngram, cfg.num_perm, cfg.seed, bands, rows, cfg.shingles)
    columns = {
        **{name: batch.column(name) for name in batch.schema.names},
        **{name: keys.column(name) for name in KEYS_SCHEMA.names},
        "text": text,
        "n_chars": pc.cast(pc.utf8_length(text), pa.int32()),
        "line_chars_removed": pa.array([n for _, n in cut], pa.int32()),
    }
    return pa.RecordBatch.from_arrays([columns[f.name] for f in schema], schema=schema)
