"""Toxicity signals (filters/toxicity.py): removals at the defaults on clean text, samples of
what they remove on real crawl pages, and speed beside language ID's.

    python bench/toxicity.py [--files 8] [--samples 12]

Clean text: WikiText-2 ``test`` (one document per article), the extraction benchmark's
human-marked article bodies, and the English docs-crawl documents; goal: at most 0.5 % of
each removed. Samples: the removed documents of the English docs-crawl pages and the
Common Crawl sample. Speed: documents/s on one core over the English docs-crawl documents
(goal >= 2,000), language ID on the same documents beside it.
"""

from __future__ import annotations

import argparse
import json
import sys

from classifier import throughput
from docs_crawl import SHARED, documents, english

from curate.config import ExtractConfig
from curate.extract.records import ingest_file
from curate.langid import load_model, predict
from filters.rules import first_failure
from filters.toxicity import Toxicity


def wikitext_articles() -> list[str]:
    """WikiText-2 test split into its articles (a line " = Title = " opens one)."""
    out: list[list[str]] = []
    for line in (SHARED / "reference-text" / "wikitext2.test.txt").read_text().splitlines():
        if line.startswith(" = ") and not line.startswith(" = = "):
            out.append([])
        if out and line.strip():
            out[-1].append(line.strip())
    return ["\n".join(a) for a in out if a]


def ground_truth() -> list[str]:
    path = SHARED / "pages" / "extraction-benchmark" / "ground-truth.json"
    return [v["articleBody"] for v in json.loads(path.read_text()).values() if v.get("articleBody")]


def common_crawl() -> list[tuple[str, str]]:
    docs = []
    for path in sorted((SHARED / "warc" / "cc").glob("CC-MAIN-*.warc.gz")):
        docs += [(r["url"], r["text"]) for b in ingest_file(str(path), ExtractConfig())
                 for r in b.to_pylist() if r["reason"] is None]  # fmt: skip
    return english(docs)


def removed(filt: Toxicity, texts: list[str]) -> list[tuple[int, str]]:
    rules = filt.rules()
    out = []
    for i, text in enumerate(texts):
        reason = first_failure({filt.name: filt.signals(text, "en")}, rules)
        if reason:
            out.append((i, reason))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8, help="docs-crawl WARC files")
    parser.add_argument("--samples", type=int, default=12, help="removed crawl pages shown")
    args = parser.parse_args()
    if not (SHARED / "reference-text").is_dir():
        print("../shared/data not present: nothing to measure")
        return 0
    filt = Toxicity()
    crawl = english(documents(args.files))
    clean = {"WikiText-2 test articles": wikitext_articles(),
             "extraction-benchmark article bodies": ground_truth(),
             "docs-crawl (English)": [t for _, t in crawl]}  # fmt: skip
    print(f"defaults: {filt.rules()}")
    print(f"{'clean text':<40}{'documents':>10}{'removed':>9}{'share':>8}  goal <= 0.5 %")
    for name, texts in clean.items():
        gone = removed(filt, texts)
        share = len(gone) / len(texts)
        met = "yes" if share <= 0.005 else "NO"
        print(f"{name:<40}{len(texts):>10,}{len(gone):>9,}{share:>8.2%}  {met}")
    pages = [(u, t) for u, t in crawl] + common_crawl()
    gone = removed(filt, [t for _, t in pages])
    print(f"\nremoved crawl pages: {len(gone)} of {len(pages)} (docs-crawl + Common Crawl sample)")
    for i, reason in gone[: args.samples]:
        url, text = pages[i]
        snippet = " ".join(text.split())[:160]
        print(f"- {reason}: {url}\n    {snippet}")
    texts = [t for _, t in crawl]
    ours = throughput(lambda t: filt.signals(t, "en"), texts)
    model = load_model()
    lid = throughput(lambda t: predict(model, t), texts)
    mean_words = sum(len(t.split()) for t in texts) / len(texts)
    print(f"\nspeed, {len(texts):,} English docs-crawl documents (mean {mean_words:,.0f} words), "
          "one core:")  # fmt: skip
    met = "yes" if ours >= 2000 else "NO"
    print(f"  toxicity signals {ours:>10,.0f} documents/s  (goal >= 2,000: {met})")
    print(f"  language ID      {lid:>10,.0f} documents/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
