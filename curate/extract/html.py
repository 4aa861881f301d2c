"""Main-text extraction from HTML, in-process, with a per-document time limit."""

from __future__ import annotations

import html as html_lib
import logging
import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import NamedTuple

from lxml import etree
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlElementClassLookup,
    HtmlEntity,
    HtmlProcessingInstruction,
)

from curate.config import ExtractConfig
from curate.extract.fast_xpath import FastXPath

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

# lxml.html chooses the Python class of every element it hands out with a Python callback
# (form elements get classes of their own), and trafilatura has it hand out millions. It
# uses no form-element API, so choosing the base classes in C gives the same text (tested
# on real pages), 9 % faster on docs-crawl (interleaved A/B).
_C_LOOKUP = etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
)
_PY_LOOKUP = HtmlElementClassLookup()


class ExtractTimeout(Exception):
    pass


def _raise_timeout(signum, frame):
    raise ExtractTimeout


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ExtractTimeout in this thread after ``seconds`` of wall time.

    SIGALRM interrupts Python code between bytecodes: a subprocess per page (datatrove's
    sandbox) would also stop C code, but costs a pickle round trip per page. Off the main
    thread signals cannot be used, so no limit applies there.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def c_class_lookup(parser: etree.HTMLParser) -> Iterator[None]:
    """Give the parser's elements lxml.html's classes chosen in C for the duration only, so
    that other users of the parser (datatrove in the benchmark) get it unchanged."""
    parser.set_element_class_lookup(_C_LOOKUP)
    try:
        yield
    finally:
        parser.set_element_class_lookup(_PY_LOOKUP)


@cache
def _fast_lists() -> list[tuple[list, list, list]]:
    """(trafilatura's list, its expressions, their curate.extract.fast_xpath rewrites) for every
    list of expressions in ``trafilatura.xpaths``."""
    import trafilatura.xpaths

    swaps = []
    for value in vars(trafilatura.xpaths).values():
        if isinstance(value, list) and value and all(isinstance(x, etree.XPath) for x in value):
            fast = [FastXPath.of(x) or x for x in value]
            if any(f is not x for f, x in zip(fast, value, strict=True)):
                swaps.append((value, list(value), fast))
    return swaps


@contextmanager
def fast_xpaths() -> Iterator[None]:
    """Have trafilatura use the rewritten expressions of curate.extract.fast_xpath (same results,
    tested on real pages) for the duration only: its modules share these list objects, so
    they are refilled in place and refilled back. Threads racing on them are harmless:
    either set of expressions gives the same results."""
    swaps = _fast_lists()
    for shared, _, fast in swaps:
        shared[:] = fast
    try:
        yield
    finally:
        for shared, original, _ in swaps:
            shared[:] = original


class Extracted(NamedTuple):
    text: str  # '' when the page has no main text
    fallback: bool  # the slower extraction gave it (lost_article)


# Where the page's article text can be seen cheaply in the raw HTML: text in <p> elements,
# and long runs of text between block tags once inline tags are dropped (articles laid out
# in <div>s). Code, tables and page furniture do not count.
_PARAGRAPH = re.compile(r"<p\b[^>]*>(.*?)</p\s*>", re.S | re.I)
_HIDDEN = re.compile(
    r"<(script|style|noscript|template|svg|textarea|pre|code|table|nav|footer|header)\b.*?"
    r"</\1\s*>|<!--.*?-->",
    re.S | re.I,
)
_INLINE = re.compile(
    r"</?(?:a|b|i|em|strong|span|br|font|u|small|sup|sub|abbr|cite|q|mark|time)\b[^>]*>", re.I
)
_RUN = re.compile(r">([^<]{150,})<")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
# A fast extraction under SHORT characters is re-done the slower way when the page shows
# at least twice its length in paragraphs (and PARAGRAPHS characters), ten times its
# length in long runs (and RUNS), or when it is empty and the page has RUNS_IF_EMPTY in
# long runs. Any fast extraction is re-done when the page shows twice its length (and
# RUNS) in long runs outside <p>: where trafilatura's precise fast path finds no article
# frame its recovery takes <p>, <code> and tables but no <div> text, so DocBook-style
# pages (<div class="para">) kept a few code fragments of pages of prose. Text in <p> does
# not count there: a long extraction that left some out did so on purpose (comments,
# teasers). Measured in bench/extract.py (README, Extraction).
SHORT, PARAGRAPHS, RUNS, RUNS_IF_EMPTY = 1000, 500, 2000, 500


def _visible(fragments: list[str]) -> int:
    return sum(len(_SPACE.sub(" ", html_lib.unescape(_TAG.sub("", f))).strip()) for f in fragments)


def _runs(visible: str) -> int:
    """Characters in long runs of ``visible`` (HTML with _HIDDEN removed) once inline
    tags are dropped."""
    return _visible(_RUN.findall(_INLINE.sub("", visible)))


def lost_article(extracted_chars: int, html: str) -> bool:
    """True when the fast extraction is implausibly short for the page (it lost the
    article, or its prose outside <p>): the test that decides a slower re-extraction."""
    # Scripts and styles go first: a lazy <p> match across a large script is slow.
    visible = _HIDDEN.sub("", html)
    if extracted_chars < SHORT:
        paragraphs = _visible(_PARAGRAPH.findall(html))
        if paragraphs >= max(PARAGRAPHS, 2 * extracted_chars):
            return True
        runs = _runs(visible)
        if runs >= max(RUNS, 10 * extracted_chars) or (
            extracted_chars == 0 and runs >= RUNS_IF_EMPTY
        ):
            return True
    # <p> elements emptied, their tags kept so the text around them does not join up.
    return _runs(_PARAGRAPH.sub("<p></p>", visible)) >= max(RUNS, 2 * extracted_chars)


def make_extractor(cfg: ExtractConfig) -> Callable[[str, str | None], Extracted]:
    """Return ``extract(html, url) -> Extracted`` (trafilatura, re-done the slower way where
    ``extract.fallback`` and lost_article say so; or resiliparse)."""
    if cfg.extractor == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        def extract_resiliparse(html: str, url: str | None) -> Extracted:
            tree = HTMLTree.parse(html)
            text = extract_plain_text(
                tree, main_content=True, alt_texts=False, links=False, list_bullets=True
            )
            return Extracted(text.strip(), False)

        return extract_resiliparse

    import trafilatura
    from trafilatura.utils import HTML_PARSER

    def run(html: str, url: str | None, fast: bool, precision: bool) -> str:
        with c_class_lookup(HTML_PARSER), fast_xpaths():
            text = trafilatura.extract(
                html,
                url=url,
                fast=fast,
                favor_precision=precision,
                favor_recall=cfg.favor_recall,
                include_comments=cfg.include_comments,
                include_tables=cfg.include_tables,
                # deduplicate keeps a process-wide cache: output would depend on order.
                deduplicate=False,
                with_metadata=False,
            )
        return (text or "").strip()

    def extract_trafilatura(html: str, url: str | None) -> Extracted:
        text = run(html, url, cfg.fast, cfg.favor_precision)
        if cfg.fast and cfg.fallback and lost_article(len(text), html):
            # trafilatura's full cascade (readability, jusText). A short result may be a
            # page the precision rules hide: without the bias. A long one is an article
            # they recognise, short of its prose outside <p>: with it (without, the
            # cascade takes comments and teasers on news pages).
            precision = cfg.favor_precision and len(text) >= SHORT
            slower = run(html, url, False, precision)
            if len(slower) > len(text):
                return Extracted(slower, True)
        return Extracted(text, False)

    return extract_trafilatura
