"""Corpus-wide repeated-line removal (CCNet, Wenzek et al. 2020, Sec. 3.2; C4's spirit).

A line that appears in more than ``dedup.line_max_docs`` documents of the run is boilerplate
(menus, cookie notices, licence footers): it is cut from every document. Lines are compared
after normalisation (lower case, ASCII digits to 0, whitespace folded and trimmed).

Lines are hashed in Python (``line_keys``: one 64-bit key per distinct line of a document);
Spark only counts the keys and hands each document holding a repeated line the keys to
cut (``repeated_lines``, ``keys_to_cut``); ``cut_lines`` rebuilds the text. No line text
is ever shuffled.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import xxhash
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

_ZEROS = str.maketrans("123456789", "000000000")
LINE_KEYS_SCHEMA = pa.schema([("id", pa.string()), ("line_keys", pa.list_(pa.int64()))])


def line_key(line: str) -> int | None:
    """The normalised line's XXH3 hash as a signed 64-bit integer; None for a blank line."""
    folded = " ".join(line.lower().split()).translate(_ZEROS)
    if not folded:
        return None
    return xxhash.xxh3_64_intdigest(folded.encode("utf-8")) - (1 << 63)


def line_keys(text: str) -> list[int]:
    """The distinct keys of a text's non-blank lines, sorted."""
    keys = {line_key(line) for line in text.split("\n")}
    keys.discard(None)
    return sorted(keys)  # type: ignore[arg-type]


def line_keys_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """(id, line_keys) for a batch of (id, text)."""
    keys = [line_keys(t or "") for t in batch.column("text").to_pylist()]
    return pa.RecordBatch.from_arrays(
        [batch.column("id"), pa.array(keys, pa.list_(pa.int64()))], schema=LINE_KEYS_SCHEMA
    )


def cut_lines(text: str, cut: np.ndarray | list[int] | None) -> tuple[str, int]:
    """The text without the lines whose key is in ``cut``, and the characters removed
    (each cut line with its newline)."""
    if cut is None or len(cut) == 0:
        return text, 0
    drop = set(cut)
    kept, removed = [], 0
    for line in text.split("\n"):
        if line_key(line) in drop:
            removed += len(line) + 1
        else:
            kept.append(line)
    return "\n".join(kept), removed


def repeated_lines(keys: DataFrame, max_docs: int) -> DataFrame:
    """(key, n_docs) of the lines found in more than ``max_docs`` documents, from
    (id, line_keys) rows (each document's keys distinct)."""
    return (
        keys.select(F.explode("line_keys").alias("key"))
        .groupBy("key")
        .agg(F.count(F.lit(1)).alias("n_docs"))
        .where(F.col("n_docs") > max_docs)
    )


def keys_to_cut(keys: DataFrame, repeated: DataFrame) -> DataFrame:
    """(id, cut): the repeated keys of each document that holds any."""
    exploded = keys.select("id", F.explode("line_keys").alias("key"))
    return (
        exploded.join(repeated.select("key"), "key", "left_semi")
        .groupBy("id")
        .agg(F.array_sort(F.collect_list("key")).alias("cut"))
    )
