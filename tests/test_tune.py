"""curate tune: counts under new thresholds equal a real rerun's, from stored signals."""

from __future__ import annotations

import json

from curate.pipeline import refilter
from curate.runner import load_results
from curate.storage import use
from curate.tune import table, tune
from tests.conftest import demo_config

FILTER_STAGES = ("language", "quality", "perplexity")


def _removed(stats: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for stage in stats["funnel"]:
        if stage["name"] in FILTER_STAGES:
            out.update(stage["removed"])
    return out


def test_tune_matches_a_real_rerun(spark, demo_run, demo_crawl, tmp_path):
    stats, out = demo_run
    change = [
        "quality.gopher_quality.min_words=240",
        "quality.gopher_repetition.max_dup_line_frac=0.2",
    ]
    current = demo_config(demo_crawl, tmp_path / "now")
    proposed = demo_config(demo_crawl, tmp_path / "new", change)
    annotate = load_results(use(None), str(out), ["annotate"])["annotate"].tables["documents"]
    report = tune(spark, use(None), current, proposed, annotate, str(out / "tune"), samples=3)
    rerun = refilter(proposed, out, spark=spark)
    now = {r: e["docs_now"] for r, e in report["rules"].items() if r != "(kept)" and e["docs_now"]}
    new = {
        r: e["docs_then"] for r, e in report["rules"].items() if r != "(kept)" and e["docs_then"]
    }
    assert now == _removed(stats)
    assert new == _removed(rerun)
    assert new != now
    # Removals per language, now and then, are the filter's per language.
    by_lang = rerun["filter"]["removed_by_language"]
    for lang, v in report["languages"].items():
        assert v["removed_then"] == sum(by_lang.get(lang, {}).values()), lang
    kept = report["rules"]["(kept)"]
    assert kept["docs_then"] == next(s for s in rerun["funnel"] if s["name"] == "perplexity")["out"]
    assert kept["tokens_now"] > kept["tokens_then"] > 0
    # The tokens kept now are the report funnel's after the last filter step.
    data = json.loads((out / "report" / "data.json").read_text())["data"]
    after_filter = next(s for s in data["funnel"] if s["stage"] == "perplexity")
    assert kept["tokens_now"] == after_filter["tokens"]
    newly = report["changed"]["newly_removed"]
    assert newly["documents"] == kept["docs_now"] - kept["docs_then"]
    sample = [
        json.loads(line) for line in (out / "tune" / "newly_removed.jsonl").read_text().splitlines()
    ]
    assert len(sample) == min(3, newly["documents"])
    assert all(d["now"] is None and d["then"] for d in sample)
    assert "docs now" in table(report)
