"""The one line a fastText model reads: fastText stops at a newline, so every run of
whitespace becomes one space (DCLM joins a page's lines the same way before scoring)."""

from __future__ import annotations


def one_line(text: str, max_chars: int | None = None) -> str:
    """``text`` (its first ``max_chars`` characters) on one line, stripped. str.split
    breaks at the same Unicode whitespace as ``\\s+``, at under half a regex's cost."""
    return " ".join((text if max_chars is None else text[:max_chars]).split())
