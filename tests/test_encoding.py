"""Text that decodes wrongly: charset choice, mojibake repair (ftfy), the encoding signals."""

import pytest

from curate.extract.decode import decode_html
from curate.extract.mojibake import repair
from filters.encoding import EncodingQuality
from filters.rules import first_failure
from tests.conftest import shared_path

FRENCH = (
    "La crème brûlée est un dessert à base de crème, de sucre et de jaunes d'œufs. On la "
    "prépare à l'avance et on la caramélise au moment de servir. Voilà une recette très "
    "appréciée en été comme en hiver."
)
PAGE = f"<html><head><title>Recette</title></head><body><p>{FRENCH}</p></body></html>"


@pytest.mark.parametrize(
    "payload, content_type",
    [
        # Declared UTF-16, bytes Latin-1: the strict UTF-16 decode has no markup in it.
        (PAGE.encode("cp1252"), "text/html; charset=utf-16"),
        # Declared UTF-8, bytes Latin-1: detection ties cp1250 with cp1252; cp1252 wins.
        (PAGE.encode("cp1252"), "text/html; charset=utf-8"),
        # Declared Latin-1, bytes UTF-8: valid UTF-8 is UTF-8.
        (PAGE.encode("utf-8"), "text/html; charset=iso-8859-1"),
    ],
)
def test_wrong_declarations_decode_to_the_text(payload, content_type):
    assert FRENCH in decode_html(payload, content_type)


def test_a_stray_byte_in_utf8_costs_one_character():
    raw = PAGE.encode("utf-8")
    i = raw.index(b"servir")
    html = decode_html(raw[:i] + b"\xe9" + raw[i:], "text/html; charset=utf-8")
    assert html.count("\ufffd") == 1 and html.replace("\ufffd", "") == PAGE


@pytest.mark.parametrize("wrong", ["cp1252", "latin-1", "mac_roman", "cp437", "cp1250"])
def test_mojibake_is_repaired_and_counted(wrong):
    bad = FRENCH.encode("utf-8").decode(wrong)
    assert bad != FRENCH
    fixed, removed = repair(bad + "\nA clean line stays.")
    assert fixed == FRENCH + "\nA clean line stays."
    assert removed == len(bad) - len(FRENCH)


def test_clean_text_in_every_udhr_language_is_left_alone():
    folder = shared_path("lid-eval", "udhr2")
    changed = []
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        fixed, _ = repair(text)
        # The only changes: C1 controls that stand for cp1252 quotes (U+0092 -> ’).
        if fixed != text and fixed != text.translate({0x91: "‘", 0x92: "’", 0x93: "“", 0x94: "”"}):
            changed.append(path.name)
    assert changed == []


def test_encoding_rules_remove_what_stays_bad():
    f = EncodingQuality()
    assert first_failure({"encoding": f.signals(FRENCH, "fr")}, f.rules()) is None
    replaced = FRENCH.replace("è", "\ufffd").replace("é", "\ufffd")
    assert first_failure({"encoding": f.signals(replaced, "fr")}, f.rules()) == (
        "encoding.replacement_chars_high"
    )
    # Mojibake of mojibake: ftfy measures it, and the repair is not run on this text.
    twice = FRENCH.encode("utf-8").decode("cp1252").encode("utf-8").decode("cp1252")
    assert first_failure({"encoding": f.signals(twice, "fr")}, f.rules()) == (
        "encoding.mojibake_high"
    )
    assert f.signals("", None) == {"replacement_ratio": None, "mojibake_ratio": None}
