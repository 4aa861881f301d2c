"""Near-dedup: signature speed vs datasketch, pair quality vs exact Jaccard, and scale.

    python bench/dedup.py [--files N] [--scale 25000,50000,100000,200000]

1. Signatures, documents/s on one core: curate (compiled word hashing, vectorised
   shingle hashing, compiled MinHash) vs datasketch.MinHash.update_batch, same shingles,
   same hash function, same num_perm / seed / scheme (affine32).
2. Quality on the documents extracted from ../shared/data/warc/docs-crawl/: exact pairwise
   Jaccard of the 5-gram shingle sets (sparse matrix product) is the truth; pair precision
   and recall at 0.8 for curate's Spark LSH path (band buckets + exact verification) and for
   datasketch.MinHashLSH with the same bands and rows.
3. Near the threshold: mutated copies of real docs-crawl documents (2-35 % of the words
   deleted, replaced or inserted, paragraphs shuffled, boilerplate lines added), so that
   the true Jaccard of pairs spans 0.5-1.0. For each banding (the default, datasketch's
   equal-weight optimum 9 x 13, 16 x 8, FineWeb's 14 x 8 of 112 permutations, 20 x 6):
   recall per Jaccard band, candidate pairs per document and precision after
   verification; then the Spark path of the default banding on the same set.
4. Stage time: the whole dedup stage in local[2] on the docs-crawl documents, the default
   banding and 9 x 13 taking turns, best of two rounds.
5. Scale: the whole dedup stage in local[2] on N synthetic documents (mutated copies of real
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


def jaccard_pairs(sets: list[np.ndarray], floor: float) -> dict[tuple[int, int], float]:
    """Pairs (i < j) whose shingle sets have Jaccard >= ``floor``, with their Jaccard."""
    vocab = {h: k for k, h in enumerate(np.unique(np.concatenate([s for s in sets if s.size])))}
    rows = np.repeat(np.arange(len(sets)), [s.size for s in sets])
    cols = np.array([vocab[h] for s in sets for h in s.tolist()], dtype=np.int64)
    m = sparse.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(sets), len(vocab))
    )
    inter = sparse.triu(m @ m.T, k=1).tocoo()
    sizes = np.array([s.size for s in sets])
    jac = inter.data / (sizes[inter.row] + sizes[inter.col] - inter.data)
    keep = jac >= floor
    return dict(zip(zip(inter.row[keep].tolist(), inter.col[keep].tolist(), strict=True),
                    jac[keep].tolist(), strict=True))  # fmt: skip


def true_pairs(sets: list[np.ndarray]) -> set[tuple[int, int]]:
    """Pairs (i < j) of documents whose shingle sets have Jaccard >= THRESHOLD."""
    return set(jaccard_pairs(sets, THRESHOLD))


def pr(found: set, truth: set) -> tuple[float, float]:
    hit = len(found & truth)
    return (hit / len(found) if found else 1.0), (hit / len(truth) if truth else 1.0)


def quality(docs: list[tuple[str, str]], spark) -> None:
    from datasketch import MinHash, MinHashLSH
    from pyspark.sql import functions as F

    from curate.config import DedupConfig
    from curate.dedup.keys import keys_batch
    from curate.stages.dedup import _candidate_pairs, _verified

    bands, rows = DedupConfig().banding()
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


BOILERPLATE = [
    "Share this article on social media",
    "Subscribe to our newsletter for updates",
    "This site uses cookies to improve your experience",
    "All rights reserved. Terms of use and privacy policy",
    "Related posts you may also like",
]


def mutate_near(text: str, strength: float, kind: str, rng: random.Random) -> str:
    """A copy of ``text`` changed by ``kind`` on about ``strength`` of its words."""
    if kind == "shuffle":
        paragraphs = text.split("\n")
        rng.shuffle(paragraphs)
        text, kind, strength = "\n".join(paragraphs), "replace", strength / 4
    if kind == "boilerplate":
        lines = text.split("\n")
        for _ in range(max(1, int(strength * len(text.split()) / 6))):
            lines.insert(rng.randrange(len(lines) + 1), rng.choice(BOILERPLATE))
        return "\n".join(lines)
    words = text.split()
    n = max(1, int(strength * len(words)))
    for _ in range(n):
        i = rng.randrange(len(words))
        if kind == "delete" and len(words) > 10:
            del words[i]
        elif kind == "insert":
            words.insert(i, rng.choice(words))
        else:
            words[i] = rng.choice(["alpha", "beta", "gamma", "delta", "omega", "sigma"])
    return " ".join(words)


def near_threshold_set(docs: list[tuple[str, str]], n_base: int) -> list[tuple[str, str]]:
    rng = random.Random(7)
    base = [t for _, t in docs if len(t.split()) >= 150][:n_base]
    kinds = ("delete", "replace", "insert", "shuffle", "boilerplate")
    out = []
    for i, text in enumerate(base):
        out.append((f"b{i}", text))
        for k in range(3):
            kind = rng.choice(kinds)
            out.append((f"b{i}-{k}", mutate_near(text, rng.uniform(0.02, 0.35), kind, rng)))
    return out


BANDINGS = {  # name -> (bands, rows)
    "9 x 13 (equal weights)": (9, 13),
    "14 x 9": (14, 9),
    "16 x 8": (16, 8),
    "14 x 8 (FineWeb, 112 perm)": (14, 8),
    "20 x 6": (20, 6),
}
JACCARD_BANDS = [(0.5, 0.7), (0.7, 0.8), (0.8, 0.85), (0.85, 0.9), (0.9, 0.95), (0.95, 1.01)]


def _candidates(sigs: np.ndarray, bands: int, rows: int) -> set[tuple[int, int]]:
    buckets: dict[tuple[int, bytes], list[int]] = {}
    for doc, sig in enumerate(sigs):
        for b in range(bands):
            buckets.setdefault((b, sig[b * rows : (b + 1) * rows].tobytes()), []).append(doc)
    pairs = set()
    for members in buckets.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                pairs.add((members[x], members[y]))
    return pairs


def near_threshold(docs: list[tuple[str, str]], spark, n_base: int) -> None:
    import pyarrow as pa
    from pyspark.sql import functions as F

    from curate.config import DedupConfig
    from curate.dedup.keys import keys_batch
    from curate.stages.dedup import _candidate_pairs, _verified

    near = near_threshold_set(docs, n_base)
    sets = [np.unique(shingle_hashes(t, NGRAM)) for _, t in near]
    jac = jaccard_pairs(sets, 0.5)
    truth = {p for p, j in jac.items() if j >= THRESHOLD}
    w, offsets = batch_word_hashes(pa.array([t for _, t in near]))
    sigs = signatures(*batch_shingle_hashes(w, offsets, NGRAM), NUM_PERM, SEED)
    default = DedupConfig().banding()
    print(f"3. near the threshold: {len(near)} documents ({n_base} real ones and 3 mutated "
          f"copies each), {len(truth)} pairs at Jaccard >= {THRESHOLD}; default banding "
          f"{default[0]} x {default[1]}")  # fmt: skip
    bands_head = "".join(f"{f'{lo:.2f}-{min(hi, 1):.2f}':>11}" for lo, hi in JACCARD_BANDS)
    print(f"   {'banding':<28}{bands_head}{'R@0.8':>8}{'P':>6}{'cand/doc':>10}")
    counts = "".join(f"{sum(lo <= j < hi for j in jac.values()):>11}" for lo, hi in JACCARD_BANDS)
    print(f"   {'(pairs in band)':<28}{counts}")
    for name, (b, r) in BANDINGS.items():
        cand = _candidates(sigs, b, r)
        found = {p for p in cand if jac.get(p, 0.0) >= THRESHOLD}  # exact verification
        cells = ""
        for lo, hi in JACCARD_BANDS:
            band = [p for p, j in jac.items() if lo <= j < hi]
            cells += f"{sum(p in cand for p in band) / max(1, len(band)):>11.3f}"
        p, rec = pr(found, truth)
        mark = " <- default" if (b, r) == default else ""
        print(f"   {name:<28}{cells}{rec:>8.3f}{p:>6.2f}{len(cand) / len(near):>10.2f}{mark}")
    # The Spark path of the default banding: the same keys, buckets and verification.
    batch = pa.RecordBatch.from_pydict(
        {"id": [d[0] for d in near], "url": [None] * len(near), "text": [t for _, t in near]}
    )
    index = {doc_id: k for k, (doc_id, _) in enumerate(near)}
    keys = keys_batch(batch, NGRAM, NUM_PERM, SEED, *default).to_pandas()
    base = spark.createDataFrame(keys).withColumn("is_reference", F.lit(False))
    pairs = _verified(_candidate_pairs(base, 100), base, THRESHOLD).collect()
    ours = {tuple(sorted((index[p["a"]], index[p["b"]]))) for p in pairs}
    p, rec = pr(ours, truth)
    print(f"   curate Spark path, default banding: precision {p:.4f}  recall {rec:.4f}\n")


def stage_time(docs: list[tuple[str, str]], spark, rounds: int = 2) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.config import Config
    from curate.runner import Context
    from curate.stages.dedup import Dedup
    from curate.storage import use
    from curate.tables import list_table

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "docs"
        path.mkdir()
        for part, lo in enumerate(range(0, len(docs), 1000)):
            chunk = docs[lo : lo + 1000]
            pq.write_table(pa.table({
                "id": [d[0] for d in chunk],
                "url": [f"https://docs.example/{d[0]}" for d in chunk],
                "text": [d[1] for d in chunk],
                "crawl_date": pa.nulls(len(chunk), pa.timestamp("us", tz="UTC")),
            }), path / f"part-{part:05d}.parquet")  # fmt: skip
        default = Config.model_validate({"input": {"paths": ["-"]}, "output": {"dir": tmp}})
        sides = {"default": default.dedup.banding(), "9 x 13": (9, 13)}
        best: dict[str, float] = {}
        for k in range(rounds):
            for name in list(sides)[:: 1 if k % 2 == 0 else -1]:
                cfg = default.model_copy(deep=True)
                cfg.dedup.bands, cfg.dedup.rows = sides[name]
                out = Path(tmp) / f"out-{name.replace(' ', '')}-{k}"
                ctx = Context(spark, cfg, use(None), str(out), [], stage="dedup", n_in=len(docs))
                start = time.perf_counter()
                Dedup().run(ctx, list_table(ctx.st, str(path)))
                best[name] = min(best.get(name, float("inf")), time.perf_counter() - start)
    b, r = sides["default"]
    print(f"4. dedup stage on {len(docs)} docs-crawl documents, local[2], best of {rounds}:")
    print(f"   default {b} x {r}: {best['default']:.1f} s;  9 x 13: {best['9 x 13']:.1f} s;  "
          f"ratio {best['default'] / best['9 x 13']:.2f}\n")  # fmt: skip


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

    print("5. scale: dedup stage in local[2] on synthetic documents")
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
    parser.add_argument("--near", type=int, default=400, help="real documents mutated (part 3)")
    args = parser.parse_args()
    if not FOLDER.exists():
        print("skipped: ../shared/data/warc/docs-crawl not present")
        return 0
    docs = documents(args.files, extractor="resiliparse")
    signature_speed([t for _, t in docs])
    from curate.spark import build_session

    spark = build_session(SparkConfig(master="local[2]", shuffle_partitions=16, driver_memory="6g"))
    quality(docs, spark)
    near_threshold(docs, spark, args.near)
    stage_time(docs, spark)
    sizes = [int(s) for s in args.scale.split(",") if s]
    if sizes:
        scale(docs, sizes, spark)
    return 0


if __name__ == "__main__":
    sys.exit(main())
