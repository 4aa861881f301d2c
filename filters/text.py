"""Text splitting shared by the filters: words, lines, paragraphs, sentences, n-grams."""

from __future__ import annotations

import regex

# Scripts written without spaces between words: in documents of these languages each
# character counts as one word, so word counts stay meaningful.
_NO_SPACE = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]"
)
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "wuu", "yue"})

# Word splitting follows spaCy's English tokenizer rules (the one datatrove's filters use):
# whitespace, then prefix / suffix punctuation peeled off, then a few infix splits. So
# "fstab(5", "UUID=7a250fb8" and "sources.list" stay whole, "don't" is "do" + "n't".
_PUNCT = r"…,:;!?¿؟¡()\[\]{}<>_#*&。？！，、；：～·।،۔؛٪"
_QUOTES = "\"'“”‘’«»„‚‹›`´「」『』（）〔〕【】《》〈〉"
_CURRENCY = r"$£€¥¢₹₽₩"
_ICON = r"(?!°)\p{So}"
_PREFIX = regex.compile(
    rf"^(?:§|%|=|—|–|\+(?![0-9])|\.\.+|[{_PUNCT}]|[{_QUOTES}]|[{_CURRENCY}]|{_ICON})"
)
_SUFFIX = regex.compile(
    rf"(?:\.\.+|[{_PUNCT}]|[{_QUOTES}]|{_ICON}|['’][sS]|—|–|(?<=[0-9])\+"
    rf"|(?<=[0-9])[{_CURRENCY}]|(?<=[0-9\p{{Ll}}\p{{Lo}}%²\-+…{_QUOTES})\]])\.|(?<=\p{{Lu}}\p{{Lu}})\.)$"
)
_INFIX = regex.compile(
    rf"\.\.+|…|{_ICON}|(?<=[0-9])[+\-*^](?=[0-9-])"
    rf"|(?<=[\p{{Ll}}{_QUOTES}])\.(?=[\p{{Lu}}{_QUOTES}])|(?<=\p{{L}}),(?=\p{{L}})"
    r"|(?<=[\p{L}0-9])(?:---|--|—|–|-|~)(?=\p{L})|(?<=[\p{L}0-9])[:<>=/](?=\p{L})"
)
# A URL, host name or email is one token, with or without a scheme: "sources.list",
# "debian-archive.gpg", "user@lists.debian.org", "https://deb.debian.org/debian".
_URL = regex.compile(
    r"^(?:[\w+.-]{2,}://)?(?:\S+(?::\S*)?@)?"  # scheme, user@
    r"(?:[\p{L}\p{N}](?:[\p{L}\p{N}_-]{0,62})?\.)+[\p{Ll}\p{Lo}]{2,63}"  # labels + TLD
    r"(?::\d{2,5})?(?:[/?#]\S*)?$"  # port, path
)
_CONTRACTION = regex.compile(r"^(\p{L}+)(n['’]t|['’](?:re|ve|ll|d|m))$", regex.I)
# Special cases kept whole (abbreviations) or split as spaCy's English exceptions do.
_SPECIAL: dict[str, tuple[str, ...]] = {
    **{
        a: (a,)
        for a in (
            "e.g.",
            "i.e.",
            "and/or",
            "vs.",
            "Mr.",
            "Mrs.",
            "Ms.",
            "Dr.",
            "St.",
            "Jr.",
            "Sr.",
            "Inc.",
            "Ltd.",
            "Co.",
            "a.m.",
            "p.m.",
            "No.",
            "U.S.",
        )
    },
    "cannot": ("can", "not"),
    "Cannot": ("Can", "not"),
}


def _split_core(core: str) -> list[str]:
    if _URL.match(core):
        return [core]
    special = _SPECIAL.get(core)
    if special:
        return list(special)
    m = _CONTRACTION.match(core)
    if m:
        return [m.group(1), m.group(2)]
    out, start = [], 0
    for infix in _INFIX.finditer(core):
        if infix.start() > start:
            out.append(core[start : infix.start()])
        if infix.end() > infix.start():
            out.append(infix.group())
        start = infix.end()
    if start < len(core):
        out.append(core[start:])
    return out


def _split_chunk(chunk: str) -> list[str]:
    prefixes: list[str] = []
    suffixes: list[str] = []
    while chunk:
        if chunk in _SPECIAL:
            break
        m = _PREFIX.search(chunk)
        if m and m.end() < len(chunk):
            prefixes.append(m.group())
            chunk = chunk[m.end() :]
            continue
        m = _SUFFIX.search(chunk)
        if m and m.start() > 0:
            suffixes.append(m.group())
            chunk = chunk[: m.start()]
            continue
        break
    core = _split_core(chunk) if chunk else []
    return prefixes + core + suffixes[::-1]


def words(text: str, language: str | None = None) -> list[str]:
    """Words and punctuation tokens, in order (punctuation tokens are kept, as spaCy does)."""
    out: list[str] = []
    for chunk in text.split():
        if chunk.isalnum() and chunk not in _SPECIAL:
            out.append(chunk)
        else:
            out.extend(_split_chunk(chunk))
    if language in NO_SPACE_LANGUAGES:
        out = [piece for tok in out for piece in _split_no_space(tok)]
    return out


def _split_no_space(token: str) -> list[str]:
    if not _NO_SPACE.search(token):
        return [token]
    pieces, start = [], 0
    for m in _NO_SPACE.finditer(token):
        if m.start() > start:
            pieces.append(token[start : m.start()])
        pieces.append(m.group())
        start = m.end()
    if start < len(token):
        pieces.append(token[start:])
    return pieces


_TERMINAL_TOKEN = regex.compile(r"^\p{Sentence_Terminal}$")
_ALL_PUNCT = regex.compile(r"^\p{P}+$")
_TERMINAL = regex.compile(r"\p{Sentence_Terminal}$")
_PUNCT_OR_SYMBOL = regex.compile(r"^[\p{P}\p{S}]+$")


def is_symbol(token: str) -> bool:
    return bool(_PUNCT_OR_SYMBOL.match(token))


def ends_sentence(line: str) -> bool:
    """True when the line ends with a Unicode Sentence_Terminal character (. ! ? 。 …)."""
    return bool(_TERMINAL.search(line))


def count_sentences(line: str, language: str | None = None) -> int:
    """Sentences as spaCy's sentencizer finds them: a token that is one sentence-terminal
    character ends a sentence, and the next token that is not punctuation starts one."""
    n, seen_end = 0, False
    for i, token in enumerate(words(line, language)):
        terminal = bool(_TERMINAL_TOKEN.match(token))
        if i == 0 or (seen_end and not terminal and not _ALL_PUNCT.match(token)):
            n += 1
            seen_end = False
        if terminal:
            seen_end = True
    return n


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
