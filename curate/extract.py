"""Main-text extraction from HTML, in-process, with a per-document time limit."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from curate.config import ExtractConfig

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)


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


def make_extractor(cfg: ExtractConfig) -> Callable[[str, str | None], str]:
    """Return ``extract(html, url) -> text`` ('' when the page has no main text)."""
    if cfg.extractor == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        def extract_resiliparse(html: str, url: str | None) -> str:
            tree = HTMLTree.parse(html)
            return extract_plain_text(
                tree, main_content=True, alt_texts=False, links=False, list_bullets=True
            ).strip()

        return extract_resiliparse

    import trafilatura

    def extract_trafilatura(html: str, url: str | None) -> str:
        text = trafilatura.extract(
            html,
            url=url,
            fast=cfg.fast,
            favor_precision=cfg.favor_precision,
            favor_recall=cfg.favor_recall,
            include_comments=cfg.include_comments,
            include_tables=cfg.include_tables,
            # deduplicate keeps a process-wide cache: output would depend on record order.
            deduplicate=False,
            with_metadata=False,
        )
        return (text or "").strip()

    return extract_trafilatura
