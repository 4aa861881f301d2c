"""Near-dedup: signature speed vs datasketch, pair quality vs exact Jaccard, and scale.

    python bench/dedup.py [--files N] [--scale 25000,50000,100000,200000]

1. Signatures, documents/s on one core: curate (compiled word hashing, vectorised
   shingle hashing, compiled MinHash) vs datasketch.MinHash.update_batch, same shingles,
   same hash function, same num_perm / seed / scheme (affine32).
2. Quality on the documents extracted from ../shared/data/warc/docs-crawl/: exact pairwise
   Jaccard of the 5-gram shingle sets (sparse matrix product) is the truth; pair precision
   and recall at 0.8 for curate's Spark LSH path (band buckets + exact verification) and for
   datasketch.MinHashLSH with the same bands and rows.
3. Scale: the whole dedup stage in local[2] on N synthetic documents (mutated copies of real
   text, so clusters exist): wall time and the driver's peak memory, per N.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from docs_crawl import FOLDER, documents
from scipy import sparse

from curate.config import SparkConfig
from curate.dedup.minhash import (
    batch_shingle_hashes,
    optimal_bands,
    shingle_hash,
    shingle_hashes,
    shingles,
    signatures,
)
from curate.text.wordhash import batch_word_hashes

NUM_PERM, SEED, NGRAM, THRESHOLD = 128, 1, 5, 0.8


def signature_speed(texts: list[str]) -> None:
    import pyarrow as pa
    from datasketch import MinHash

    def ours(batch: list[str]) -> None:
        w, word_offsets = batch_word_hashes(pa.array(batch))
        signatures(*batch_shingle_hashes(w, word_offsets, NGRAM), NUM_PERM, SEED)

    def datasketch(batch: list[str]) -> None:
        for t in batch:
            m = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=shingle_hash, scheme="affine32")
            m.update_batch(shingles(t, NGRAM))

    start = time.perf_counter()
    ours(texts[:10])  # once per process: numba loads (or compiles) kernels, the fold table
    setup = time.perf_counter() - start
    # Arrow batches of 1000, as the Spark stage sees them; the two sides take turns going
    # first, so that a drift in the machine's speed reaches both alike.
    spent = {ours: 0.0, datasketch: 0.0}
    for k, lo in enumerate(range(0, len(texts), 1000)):
        for side in (ours, datasketch)[:: 1 if k % 2 == 0 else -1]:
            start = time.perf_counter()
            side(texts[lo : lo + 1000])
            spent[side] += time.perf_counter() - start
    ours_s, theirs = spent[ours], spent[datasketch]
    n = len(texts)
    print(f"1. signatures, {n} docs, num_perm={NUM_PERM}, {NGRAM}-grams, one core")
    print(f"   curate     {n / ours_s:>9,.0f} docs/s   (Arrow batches of 1000; "
          f"{setup:.1f} s set-up once per process)")  # fmt: skip
    print(f"   datasketch {n / theirs:>9,.0f} docs/s   (update_batch)")
    print(f"   speed-up   {theirs / ours_s:>9.1f}x\n")


def true_pairs(sets: list[np.ndarray]) -> set[tuple[int, int]]:
    """Pairs (i < j) of documents whose shingle sets have Jaccard >= THRESHOLD."""
    vocab = {h: k for k, h in enumerate(np.unique(np.concatenate([s for s in sets if s.size])))}
    rows = np.repeat(np.arange(len(sets)), [s.size for s in sets])
    cols = np.array([vocab[h] for s in sets for h in s.tolist()], dtype=np.int64)
    m = sparse.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(sets), len(vocab))
    )
    inter = sparse.triu(m @ m.T, k=1).tocoo()
    sizes = np.array([s.size for s in sets])
    jac = inter.data / (sizes[inter.row] + sizes[inter.col] - inter.data)
    keep = jac >= THRESHOLD
    return set(zip(inter.row[keep].tolist(), inter.col[keep].tolist(), strict=True))


def pr(found: set, truth: set) -> tuple[float, float]:
    hit = len(found & truth)
    return (hit / len(found) if found else 1.0), (hit / len(truth) if truth else 1.0)


def quality(docs: list[tuple[str, str]], spark) -> None:
    from curate.dedup.stage import _candidate_pairs, _verified
    from datasketch import MinHash, MinHashLSH
    from pyspark.sql import functions as F

    from curate.dedup.keys import keys_batch

    bands, rows = optimal_bands(THRESHOLD, NUM_PERM)
    ids = [d[0] for d in docs]
    index = {doc_id: k for k, doc_id in enumerate(ids)}
    sets = [np.unique(shingle_hashes(t, NGRAM)) for _, t in docs]
    truth = true_pairs(sets)

    import pyarrow as pa

    batch = pa.RecordBatch.from_pydict(
        {"id": ids, "url": [None] * len(ids), "text": [t for _, t in docs]}
    )
    keys = keys_batch(batch, NGRAM, NUM_PERM, SEED, bands, rows).to_pandas()
    base = spark.createDataFrame(keys).withColumn("is_reference", F.lit(False))
    pairs = _verified(_candidate_pairs(base, 100), base, THRESHOLD).collect()
    ours = {tuple(sorted((index[p["a"]], index[p["b"]]))) for p in pairs}

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, params=(bands, rows))
    minhashes = []
    for k, (_, text) in enumerate(docs):
        m = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=shingle_hash, scheme="affine32")
        m.update_batch(shingles(text, NGRAM))
        minhashes.append(m)
        lsh.insert(k, m)
    theirs = {
        tuple(sorted((k, j))) for k, m in enumerate(minhashes) for j in lsh.query(m) if j != k
    }

    print(
        f"2. pair quality at Jaccard {THRESHOLD}, {len(docs)} docs-crawl documents, "
        f"{bands} bands x {rows} rows; {len(truth)} true pairs"
    )
    for name, found in (("curate (LSH + verify)", ours), ("datasketch MinHashLSH", theirs)):
        p, r = pr(found, truth)
        print(f"   {name:<24} precision {p:.4f}  recall {r:.4f}  ({len(found)} pairs)")
    print()


def mutate(text: str, rng: random.Random) -> str:
    words = text.split()
    for _ in range(max(1, len(words) // 100)):
        words[rng.randrange(len(words))] = rng.choice(["alpha", "beta", "gamma", "delta"])
    return " ".join(words)


def scale(docs: list[tuple[str, str]], sizes: list[int], spark) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.config import Config
    from curate.runner import Context
    from curate.stages.dedup import Dedup
    from curate.storage import use
    from curate.tables import list_table

    print("3. scale: dedup stage in local[2] on synthetic documents")
    print(f"   {'docs':>8}{'seconds':>10}{'docs/s':>10}{'py peak MB':>12}{'JVM heap MB':>13}")
    runtime = spark.sparkContext._jvm.java.lang.Runtime.getRuntime()
    base_texts = [t for _, t in docs if len(t.split()) >= 50]
    rng = random.Random(0)
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            # Written with pyarrow: the documents never pass through the Spark driver.
            path = Path(tmp) / "docs"
            path.mkdir()
            for part, lo in enumerate(range(0, n, 5000)):
                ids = list(range(lo, min(n, lo + 5000)))
                table = pa.table({
                    "id": [f"{i:012d}" for i in ids],
                    "url": [f"https://s{i % 997}.example/{i}" for i in ids],
                    "text": [mutate(base_texts[i % len(base_texts)], rng) for i in ids],
                    "crawl_date": pa.nulls(len(ids), pa.timestamp("us", tz="UTC")),
                })  # fmt: skip
                pq.write_table(table, path / f"part-{part:05d}.parquet")
            cfg = Config.model_validate({"input": {"paths": ["-"]}, "output": {"dir": tmp}})
            ctx = Context(spark, cfg, use(None), tmp, [], stage="dedup", n_in=n)
            start = time.perf_counter()
            stats = Dedup().run(ctx, list_table(ctx.st, str(path))).stats
            secs = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        heap = (runtime.totalMemory() - runtime.freeMemory()) / 2**20
        print(
            f"   {n:>8,}{secs:>10.1f}{n / secs:>10,.0f}{peak:>12,.0f}{heap:>13,.0f}"
            f"   removed {stats.removed}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--scale", default="25000,50000", help="comma-separated sizes, or ''")
    args = parser.parse_args()
    if not FOLDER.exists():
        print("skipped: ../shared/data/warc/docs-crawl not present")
        return 0
    docs = documents(args.files, extractor="resiliparse")
    signature_speed([t for _, t in docs])
    from curate.spark import build_session

    spark = build_session(SparkConfig(master="local[2]", shuffle_partitions=16, driver_memory="6g"))
    quality(docs, spark)
    sizes = [int(s) for s in args.scale.split(",") if s]
    if sizes:
        scale(docs, sizes, spark)
    return 0


if __name__ == "__main__":
    sys.exit(main())
