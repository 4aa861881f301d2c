"""Built benchmark indexes kept between runs, as dolma keeps its decontamination Bloom
filter: the index depends only on the benchmark files, the n-gram settings and the code
that reads and hashes them, so it is stored under a hash of exactly those and reused by
every later run (reading the benchmarks and hashing ~1.4M n-grams is seconds of driver
time a run; loading the stored arrays is milliseconds).

Stored as one ``.npz`` (arrays, and the item list as JSON bytes; no pickle, so a shared
cache folder cannot run code), written whole or not at all (``Storage.open_output``). A
file that cannot be read is rebuilt and replaced; a cache that cannot be written is
logged and the run goes on with the index it built.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import unicodedata
from importlib import import_module
from importlib.metadata import version

import numpy as np

from curate import storage
from curate.config import BenchmarkSource, DecontamConfig
from curate.decontam.benchmarks import load_benchmark, source_files
from curate.decontam.index import NgramIndex, build_index
from curate.storage import Storage, StorageError, is_local, join

log = logging.getLogger(__name__)

# Bumped when the stored layout changes.
LAYOUT = 1
# The code an index's content depends on: any change to it is a new key.
_CODE = ("curate.decontam.benchmarks", "curate.decontam.index", "curate.text.ngrams",
         "curate.text.wordhash", "curate.text.charfold")  # fmt: skip


def _source(source: BenchmarkSource) -> dict:
    files = [storage.sha256(f) for f in source_files(source)]
    return {"name": source.name, "format": source.format, "fields": source.fields,
            "files": files}  # fmt: skip


def index_key(cfg: DecontamConfig) -> str:
    """sha256 of everything the index is built from: each benchmark's name, format, fields
    and files' bytes, the n-gram settings, the code and the Unicode tables it folds with."""
    parts = {
        "layout": LAYOUT,
        "ngram": cfg.ngram,
        "min_item_words": cfg.min_item_words,
        "sources": [_source(s) for s in cfg.benchmarks],
        "code": [storage.sha256(import_module(m).__file__) for m in _CODE],
        "unicode": unicodedata.unidata_version,
        "regex": version("regex"),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _encode(idx: NgramIndex, key: str) -> bytes:
    meta = {"key": key, "items": idx.items, "lengths": idx.lengths,
            "n_items": idx.n_items, "too_short": idx.too_short}  # fmt: skip
    out = io.BytesIO()
    np.savez(out, hashes=idx.hashes, item_of=idx.item_of,
             meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))  # fmt: skip
    return out.getvalue()


def _decode(data: bytes, key: str) -> NgramIndex:
    with np.load(io.BytesIO(data), allow_pickle=False) as f:
        meta = json.loads(f["meta"].tobytes())
        if meta["key"] != key:
            raise ValueError(f"holds index {meta['key']}")
        return NgramIndex(
            hashes=f["hashes"], item_of=f["item_of"],
            items=[(b, i) for b, i in meta["items"]], lengths=tuple(meta["lengths"]),
            n_items=meta["n_items"], too_short=meta["too_short"],
        )  # fmt: skip


def cache_folder(cfg: DecontamConfig) -> str | None:
    """``index_cache`` with ``~`` expanded on a local path; None when off."""
    folder = cfg.index_cache
    if not folder:
        return None
    return os.path.expanduser(folder) if is_local(folder) else folder


def benchmark_index(cfg: DecontamConfig, st: Storage) -> NgramIndex:
    """The index of ``cfg.benchmarks``: from the cache when it holds this key, else built
    (and stored there)."""
    folder = cache_folder(cfg)
    if folder is None:
        return _build(cfg)
    key = index_key(cfg)
    uri = join(folder, f"{key}.npz")
    if st.is_file(uri):
        try:
            return _decode(st.read_bytes(uri), key)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("decontam index cache %s: unreadable (%s); rebuilding it", uri, exc)
    built = _build(cfg)
    try:
        st.write_bytes(uri, _encode(built, key))
    except (OSError, StorageError) as exc:
        log.warning("decontam index cache %s: not written (%s)", uri, exc)
    return built


def _build(cfg: DecontamConfig) -> NgramIndex:
    items = [item for source in cfg.benchmarks for item in load_benchmark(source)]
    return build_index(items, cfg.ngram, cfg.min_item_words)
