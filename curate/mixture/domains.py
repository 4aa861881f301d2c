"""Domain of every document from config rules (first match wins), as one Spark column."""

from __future__ import annotations

import re

from pyspark.sql import Column
from pyspark.sql import functions as F

from curate.config import DomainRule


def host_regex(pattern: str) -> str:
    """A host glob as a regular expression: "*.wikipedia.org" matches wikipedia.org and
    every subdomain; "*" elsewhere matches anything."""
    if pattern.startswith("*."):
        return "^(.*\\.)?" + re.escape(pattern[2:]).replace("\\*", ".*") + "$"
    return "^" + re.escape(pattern).replace("\\*", ".*") + "$"


def _any(col: str, patterns: list[str]) -> Column:
    out = F.lit(False)
    for p in patterns:
        out = out | F.coalesce(F.col(col).rlike(p), F.lit(False))
    return out


def _matches(rule: DomainRule) -> Column:
    cond = F.lit(True)
    if rule.hosts:
        cond = cond & _any("host", [host_regex(h.lower()) for h in rule.hosts])
    if rule.url_patterns:
        cond = cond & _any("url", rule.url_patterns)
    if rule.languages:
        cond = cond & F.coalesce(F.col("language").isin(*rule.languages), F.lit(False))
    if rule.buckets:
        cond = cond & F.coalesce(F.col("quality_bucket").isin(*rule.bucket_values()), F.lit(False))
    return cond


def domain_column(rules: list[DomainRule], default: str) -> Column:
    out = F.lit(default)
    for rule in reversed(rules):
        out = F.when(_matches(rule), F.lit(rule.name)).otherwise(out)
    return out
