"""Quality filters: curate vs datatrove, same documents, same thresholds, side by side.

    python bench/quality_filters.py [--files N]

Documents: the text extracted by curate from ../shared/data/warc/docs-crawl/ (both sides
judge the same text), English ones (lid.176); then every document of the Common Crawl
sample, the extraction benchmark and the trafilatura cache pages (every language; both
sides with their English settings). Per filter it
prints the keep/drop agreement and documents/s for both. datatrove's C4 filter runs with
FineWeb's setting (no terminal-punctuation line rule), as ours does here.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from docs_crawl import FOLDER, documents, english

from filters.c4 import C4Quality
from filters.fineweb import FineWebQuality
from filters.gopher_quality import GopherQuality
from filters.gopher_repetition import GopherRepetition
from filters.rules import first_failure


def ours_keep(filt, texts: list[str]) -> tuple[list[bool], float]:
    rules = filt.rules()
    start = time.perf_counter()
    keep = [first_failure({filt.name: filt.signals(t, "en")}, rules) is None for t in texts]
    return keep, time.perf_counter() - start


def datatrove_keep(filt, texts: list[str]) -> tuple[list[bool], float]:
    from datatrove.data import Document

    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    start = time.perf_counter()
    keep = []
    for doc in docs:
        result = filt.filter(doc)
        keep.append(result is True or (isinstance(result, tuple) and result[0]))
    return keep, time.perf_counter() - start


def other_corpora() -> dict[str, list[str]]:
    """The other real text in ../shared/data: the Common Crawl sample's documents and the
    extraction benchmark's and trafilatura cache's pages, as curate extracts them."""
    import gzip
    import json

    from curate.config import ExtractConfig
    from curate.extract.decode import decode_html
    from curate.extract.html import make_extractor
    from curate.extract.records import ingest_file

    shared = FOLDER.parents[1]
    cc = []
    for path in sorted((shared / "warc" / "cc").glob("*.warc.gz")):
        for batch in ingest_file(str(path), ExtractConfig()):
            cc += [t for t in batch.column("text").to_pylist() if t]
    extract = make_extractor(ExtractConfig())
    bench = shared / "pages" / "extraction-benchmark"
    keys = json.loads((bench / "ground-truth.json").read_text())
    pages = [gzip.decompress((bench / "html" / f"{k}.html.gz").read_bytes()) for k in keys]
    cache = [
        p.read_bytes() for p in sorted((shared / "pages" / "trafilatura-cache").glob("*.html"))
    ]
    out = {"Common Crawl sample": cc}
    for name, raw in (("extraction-benchmark pages", pages), ("trafilatura-cache pages", cache)):
        out[name] = [t for t in (extract(decode_html(b), None).text for b in raw) if t]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8)
    args = parser.parse_args()
    if not FOLDER.exists():
        print(f"skipped: {FOLDER} not present")
        return 0
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    corpora = {"docs-crawl (English)": [text for _, text in english(documents(args.files))]}
    corpora.update(other_corpora())
    pairs = [
        ("gopher_repetition", GopherRepetition(), GopherRepetitionFilter()),
        ("gopher_quality", GopherQuality(), GopherQualityFilter()),
        (
            "c4 (FineWeb setting)",
            C4Quality(drop_lines_without_terminal_punct=False),
            C4QualityFilter(filter_no_terminal_punct=False),
        ),
        ("fineweb", FineWebQuality(), FineWebQualityFilter()),
    ]
    for corpus, texts in corpora.items():
        print(f"\n{corpus}: {len(texts)} documents (goal: agreement >= 99.8 % per filter)")
        print(
            f"{'filter':<22}{'agree':>8}{'ours kept':>10}{'dt kept':>9}"
            f"{'ours docs/s':>13}{'dt docs/s':>11}{'speed-up':>10}"
        )
        for name, ours, theirs in pairs:
            a, ta = ours_keep(ours, texts)
            b, tb = datatrove_keep(theirs, texts)
            agree = sum(x == y for x, y in zip(a, b, strict=True)) / len(texts)
            diff = Counter(
                "ours keeps" if x else "datatrove keeps"
                for x, y in zip(a, b, strict=True)
                if x != y
            )
            print(
                f"{name:<22}{agree:>8.2%}{sum(a):>10}{sum(b):>9}"
                f"{len(texts) / ta:>13.0f}{len(texts) / tb:>11.0f}{tb / ta:>9.2f}x  {dict(diff)}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
