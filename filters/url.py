"""URL blocklist. Source: Penedo et al. 2024, "The FineWeb Datasets", Sec. 3.2 (URL filtering)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from filters.rules import Count, Rule

_URL_WORDS = re.compile(r"[a-z0-9]+")


def parse_list(text: str) -> tuple[str, ...]:
    """A list file's entries: one per line; blank lines and # comments ignored."""
    lines = (ln.strip() for ln in text.splitlines())
    return tuple(ln.lower() for ln in lines if ln and not ln.startswith("#"))


@dataclass(frozen=True)
class UrlFilter:
    name: ClassVar[str] = "url_filter"
    SIGNALS: ClassVar[dict[str, str]] = {"blocked_domain": "bool", "n_blocked_words": "int64"}
    ANNOTATE_FIELDS: ClassVar[tuple[str, ...]] = (
        "blocked_domains",
        "blocked_domains_file",
        "blocked_words",
        "blocked_words_file",
        "ut1_dir",
        "ut1_categories",
    )

    enabled: bool = True
    # A domain blocks itself and its subdomains (example.com blocks www.example.com).
    blocked_domains: tuple[str, ...] = ()
    # A list file (one entry a line): read by the annotate stage through the storage layer
    # and merged into blocked_domains; the filter itself never opens a file.
    blocked_domains_file: str | None = None
    # Whole words of the URL (host and path split on non-alphanumerics).
    blocked_words: tuple[str, ...] = ()
    blocked_words_file: str | None = None
    # A copy of the UT1 blacklists (dsi.ut-capitole.fr/blacklists, <category>/domains), as
    # FineWeb's URL filter uses it; the domains of ut1_categories are merged into
    # blocked_domains by the annotate stage. FineWeb blocks the adult category.
    ut1_dir: str | None = None
    ut1_categories: tuple[str, ...] = ("adult",)
    max_blocked_words: Count | None = 0

    def __post_init__(self) -> None:
        domains = {d.lower().lstrip(".") for d in self.blocked_domains}
        words = {w.lower() for w in self.blocked_words}
        object.__setattr__(self, "_domains", frozenset(domains))
        object.__setattr__(self, "_words", frozenset(words))

    def signals(self, url: str | None) -> dict[str, Any]:
        if not url:
            return dict.fromkeys(self.SIGNALS)
        try:
            parts = urlsplit(url.lower())
            host, rest = parts.hostname or "", parts.path + " " + parts.query
        except ValueError:  # e.g. an unclosed IPv6 bracket: no host; its words still count
            host, rest = "", url.lower()
        labels = host.split(".")
        suffixes = {".".join(labels[i:]) for i in range(len(labels))}
        tokens = set(_URL_WORDS.findall(host + " " + rest))
        return {
            "blocked_domain": bool(suffixes & self._domains),
            "n_blocked_words": len(tokens & self._words),
        }

    def rules(self) -> list[Rule]:
        rules = [Rule(f"{self.name}.blocked_domain", f"{self.name}.blocked_domain", "true")]
        if self.max_blocked_words is not None:
            rules.append(
                Rule(
                    f"{self.name}.blocked_words",
                    f"{self.name}.n_blocked_words",
                    ">",
                    self.max_blocked_words,
                )
            )
        return rules
