"""Find and replace PII in documents: plain Python over strings and Arrow batches."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
from presidio_analyzer import RecognizerResult
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from curate.config import DEFAULT_PII_TAGS, PiiConfig
from curate.pii import PII_COUNTS_TYPE
from curate.pii.engine import NER_ENTITIES, ner_analyzer, pattern_analyzer
from curate.pii.negatives import is_hard_negative
from curate.pii.prescan import windows

# spaCy's default max_length is 1M characters; NER runs on line-aligned chunks below it.
_NER_CHUNK = 100_000
# A list of {entity, count}, not a map: Hugging Face datasets has no map type.


def _chunks(text: str, size: int) -> Iterator[tuple[int, str]]:
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        yield start, text[start:end]
        start = end


class PiiScrubber:
    """Analyzers and anonymizer built once (per executor process), then applied per text."""

    def __init__(self, cfg: PiiConfig) -> None:
        self.cfg = cfg
        self.pattern_entities = [e for e in cfg.entities if e not in NER_ENTITIES]
        self.ner_entities = [e for e in cfg.entities if e in NER_ENTITIES]
        self.patterns = pattern_analyzer(self.pattern_entities, cfg.phone_regions)
        self.ner = ner_analyzer(self.ner_entities) if self.ner_entities else None
        self.anonymizer = AnonymizerEngine()
        self.operators = {e: self._operator(e) for e in cfg.entities}

    def _operator(self, entity: str) -> OperatorConfig:
        value = self.cfg.replace.get(entity, DEFAULT_PII_TAGS[entity])
        if value != "hash":
            return OperatorConfig("replace", {"new_value": value})
        salt, tag = self.cfg.hash_salt.encode(), DEFAULT_PII_TAGS[entity].strip("<>")

        def salted(found: str) -> str:
            return f"<{tag}:{hashlib.sha256(salt + found.encode()).hexdigest()[:16]}>"

        return OperatorConfig("custom", {"lambda": salted})

    def find(self, text: str, language: str | None) -> list[RecognizerResult]:
        """Entities in ``text``, hard negatives and low scores dropped, overlaps resolved."""
        found: list[RecognizerResult] = []
        spans = (
            windows(text, self.pattern_entities)
            if self.cfg.prescan
            else [(0, len(text), frozenset(self.pattern_entities))]
        )
        for lo, hi, entities in spans:
            for r in self.patterns.analyze(text[lo:hi], language="en", entities=sorted(entities)):
                found.append(RecognizerResult(r.entity_type, r.start + lo, r.end + lo, r.score))
        if self.ner is not None and language == "en":
            for offset, chunk in _chunks(text, _NER_CHUNK):
                for r in self.ner.analyze(chunk, language="en", entities=self.ner_entities):
                    found.append(
                        RecognizerResult(r.entity_type, r.start + offset, r.end + offset, r.score)
                    )
        kept = [
            r
            for r in found
            if r.score >= self.cfg.min_score
            and not is_hard_negative(
                r.entity_type, text, r.start, r.end, self.cfg.scrub_private_ips
            )
        ]
        return _non_overlapping(kept)

    def scrub(self, text: str, language: str | None) -> tuple[str, dict[str, int]]:
        """The text with every entity replaced by its policy, and counts per entity."""
        results = self.find(text, language)
        if not results:
            return text, {}
        new = self.anonymizer.anonymize(text, results, operators=self.operators).text
        return new, dict(Counter(r.entity_type for r in results))


def _non_overlapping(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Highest score first, then longest; a match overlapping a kept one is dropped."""
    ordered = sorted(results, key=lambda r: (-r.score, r.start - r.end, r.start, r.entity_type))
    kept: list[RecognizerResult] = []
    for r in ordered:
        if all(r.end <= k.start or r.start >= k.end for k in kept):
            kept.append(r)
    return sorted(kept, key=lambda r: r.start)


def scrub_batch(batch: pa.RecordBatch, scrubber: PiiScrubber) -> pa.RecordBatch:
    """Replace ``text`` (and ``n_chars``) by the scrubbed text; add ``pii_counts``."""
    texts = batch.column("text").to_pylist()
    languages = batch.column("language").to_pylist()
    new_texts, counts = [], []
    for text, lang in zip(texts, languages, strict=True):
        new, found = scrubber.scrub(text or "", lang)
        new_texts.append(new)
        counts.append([{"entity": e, "count": n} for e, n in sorted(found.items())])
    text_array = pa.array(new_texts, pa.string())
    columns = {
        "text": text_array,
        "n_chars": pc.cast(pc.utf8_length(text_array), pa.int32()),
    }
    names = batch.schema.names
    arrays = [columns.get(n, batch.column(n)) for n in names]
    fields = [batch.schema.field(n) for n in names]
    arrays.append(pa.array(counts, PII_COUNTS_TYPE))
    fields.append(pa.field("pii_counts", PII_COUNTS_TYPE))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
