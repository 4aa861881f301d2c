"""Quality filters: curate vs datatrove, same documents, same thresholds, side by side.

    python bench/quality_filters.py [--files N]

Documents: the text extracted by curate from ../shared/data/warc/docs-crawl/ (both sides
judge the same text), English ones (lid.176) for the agreement figure. Per filter it
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

    texts = [text for _, text in english(documents(args.files))]
    print(f"{len(texts)} English documents from {args.files} docs-crawl file(s)\n")
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
    print(
        f"{'filter':<22}{'agree':>8}{'ours kept':>10}{'dt kept':>9}"
        f"{'ours docs/s':>13}{'dt docs/s':>11}{'speed-up':>10}"
    )
    for name, ours, theirs in pairs:
        a, ta = ours_keep(ours, texts)
        b, tb = datatrove_keep(theirs, texts)
        agree = sum(x == y for x, y in zip(a, b, strict=True)) / len(texts)
        diff = Counter(
            "ours keeps" if x else "datatrove keeps" for x, y in zip(a, b, strict=True) if x != y
        )
        print(
            f"{name:<22}{agree:>8.2%}{sum(a):>10}{sum(b):>9}"
            f"{len(texts) / ta:>13.0f}{len(texts) / tb:>11.0f}{tb / ta:>9.2f}x  {dict(diff)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
