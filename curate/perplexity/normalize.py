"""CCNet's text normalisation before SentencePiece and KenLM (cc_net/text_normalizer.py):
lower case, accents stripped, digits to 0, Unicode punctuation to ASCII, no control chars."""

from __future__ import annotations

import re
import unicodedata

import regex

UNICODE_PUNCT = {
    "，": ",", "。": ".", "、": ",", "„": '"', "”": '"', "“": '"', "«": '"', "»": '"',
    "１": '"', "」": '"', "「": '"', "《": '"', "》": '"', "´": "'", "∶": ":", "：": ":",
    "？": "?", "！": "!", "（": "(", "）": ")", "；": ";", "–": "-", "—": " - ", "．": ". ",
    "～": "~", "’": "'", "…": "...", "━": "-", "〈": "<", "〉": ">", "【": "[", "】": "]",
    "％": "%", "►": "-",
}  # fmt: skip
_PUNCT = str.maketrans(UNICODE_PUNCT)
_NON_PRINTING = str.maketrans({c: None for c in [*range(32), *range(127, 160)]})
_DIGIT = re.compile(r"\d")
_MARK = regex.compile(r"\p{Mn}+")


def normalize_line(line: str) -> str:
    line = line.strip().lower()
    if not line:
        return line
    if not line.isascii():  # ASCII has no accents to strip
        line = _MARK.sub("", unicodedata.normalize("NFD", line))
    line = _DIGIT.sub("0", line)
    return line.translate(_PUNCT).translate(_NON_PRINTING)
