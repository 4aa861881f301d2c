"""Per-document dedup keys over an Arrow batch (pure Python): URL key, content hash,
shingle set and LSH band keys."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pyarrow as pa
import xxhash

from curate.dedup.minhash import (
    band_keys,
    batch_shingle_hashes,
    signature,
)
from curate.ngrams import normalize_batch

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
KEYS_DDL = (
    "id string, url_key string, content_hash bigint, n_shingles int, "
    "shingle_set array<bigint>, bands array<bigint>"
)
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


def _hash64(normalized: str) -> int:
    """xxh3-64 as a signed 64-bit integer (Spark's bigint)."""
    return xxhash.xxh3_64_intdigest(normalized.encode("utf-8")) - (1 << 63)


def keys_batch(
    batch: pa.RecordBatch, ngram: int, num_perm: int, seed: int, bands: int, rows: int
) -> pa.RecordBatch:
    ids, urls = batch.column("id").to_pylist(), batch.column("url").to_pylist()
    normalized = normalize_batch(batch.column("text"))
    shingle_sets = batch_shingle_hashes(normalized, ngram)
    out: dict[str, list] = {f.name: [] for f in KEYS_SCHEMA}
    for doc_id, url, norm, doc_hashes in zip(
        ids, urls, normalized.to_pylist(), shingle_sets, strict=True
    ):
        hashes = np.unique(doc_hashes)
        out["id"].append(doc_id)
        out["url_key"].append(url_key(url))
        out["content_hash"].append(_hash64(norm))
        out["n_shingles"].append(int(hashes.size))
        out["shingle_set"].append(hashes.astype(np.int64).tolist())
        sig = signature(hashes, num_perm, seed)
        out["bands"].append(band_keys(sig, bands, rows) if hashes.size else [])
    return pa.RecordBatch.from_pydict(out, schema=KEYS_SCHEMA)
