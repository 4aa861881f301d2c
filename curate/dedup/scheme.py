"""What makes the dedup keys of two runs comparable: written beside a run's signatures/
(not inside it, where readers of the folder would trip over a file that is not Parquet),
checked before an earlier run's signatures are used (``dedup.against``)."""

from __future__ import annotations

from typing import Any

from curate.config import ConfigError, DedupConfig
from curate.storage import Storage, absolute, join

SCHEME_FILE = "signature_keys.json"
# Names the word normalisation and the hashes; changes whenever they do, so that keys made
# by another version are refused instead of silently matching nothing.
HASHING = "normalize-v1 xxh64-words poly64-shingles affine32-minhash xxh3-bands"


def key_scheme(cfg: DedupConfig) -> dict[str, Any]:
    bands, rows = cfg.banding()
    return {
        "hashing": HASHING,
        "shingles": cfg.shingles,
        "ngram": cfg.ngram,
        "num_perm": cfg.num_perm,
        "seed": cfg.seed,
        "bands": bands,
        "rows": rows,
    }


def check_against(cfg: DedupConfig, st: Storage) -> None:
    """Every ``dedup.against`` output has signatures made the way this run makes them."""
    ours = key_scheme(cfg)
    for folder in cfg.against:
        path = join(absolute(folder), SCHEME_FILE)
        theirs = st.read_json_or_none(path)
        if theirs is None:
            raise ConfigError(
                f"dedup.against: {path} not found: {folder} is not a curate output with "
                "dedup signatures (or was written by curate < 0.4)"
            )
        for key, value in ours.items():
            if theirs.get(key) != value:
                raise ConfigError(
                    f"dedup.against: {path}: {key} is {theirs.get(key)!r} where this run "
                    f"uses {value!r}; the two runs' signatures cannot be compared"
                )
