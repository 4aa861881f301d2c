"""A labelled PII set: documents with known entity spans and hard negatives.

Values are valid by their own rules (Luhn for cards, ISO 7064 for IBANs, the phone plans
of phonenumbers, SSA rules for SSNs), never by what a detector says; hard negatives are
the look-alikes a scrubber must leave alone. Used by tests and bench/pii.py.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

import phonenumbers

from curate.demo.texts import SLOTS, TOPICS

Span = tuple[int, int, str]

_CARDS = [
    "4111111111111111", "4012888888881881", "5555555555554444", "5105105105105100",
    "378282246310005", "371449635398431", "6011111111111117", "6011000990139424",
]  # fmt: skip
_IBANS = [
    "DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606",
    "NL91ABNA0417164300", "ES9121000418450200051332", "IT60X0542811101000000123456",
    "BE68539007547034", "CH9300762011623852957",
]  # fmt: skip
_DOMAINS = ["example.org", "mail.example.com", "post.example.net", "uni-example.de"]
_TEMPLATES = {
    "EMAIL_ADDRESS": [
        "Write to {v} if you have questions.",
        "Contact: {v}",
        "The secretary ({v}) keeps the minutes.",
    ],
    "PHONE_NUMBER": [
        "Call us on {v} during office hours.",
        "Phone: {v}",
        "Bookings by telephone at {v}, Monday to Friday.",
        "Tel. {v}",
        "Call our office at {v} for details.",
        "Fax {v} (24 hours).",
        "Mobile / WhatsApp: {v}",
        "Téléphone : {v} du lundi au vendredi.",
        "Telefon: {v} (Montag bis Freitag).",
        "Para reservas, llame al {v}.",
    ],
    "IP_ADDRESS": [
        "Requests came from {v} all night.",
        "The mirror at {v} is no longer maintained.",
    ],
    "CREDIT_CARD": [
        "The payment was charged to card {v} last week.",
        "Card number: {v}",
    ],
    "US_SSN": [
        "The form listed the social security number {v}.",
        "SSN {v} was entered twice.",
    ],
    "IBAN_CODE": [
        "Please transfer the fee to {v}.",
        "IBAN: {v}",
    ],
    "US_STREET_ADDRESS": [
        "Our office is at {v} and opens at nine.",
        "Send the signed forms to {v} by Friday.",
        "Address:\n{v}\nThank you for writing.",
    ],
}
_STREETS = ["Main", "Oak", "Maple", "Elm", "Washington", "Lake Shore", "Cedar Hill", "Pine",
            "Sunset", "Park", "Church", "Market", "Fifth", "Martin Luther King Jr"]  # fmt: skip
_STREET_TYPES = ["Street", "St.", "Avenue", "Ave", "Road", "Rd.", "Boulevard", "Blvd", "Lane",
                 "Drive", "Dr.", "Court", "Way", "Place", "Parkway"]  # fmt: skip
_UNITS = ["Suite 200", "Apt 4B", "Unit 12", "Apt. 3", "Suite 1100", "Floor 2"]
_CITIES = [("Springfield", "IL"), ("Portland", "OR"), ("Austin", "TX"), ("Madison", "WI"),
           ("Denver", "CO"), ("Boston", "MA"), ("New York", "NY"), ("Salt Lake City", "UT"),
           ("Columbus", "Ohio"), ("Sacramento", "California")]  # fmt: skip
_NEGATIVES = [
    "Upgrade to version {a}.{b}.{c}.{d} before the next release.",
    "The meeting was moved to {y}-0{m}-1{d} at 10:30:00.",
    "See ISBN 978-0-306-40615-7 for the full text.",
    "The price went up to ${a},{b}{c}9.99 this year.",
    "Your order number {a}{b}{c}{d}-7789 has shipped.",
    "The office router answers on 192.168.{a}.{b} inside the building.",
    "Build 2024{m}1{d} fixed the crash reported on 12/0{m}/2023.",
    "The postcode 9021{d} covers the north of the town.",
    # Street-like phrases that are not addresses (US_STREET_ADDRESS must leave them).
    "Chapter 1{d} Main Results lists the figures.",
    "They drove Route 66 from Chicago in {y}.",
    "Tonight {a} Park Avenue shows a new play.",
    "The Model {a} Drive unit and version {b}.{c} Street map were updated.",
    "Table {a} Road Traffic counts rose in {y}.",
    # Numbers after a phone word that are not phone numbers.
    "Phone sales 2019-2023 rose by a third.",
    "Call version {a}.{b}.{c} of the library from your code.",
]


@dataclass(frozen=True)
class LabelledDoc:
    text: str
    spans: tuple[Span, ...]  # (start, end, entity) of every real entity


def _fill(sentence: str, rng: random.Random) -> str:
    return sentence.format(**{k: rng.choice(v) for k, v in SLOTS.items()})


def _email(rng: random.Random) -> str:
    first, last = rng.choice(SLOTS["name"]).lower().split()[0], rng.choice("abcdefghk")
    return f"{first}.{last}{rng.randint(1, 99)}@{rng.choice(_DOMAINS)}"


def _phone(rng: random.Random) -> str:
    """A valid number of a supported region, or (one in three) a number written as a phone
    number that libphonenumber does not accept (an unassigned US area code, a short
    national number): in phone context, still a phone number."""
    if rng.random() < 1 / 3:
        return _unassigned_phone(rng)
    region = rng.choice(["US", "GB", "DE", "FR", "CA", "AU"])
    example = phonenumbers.example_number(region)
    national = str(example.national_number)
    while True:
        digits = national[:3] + "".join(rng.choice("0123456789") for _ in national[3:])
        number = phonenumbers.parse(f"+{example.country_code}{digits}")
        if phonenumbers.is_valid_number(number):
            break
    fmt = rng.choice(
        [phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.NATIONAL]
    )
    return phonenumbers.format_number(number, fmt)


def _unassigned_phone(rng: random.Random) -> str:
    while True:
        d = "".join(rng.choice("0123456789") for _ in range(7))
        area = rng.choice([275, 286, 335, 378, 486, 522, 576, 624, 728, 837])
        text = rng.choice([f"{area}-{d[:3]}-{d[3:]}", f"({area}) {d[:3]}-{d[3:]}",
                           f"+1 {area} {d[:3]} {d[3:]}", f"{area}.{d[:3]}.{d[3:]}",
                           f"+1-{area}-{d[:3]}-{d[3:]}"])  # fmt: skip
        if not phonenumbers.is_valid_number(phonenumbers.parse(text, "US")):
            return text


def _ip(rng: random.Random) -> str:
    while True:
        if rng.random() < 0.8:
            addr = ipaddress.IPv4Address(rng.getrandbits(32))
        else:
            addr = ipaddress.IPv6Address((0x2001_0DB8 << 96) | rng.getrandbits(96))
        if addr.is_global or str(addr).startswith("2001:db8"):
            return str(addr)


def _card(rng: random.Random) -> str:
    number = rng.choice(_CARDS)
    sep = rng.choice(["", " ", "-"])
    groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    return sep.join(groups)


def _ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _address(rng: random.Random) -> str:
    """One line, with a unit, over two lines, or a PO box."""
    city, state = rng.choice(_CITIES)
    place = f"{city}, {state} {rng.randint(1000, 99999):05d}"
    if rng.random() < 0.2:
        return f"{rng.choice(['PO Box', 'P.O. Box'])} {rng.randint(1, 9999)}, {place}"
    street = f"{rng.randint(1, 9999)} {rng.choice(_STREETS)} {rng.choice(_STREET_TYPES)}"
    layout = rng.choice(["line", "unit", "lines"])
    if layout == "unit":
        return f"{street}, {rng.choice(_UNITS)}, {place}"
    return f"{street}\n{place}" if layout == "lines" else f"{street}, {place}"


def _iban(rng: random.Random) -> str:
    iban = rng.choice(_IBANS)
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


_VALUES = {
    "EMAIL_ADDRESS": _email,
    "PHONE_NUMBER": _phone,
    "IP_ADDRESS": _ip,
    "CREDIT_CARD": _card,
    "US_SSN": _ssn,
    "IBAN_CODE": _iban,
    "US_STREET_ADDRESS": _address,
}
ENTITIES = tuple(_VALUES)


def _negative(rng: random.Random) -> str:
    digits = {k: rng.randint(1, 9) for k in "abcdm"}
    return rng.choice(_NEGATIVES).format(y=rng.randint(1990, 2030), **digits)


def labelled_documents(n: int, seed: int = 7) -> list[LabelledDoc]:
    """``n`` documents of prose with 0-3 entities and 1-2 hard negatives each."""
    rng = random.Random(seed)
    sentences = [s for topic in sorted(TOPICS) for s in TOPICS[topic]["sentences"]]
    docs = []
    for _ in range(n):
        parts: list[tuple[str, tuple[int, int, str] | None]] = [
            (_fill(rng.choice(sentences), rng), None) for _ in range(rng.randint(3, 8))
        ]
        for _ in range(rng.randint(0, 3)):
            entity = rng.choice(ENTITIES)
            template, value = rng.choice(_TEMPLATES[entity]), _VALUES[entity](rng)
            start = template.index("{v}")
            parts.insert(
                rng.randint(0, len(parts)),
                (template.format(v=value), (start, start + len(value), entity)),
            )
        for _ in range(rng.randint(1, 2)):
            parts.insert(rng.randint(0, len(parts)), (_negative(rng), None))
        text, spans = "", []
        for sentence, span in parts:
            if text:
                text += " "
            if span:
                spans.append((len(text) + span[0], len(text) + span[1], span[2]))
            text += sentence
        docs.append(LabelledDoc(text, tuple(spans)))
    return docs


def score(docs: list[LabelledDoc], found: list[list[Span]]) -> dict[str, dict[str, float]]:
    """Per-entity precision and recall: a found span is right when it overlaps a labelled
    span of the same entity."""
    out = {}
    for entity in ENTITIES:
        tp_found = n_found = tp_truth = n_truth = 0
        for doc, spans in zip(docs, found, strict=True):
            truth = [s for s in doc.spans if s[2] == entity]
            mine = [s for s in spans if s[2] == entity]
            n_truth += len(truth)
            n_found += len(mine)
            tp_truth += sum(any(m[0] < t[1] and t[0] < m[1] for m in mine) for t in truth)
            tp_found += sum(any(m[0] < t[1] and t[0] < m[1] for t in truth) for m in mine)
        out[entity] = {
            "labelled": n_truth,
            "found": n_found,
            "precision": tp_found / n_found if n_found else 1.0,
            "recall": tp_truth / n_truth if n_truth else 1.0,
        }
    return out
