"""Repair mojibake in extracted text with ftfy (Speer 2019), line by line.

ftfy works a line at a time anyway; only the lines that hold a character mojibake is
made of (``filters.encoding.MOJIBAKE_CHARS``, the test the encoding filter's
``suspect_lines`` uses too) are handed to it, which keeps the cost off lines of ASCII,
CJK or typographic punctuation alone.
"""

from __future__ import annotations

import ftfy

from filters.encoding import MOJIBAKE_CHARS

# The encoding fixes only: quotes, ligatures, widths, line breaks and normalisation of
# the page's own text are left as the page has them.
_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,
    uncurl_quotes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    fix_line_breaks=False,
    normalization=None,
    explain=False,
)


def repair(text: str) -> tuple[str, int]:
    """The repaired text and how many characters the repair removed (mojibake sequences
    are longer than the characters they stand for; at least 1 per changed line)."""
    if not MOJIBAKE_CHARS.search(text):
        return text, 0
    lines = text.split("\n")
    removed = 0
    for i, line in enumerate(lines):
        if MOJIBAKE_CHARS.search(line):
            fixed = ftfy.fix_text(line, _CONFIG)
            if fixed != line:
                removed += max(1, len(line) - len(fixed))
                lines[i] = fixed
    return ("\n".join(lines), removed) if removed else (text, 0)
