"""Phone numbers in phone context: a number shaped like a phone number right after a
phone word ("Tel.", "call us at", "Téléphone :", "Telefon", "llame al") is a phone number
for a privacy filter, whether or not libphonenumber knows its plan (an unassigned area
code, a region not in pii.phone_regions). presidio's own context words only raise the
score of a match its PhoneRecognizer already made, so they cannot find these."""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult

ENTITY = "PHONE_NUMBER"
# Phone words of the languages curate's pages come in most; matched case-insensitively,
# as whole words (CJK ones anywhere).
_WORDS = (
    "tel", "tél", "tlf", "telephone", "téléphone", "phone", "ph", "call", "calling", "mobile",
    "mob", "cell", "cellphone", "fax", "hotline", "helpline", "whatsapp", "sms",
    "telefon", "telefoon", "teléfono", "telefono", "telefone", "telèfon", "puhelin", "puh",
    "handy", "anrufen", "rufen", "appelez", "appeler", "llame", "llamar", "ligue", "chiama",
    "chiamare", "телефон", "тел", "téléfax", "telefax",
)  # fmt: skip
_CJK = ("電話", "电话", "전화", "手机", "携帯")
# The word, up to 24 characters of the sentence (no digit, no line break), the number:
# an optional + or (, then digits and separators, ending in a digit.
PATTERN = re.compile(
    r"(?:\b(?:" + "|".join(map(re.escape, _WORDS)) + r")\b\.?|" + "|".join(_CJK) + r")"
    r"[^\d\n]{0,24}?(?P<number>(?:\+|\()?\d[\d().\-/ ]{5,22}\d)",
    re.IGNORECASE,
)
MIN_DIGITS, MAX_DIGITS = 7, 15  # E.164 allows at most 15
SCORE = 0.5  # above pii.min_score (0.4), as presidio scores a valid number


class PhoneContextRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(supported_entities=[ENTITY], name="PhoneContextRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        out = []
        for m in PATTERN.finditer(text):
            number = m.group("number")
            digits = sum(c.isdigit() for c in number)
            if MIN_DIGITS <= digits <= MAX_DIGITS and "  " not in number:
                out.append(RecognizerResult(ENTITY, m.start("number"), m.end("number"), SCORE))
        return out
