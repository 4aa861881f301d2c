"""US street addresses: a presidio recognizer over usaddress's CRF parser (the model ships
inside the PyPI package), run only where a cheap pattern finds a house number and a
street word, or a PO box.

A parse counts as an address when it has a house number, a street name and a street type
(or a PO box) and at least one of a unit, a US state or a ZIP code: "3 Park Avenue shows"
names a street, not an address someone lives at.
"""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult

ENTITY = "US_STREET_ADDRESS"
SCORE = 0.85
_STREET_TYPES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    "Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Sq|Trail|Trl|Plaza|Alley"
)
# A house number, up to four words of street name, a street type; or a PO box.
CANDIDATE = re.compile(
    rf"(?<!\d[ -])\b\d{{1,6}}[A-Za-z]?\s+(?:[A-Za-z0-9][\w'.-]*\s+){{0,4}}(?:{_STREET_TYPES})\b\.?"
    r"|\bP\.?\s?O\.?\s*Box\s+\d+",
    re.IGNORECASE,
)
_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
    "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR"
)
_STATE_NAMES = (
    "alabama,alaska,arizona,arkansas,california,colorado,connecticut,delaware,florida,"
    "georgia,hawaii,idaho,illinois,indiana,iowa,kansas,kentucky,louisiana,maine,maryland,"
    "massachusetts,michigan,minnesota,mississippi,missouri,montana,nebraska,nevada,"
    "new hampshire,new jersey,new mexico,new york,north carolina,north dakota,ohio,oklahoma,"
    "oregon,pennsylvania,rhode island,south carolina,south dakota,tennessee,texas,utah,"
    "vermont,virginia,washington,west virginia,wisconsin,wyoming,puerto rico"
)
_STATES = frozenset(_STATE_CODES.lower().split()) | frozenset(_STATE_NAMES.split(","))
_ZIP = re.compile(r"\d{5}(?:-\d{4})?")
_ZIP_IN_TEXT = re.compile(rf"\b{_ZIP.pattern}\b")
# Labels of the parts of an address; a parse stops at the first other label.
_PARTS = frozenset({
    "AddressNumber", "AddressNumberPrefix", "AddressNumberSuffix", "StreetNamePreDirectional",
    "StreetNamePreModifier", "StreetNamePreType", "StreetName", "StreetNamePostType",
    "StreetNamePostDirectional", "StreetNamePostModifier", "OccupancyType",
    "OccupancyIdentifier", "SubaddressType", "SubaddressIdentifier", "PlaceName", "StateName",
    "ZipCode", "USPSBoxType", "USPSBoxID", "USPSBoxGroupType", "USPSBoxGroupID",
})  # fmt: skip
# After the candidate, an address runs on for at most two more lines (city, state, ZIP).
SPAN = 160


def _region(text: str, start: int) -> str:
    """The candidate's line and at most two more, within SPAN characters."""
    end, at = min(len(text), start + SPAN), start
    for _ in range(3):
        at = text.find("\n", at, end)
        if at < 0:
            return text[start:end]
        at += 1
    return text[start : at - 1]


def _is_address(labels: dict[str, list[str]]) -> bool:
    street = "AddressNumber" in labels and "StreetName" in labels
    street = street and "StreetNamePostType" in labels
    box = "USPSBoxType" in labels and "USPSBoxID" in labels
    state = " ".join(labels.get("StateName", [])).strip(".,").lower() in _STATES
    zipcode = any(_ZIP.fullmatch(z.strip(".,")) for z in labels.get("ZipCode", []))
    unit = "OccupancyIdentifier" in labels
    return (street and (unit or state or zipcode)) or (box and (state or zipcode))


def find_addresses(text: str) -> list[tuple[int, int]]:
    """(start, end) of every US street address in ``text``."""
    import usaddress

    out: list[tuple[int, int]] = []
    for m in CANDIDATE.finditer(text):
        if out and m.start() < out[-1][1]:
            continue  # inside the address found before
        region = _region(text, m.start())
        labels, end = _parse(usaddress, region)
        zipcode = _ZIP_IN_TEXT.search(region, m.end() - m.start())  # after the street
        if not _is_address(labels) and zipcode:
            # A ZIP code ends a US address: the sentence after it can make the parser
            # read city, state and ZIP as a recipient's name ("... 33680 by Friday.").
            region = region[: zipcode.end()]
            labels, end = _parse(usaddress, region)
        if _is_address(labels):
            span = region[:end].rstrip(" ,;.\n")
            out.append((m.start(), m.start() + len(span)))
    return out


def _parse(usaddress, region: str) -> tuple[dict[str, list[str]], int]:
    """The address parts usaddress labels at the start of ``region``, and where they end."""
    labels: dict[str, list[str]] = {}
    pos, end = 0, 0
    for token, label in usaddress.parse(region):
        at = region.find(token, pos)
        if label not in _PARTS or at < 0:
            break
        pos = at + len(token)
        labels.setdefault(label, []).append(token)
        end = pos
    return labels, end


class UsAddressRecognizer(EntityRecognizer):
    """presidio's side of find_addresses: entity US_STREET_ADDRESS."""

    def __init__(self) -> None:
        super().__init__(supported_entities=[ENTITY], name="UsAddressRecognizer",
                         supported_language="en")  # fmt: skip

    def load(self) -> None:
        """usaddress loads its CRF model on import; nothing else to load."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list:
        if ENTITY not in entities:
            return []
        return [RecognizerResult(ENTITY, s, e, SCORE) for s, e in find_addresses(text)]
