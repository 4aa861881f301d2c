"""Text splitting shared by the filters: words, lines, paragraphs, sentences, n-grams."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache

import regex

from filters import tokenizer_rules
from filters.tokenizer_rules import Rules

# Scripts written without spaces between words: in documents of these languages each
# character counts as one word, so word counts stay meaningful.
_NO_SPACE = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}]"
)
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "wuu", "yue"})

# Word splitting is spaCy's English tokenizer (the one datatrove's filters use): its own
# rules (prefix, suffix and infix expressions, URL match, the 1,300 special cases such as
# "Oct.", "Ph.D.", "don't" -> "do" + "n't"), taken from spaCy (filters.tokenizer_rules),
# applied by the algorithm of its Tokenizer (spacy/tokenizer.pyx: _split_affixes,
# _attach_tokens) in Python, without building a Doc; the split of each distinct chunk is
# cached, as spaCy caches it. Whitespace tokens are dropped, as datatrove drops them.


@cache
def _rules() -> Rules:
    return tokenizer_rules.load()


@cache
def _merges() -> tuple[dict[tuple[str, ...], tuple[str, ...]], int]:
    """Special cases that hold affix or infix characters (":)", "''", "z."): spaCy's
    _apply_special_cases finds them after splitting as the token runs they split into,
    and puts the special case's tokens in their place. (runs -> tokens, longest run)."""
    special = _rules().special
    runs = {}
    for key, tokens in special.items():
        split = _split(key, {})
        if len(split) > 1 and split != tokens:
            runs[split] = tokens
    return runs, max(map(len, runs), default=0)


def _split(chunk: str, special: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    rules = _rules()
    if chunk in special:
        return special[chunk]
    prefixes: list[str] = []
    suffixes: list[str] = []
    string, last = chunk, -1
    while string and len(string) != last:  # _split_affixes
        # No prefix, suffix or infix rule matches a letter (words() relies on it too).
        if string in special or string.isalpha():
            break
        last = len(string)
        m = rules.prefix_search(string)
        pre = m.end() if m else 0
        if pre:
            minus_pre = string[pre:]
            if minus_pre in special:
                prefixes.append(string[:pre])
                string = minus_pre
                break
        m = rules.suffix_search(string[pre:])
        suf = len(m.group()) if m else 0
        if suf:
            minus_suf = string[:-suf]
            if minus_suf in special:
                suffixes.append(string[-suf:])
                string = minus_suf
                break
        if pre and suf and pre + suf <= len(string):
            prefixes.append(string[:pre])
            suffixes.append(string[-suf:])
            string = string[pre:-suf]
        elif pre:
            prefixes.append(string[:pre])
            string = string[pre:]
        elif suf:
            suffixes.append(string[-suf:])
            string = string[:-suf]
        if string in special:
            break
    core: list[str] = []
    if string in special:  # _attach_tokens
        core = list(special[string])
    elif string and (string.isalpha() or rules.url_match(string)):
        core = [string]
    elif string:
        start = 0
        for m in rules.infix_finditer(string):
            if m.start() == 0:
                continue  # an infix at the start is not split off
            if m.start() != start:
                core.append(string[start : m.start()])
            if m.end() != m.start():
                core.append(m.group())
            start = m.end()
        if string[start:]:
            core.append(string[start:])
    return (*prefixes, *core, *suffixes[::-1])


@lru_cache(maxsize=1 << 17)
def _split_chunk(chunk: str) -> tuple[str, ...]:
    tokens = _split(chunk, _rules().special)
    runs, longest = _merges()
    if len(tokens) < 2:
        return tokens
    last = len(tokens)
    spans = ((i, n) for i in range(last) for n in range(2, min(longest, last - i) + 1))
    found = [(i, n) for i, n in spans if tokens[i : i + n] in runs]
    if not found:
        return tokens
    taken: list[tuple[int, int]] = []
    for i, n in sorted(found, key=lambda m: (-m[1], m[0])):  # longest first, as spaCy
        if all(i + n <= j or j + k <= i for j, k in taken):
            taken.append((i, n))
    out: list[str] = []
    at = 0
    for i, n in sorted(taken):
        out += [*tokens[at:i], *runs[tokens[i : i + n]]]
        at = i + n
    return (*out, *tokens[at:])


def words(text: str, language: str | None = None) -> list[str]:
    """Words and punctuation tokens, in order (punctuation tokens are kept, as spaCy does)."""
    special = _rules().special
    out: list[str] = []
    for chunk in text.split():
        if chunk.isalpha() and chunk not in special:  # no affix or infix can match
            out.append(chunk)
        else:
            out.extend(_split_chunk(chunk))
    if language in NO_SPACE_LANGUAGES:
        out = [piece for tok in out for piece in _split_no_space(tok)]
    return out


@lru_cache(maxsize=2)
def doc_words(text: str, language: str | None = None) -> tuple[str, ...]:
    """``words`` of a whole document, kept for the next filter that asks: annotate runs
    every filter over the same text in turn, and the split is the costly part."""
    return tuple(words(text, language))


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


def _sentence_step(state: int, token: str) -> tuple[int, int]:
    """spaCy's sentencizer on one token: (sentences it starts, the next state). States:
    0 before a line's first token, 1 inside a sentence, 2 after a token that is one
    sentence-terminal character (the next token that is not punctuation starts one)."""
    terminal = len(token) == 1 and bool(_TERMINAL_TOKEN.match(token))
    starts = state == 0 or (state == 2 and not terminal and not _ALL_PUNCT.match(token))
    return int(starts), 2 if terminal else 1 if starts else state


def sentences_over(tokens: Iterable[str], state: int = 0) -> tuple[int, int]:
    """``_sentence_step`` over ``tokens`` from ``state``: (sentences started, last state)."""
    n = 0
    for token in tokens:
        started, state = _sentence_step(state, token)
        n += started
    return n, state


@lru_cache(maxsize=1 << 16)
def _chunk_sentences(chunk: str) -> tuple[tuple[int, int], ...]:
    """A whitespace chunk's tokens run through ``_sentence_step`` from each state: the
    count only needs this per distinct chunk, not the chunk's tokens again."""
    tokens = _split_chunk(chunk)
    return tuple(sentences_over(tokens, state) for state in range(3))


def count_sentences(line: str, language: str | None = None) -> int:
    """Sentences as spaCy's sentencizer finds them in ``words(line, language)``: a token
    that is one sentence-terminal character ends a sentence, and the next token that is
    not punctuation starts one."""
    if language in NO_SPACE_LANGUAGES:  # its words are split further than its chunks
        return sentences_over(words(line, language))[0]
    n, state = 0, 0
    special = _rules().special
    for chunk in line.split():
        if chunk.isalpha() and chunk not in special:  # one word token, as in words()
            n += state != 1
            state = 1
        else:
            started, state = _chunk_sentences(chunk)[state]
            n += started
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
