import hashlib
from collections import Counter

from curate.demo.crawl import write_demo_crawl


def digest(directory) -> dict[str, str]:
    files = sorted(p for p in directory.iterdir() if p.is_file())
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_demo_crawl_is_deterministic(demo_crawl, tmp_path):
    write_demo_crawl(tmp_path)
    assert digest(tmp_path) == digest(demo_crawl)


def test_demo_crawl_covers_every_stage(demo_truth):
    kinds = Counter(r["kind"] for r in demo_truth.values())
    assert kinds["article"] >= 150
    for kind in (
        "boilerplate",
        "gibberish",
        "repetitive",
        "non_english",
        "exact_duplicate",
        "near_duplicate",
        "pii",
        "benchmark",
        "not_html",
        "http_404",
        "malformed",
    ):
        assert kinds[kind] >= 1, kind
    langs = {r["lang"] for r in demo_truth.values() if r["kind"] == "non_english"}
    assert {"de", "fr", "es", "it", "nl", "zh"} <= langs
    urls = {r["url"] for r in demo_truth.values()}
    for rec in demo_truth.values():
        if "duplicate_of" in rec:
            assert rec["duplicate_of"] in urls
