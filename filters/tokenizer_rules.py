"""spaCy's English tokenizer rules as plain data, kept between runs.

The word split (filters.text) needs only spaCy's prefix, suffix, infix and URL expressions
and its special cases, but getting them means importing spaCy (and torch, where it is
installed, through thinc) and building its English tokenizer: about 1.7 s in every Python
worker that splits words. Read back from a local JSON file they take milliseconds. The
file is keyed by spaCy's version and this module's bytes; one that cannot be read is
rebuilt from spaCy, and a folder that cannot be written only means each worker asks
spaCy, as it did before.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filters.kept import kept, kept_path

FOLDER = Path("~/.cache/curate/tokenizer").expanduser()
# Each expression of spaCy's tokenizer, and the method of its compiled pattern it is.
EXPRESSIONS = {"prefix_search": "search", "suffix_search": "search",
               "infix_finditer": "finditer", "url_match": "match"}  # fmt: skip


@dataclass(frozen=True)
class Rules:
    prefix_search: Callable[[str], re.Match[str] | None]
    suffix_search: Callable[[str], re.Match[str] | None]
    infix_finditer: Callable[[str], Iterator[re.Match[str]]]
    url_match: Callable[[str], re.Match[str] | None]
    special: dict[str, tuple[str, ...]]


def from_spacy() -> dict[str, Any]:
    """The rules of spaCy's English tokenizer: each expression's pattern and flags (all
    four are compiled ``re`` patterns), each special case's token texts."""
    from spacy.lang.en import English
    from spacy.symbols import ORTH

    tok = English().tokenizer
    expressions = {}
    for name in EXPRESSIONS:
        pattern = getattr(tok, name).__self__
        expressions[name] = {"pattern": pattern.pattern, "flags": pattern.flags}
    special = {k: [t[ORTH] for t in v] for k, v in tok.rules.items()}
    return {"expressions": expressions, "special": special}


def compiled(data: dict[str, Any]) -> Rules:
    exprs = data["expressions"]
    found = {
        name: getattr(re.compile(exprs[name]["pattern"], exprs[name]["flags"]), method)
        for name, method in EXPRESSIONS.items()
    }
    special = {k: tuple(v) for k, v in data["special"].items()}
    return Rules(**found, special=special)


def cache_path(folder: Path) -> Path:
    return kept_path(folder, __file__, "spacy", "en.json")


def load(folder: Path = FOLDER) -> Rules:
    """The rules from ``folder``'s file for this spaCy, else from spaCy (then stored)."""
    return kept(
        cache_path(folder),
        "tokenizer rules",
        read=lambda path: compiled(json.loads(path.read_text("utf-8"))),
        build=from_spacy,
        write=lambda data, out: out.write(json.dumps(data).encode()),
        use=compiled,
        unreadable=(OSError, ValueError, KeyError, TypeError, re.error),
    )
