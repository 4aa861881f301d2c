"""Text splitting shared by the filters: words, lines, paragraphs, sentences, n-grams."""

from __future__ import annotations

import regex

# Scripts written without spaces between words: each character counts as one word, so
# word counts stay meaningful (a Chinese word is 1-2 characters).
_NO_SPACE_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
# Letters of a word, stopping before an English contraction ("do|n't", "Python|'s").
_LETTERS = rf"(?:(?!n['’]t\b)[^\s\p{{P}}\p{{S}}{_NO_SPACE_SCRIPTS}])+"
_TOKEN = regex.compile(
    r"https?://\S+?(?=[.,;:!?)\]'\"]*(?:\s|$))"  # a URL is one token
    rf"|[{_NO_SPACE_SCRIPTS}]"  # one character of a no-space script
    r"|\d+(?:[.,:/-]\d+)+"  # 1.2.3.4, 2024-03-01, 19.99: one token, as spaCy keeps them
    r"|(?<=^|\s)--?[\p{L}\d][\w-]*"  # command-line options: --prefix, -s
    r"|\w\+\+"  # C++
    r"|n['’]t\b|['’](?:s|re|ve|ll|d|m)\b"  # contraction suffixes, split off as spaCy does
    # A word; as in spaCy, "sources.list", "os_path", "/etc" and ".bz2" stay whole
    # (a period splits only before an upper-case letter: a missing space between sentences).
    rf"|(?:(?<=^|\s)[./])?{_LETTERS}(?:(?:_|\.(?=[\p{{Ll}}\d])){_LETTERS})*"
    r"|[-|=_*~+#]{2,}|\.{2,}|[\p{P}\p{S}]"  # a run like |---| or "...", or one mark
)
_SENTENCE_END = regex.compile(r"(?<=[\p{Sentence_Terminal}])(?:\s+|(?=[^\s\p{P}]))")
_TERMINAL = regex.compile(r"\p{Sentence_Terminal}$")
_PUNCT_OR_SYMBOL = regex.compile(r"^[\p{P}\p{S}]+$")
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "wuu", "yue"})


def words(text: str) -> list[str]:
    """Words and punctuation tokens, in order (punctuation tokens are kept, as spaCy does)."""
    return _TOKEN.findall(text)


def is_symbol(token: str) -> bool:
    return bool(_PUNCT_OR_SYMBOL.match(token))


def ends_sentence(line: str) -> bool:
    """True when the line ends with a Unicode Sentence_Terminal character (. ! ? 。 …)."""
    return bool(_TERMINAL.search(line))


def sentences(line: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(line.strip()) if s.strip()]


def duplicates(items: list[str]) -> tuple[int, int]:
    """(number of items seen before, characters in those repeats), first occurrences free."""
    seen: set[str] = set()
    n_dup = dup_chars = 0
    for item in items:
        if item in seen:
            n_dup += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return n_dup, dup_chars
