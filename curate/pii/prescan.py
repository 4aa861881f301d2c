"""Cheap candidate pre-scan: presidio runs only on small windows where an entity can be.

Each pattern is a loose superset of what presidio's recognizer for that entity accepts
(recall is tested against presidio on whole documents), so most of a document's text is
never handed to the expensive recognizers (the phone matcher, above all).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from curate.pii.address import CANDIDATE as ADDRESS_CANDIDATE
from curate.pii.address import SPAN as ADDRESS_SPAN

CANDIDATES = {
    "EMAIL_ADDRESS": re.compile(r"@"),
    # IPv4 dotted quads, or two colons close together (IPv6).
    "IP_ADDRESS": re.compile(
        r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:"
    ),
    "CREDIT_CARD": re.compile(r"\d{4}[- ]?\d{3,4}[- ]?\d{3,4}[- ]?\d{3,5}"),
    "US_SSN": re.compile(r"\d{3}[- .]?\d{2}[- .]?\d{4}|\d{5}-\d{4}|\d{3}-\d{6}"),
    "IBAN_CODE": re.compile(r"[A-Za-z]{2}\d{2}[ -]?[A-Za-z0-9]{4}"),
    # Six or more digits with short separators: a shorter match is a hard negative
    # (curate.pii.negatives.MIN_PHONE_DIGITS).
    "PHONE_NUMBER": re.compile(r"\d(?:[\s().\-/]{0,3}\d){5,}"),
    # A house number, street words and a street type, or a PO box (curate.pii.address).
    "US_STREET_ADDRESS": ADDRESS_CANDIDATE,
}
# Context kept either side of a candidate: an email's local part, a phone's "+44 (0)" prefix.
MARGIN = 48
# An address runs on after its street for a unit, city, state and ZIP, on up to two lines.
MARGINS = {"US_STREET_ADDRESS": ADDRESS_SPAN}
# Names and addresses need the whole sentence: NER entities are never pre-scanned.

Window = tuple[int, int, frozenset[str]]


def _widen(text: str, start: int, end: int, margin: int) -> tuple[int, int]:
    """Add the margin, then grow to whitespace so no token is cut in half."""
    lo, hi = max(0, start - MARGIN), min(len(text), end + margin)
    while lo > 0 and not text[lo - 1].isspace():
        lo -= 1
    while hi < len(text) and not text[hi].isspace():
        hi += 1
    return lo, hi


def windows(text: str, entities: Iterable[str]) -> list[Window]:
    """Merged spans of ``text`` that may hold one of ``entities``, with the entities each may
    hold; empty when no candidate is found."""
    spans: list[tuple[int, int, str]] = []
    for entity in entities:
        pattern = CANDIDATES.get(entity)
        if pattern is None:
            continue
        for m in pattern.finditer(text):
            lo, hi = _widen(text, m.start(), m.end(), MARGINS.get(entity, MARGIN))
            spans.append((lo, hi, entity))
    spans.sort()
    merged: list[Window] = []
    for lo, hi, entity in spans:
        if merged and lo <= merged[-1][1]:
            plo, phi, ents = merged[-1]
            merged[-1] = (plo, max(phi, hi), ents | {entity})
        else:
            merged.append((lo, hi, frozenset({entity})))
    return merged
