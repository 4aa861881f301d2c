"""The run report: every figure it links exists, and its numbers are the run's."""

from __future__ import annotations

import json
import re
import shutil
import threading
from html.parser import HTMLParser

import pyarrow.parquet as pq
import pytest

from curate import pipeline
from curate.config import Config, TokenizerConfig
from curate.errors import StageError
from curate.quality import rules
from curate.report.data import FILTER_PART
from curate.report.run_report import JOB_GROUP
from curate.runner import Stage
from curate.tokenize import load_tokenizer
from tests.conftest import demo_config


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.headings: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        self._in_h2 = tag == "h2"

    def handle_data(self, data):
        if self._in_h2:
            self.headings.append(data)
            self._in_h2 = False


def test_report_links_every_figure(demo_run):
    stats, out = demo_run
    assert stats["report"] == str(out / "report" / "index.html")
    page = _Images()
    page.feed((out / "report" / "index.html").read_text())
    assert page.headings == [
        "Funnel", "Records that did not become documents", "Removals per rule",
        "Quality signals and thresholds", "Removed samples", "Languages", "Removals per language",
        "Perplexity", "Quality buckets", "Near-duplicate clusters", "PII replaced per entity",
        "Benchmark items found", "Mixture",
    ]  # fmt: skip
    for src in page.images:
        png = (out / "report" / src).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000, src
    # One histogram per numeric rule whose signal has values (c4.bad_words has none: the
    # demo lists no bad words), the language score and each classifier's score.
    table = pq.read_table(out / "stages" / "filter" / "documents")
    expected = {"language_score", "classifier_demo"}
    for rule in rules(Config.model_validate(stats["config"])):
        group, name = rule.signal.split(".")
        values = table.column(group).combine_chunks().field(name)
        if rule.op in ("<", ">") and values.null_count < len(values):
            expected.add(rule.name)
    assert "c4.bad_words" not in expected
    slugs = {"signal-" + re.sub(r"[^a-z0-9]+", "-", n.lower()) + ".png" for n in expected}
    assert {s for s in page.images if s.startswith("signal-")} == slugs


def test_report_numbers_are_the_runs(demo_run):
    stats, out = demo_run
    data = json.loads((out / "report" / "data.json").read_text())["data"]
    funnel = data["funnel"]
    assert [f["stage"] for f in funnel] == [s["name"] for s in stats["funnel"]]
    assert [f["documents"] for f in funnel] == [s["out"] for s in stats["funnel"]]
    # Tokens of every extracted document, counted here with the same tokenizer.
    table = pq.read_table(out / "stages" / "filter" / "documents", columns=["text"])
    tok = load_tokenizer(TokenizerConfig(kind="tiktoken", name="cl100k_base"))
    assert funnel[0]["tokens"] == sum(len(t) for t in tok.encode_batch(table["text"].to_pylist()))
    tokens = [f["tokens"] for f in funnel]
    assert tokens == sorted(tokens, reverse=True) and tokens[-1] < tokens[0]
    # The language-score histogram holds every extracted document once.
    assert sum(data["signals"]["language_score"]["counts"]) == stats["stages"][0]["out"]
    assert data["removals"]["dedup"] == stats["funnel"][4]["removed"]
    assert data["mixture"].keys() == stats["mixture"]["domains"].keys()


def test_report_red_is_each_rules_removals(demo_run):
    """The red of every histogram is the documents its rule removed, nothing else."""
    stats, out = demo_run
    data = json.loads((out / "report" / "data.json").read_text())["data"]
    removed = {r: n for step in stats["funnel"] for r, n in step["removed"].items()}
    for name, h in data["signals"].items():
        rule = "language.low_score" if name == "language_score" else name
        assert sum(h["removed"]) == removed.get(rule, 0), name
        assert all(0 <= g <= c for g, c in zip(h["removed"], h["counts"], strict=True))
    # The URL word list removes nothing on the demo: no red at all there.
    assert sum(data["signals"]["url_filter.blocked_words"]["removed"]) == 0
    assert "extract" in data["removals"]  # shown as a table of record reasons, not bars


def test_report_histograms_count_the_documents_that_have_the_signal(demo_run):
    """Each rule's histogram holds every document its rule was applied to once, and no
    document without the signal (a null is in no bin, not in the first)."""
    stats, out = demo_run
    data = json.loads((out / "report" / "data.json").read_text())["data"]
    table = pq.read_table(out / "stages" / "filter" / "documents").to_pylist()
    language = {r for step in stats["funnel"] if step["name"] == "language"
                for r in step["removed"]}  # fmt: skip
    reached = [d for d in table if d["filter_reason"] not in language]
    seen_null = False
    for rule in rules(Config.model_validate(stats["config"])):
        if rule.name not in data["signals"]:
            continue
        group, field = rule.signal.split(".", 1)
        values = [(d[group] or {}).get(field) for d in reached]
        seen_null |= None in values
        assert sum(data["signals"][rule.name]["counts"]) == sum(v is not None for v in values)
    assert seen_null  # the demo has documents without some signal (toxicity: English only)


def test_report_samples_are_removed_documents(demo_run):
    """Each rule's samples are documents that rule removed, the lowest ids first."""
    stats, out = demo_run
    data = json.loads((out / "report" / "data.json").read_text())["data"]
    table = pq.read_table(out / "stages" / "filter" / "documents",
                          columns=["id", "url", "text", "filter_reason"]).to_pylist()  # fmt: skip
    removed = {r: n for step in stats["funnel"] for r, n in step["removed"].items()}
    assert data["samples"] and set(data["samples"]) <= set(removed)
    for reason, samples in data["samples"].items():
        gone = sorted((d for d in table if d["filter_reason"] == reason), key=lambda d: d["id"])
        assert len(samples) == min(3, len(gone))
        assert samples == [{"url": d["url"], "text": d["text"][:300]} for d in gone[:3]]


def test_report_screenshot_in_chromium(demo_run, tmp_path):
    """The report as a person sees it: headless Chromium at 1400 px."""
    import shutil
    import subprocess

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium on PATH (Debian package chromium)")
    _, out = demo_run
    shot = tmp_path / "report.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
             "--window-size=1400,3000", f"--screenshot={shot}"]  # fmt: skip
    done = subprocess.run([chromium, *flags, (out / "report" / "index.html").as_uri()],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as img:
        assert img.size == (1400, 3000)
        # Drawn, not blank: many colours (figures), and some of the report's red.
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 200
        assert any(abs(r - 0xC0) < 8 and abs(g - 0x50) < 8 and abs(b - 0x4D) < 8
                   for _, (r, g, b) in colours)  # fmt: skip


def _new_jobs(spark, group: str, seen: set[int]) -> list[int]:
    return sorted(set(spark.sparkContext.statusTracker().getJobIdsForGroup(group)) - seen)


def test_report_filter_part_reused_when_only_later_stages_rerun(spark, demo_crawl, demo_run,
                                                                tmp_path):  # fmt: skip
    """The report's part that comes from the filter stage alone is begun before the later
    stages end, and a rerun that changes only later stages reuses it from data.json (no
    job of its own) and counts the funnel anew."""
    out = tmp_path / "out"
    shutil.copytree(demo_run[1], out)
    (out / "report" / "data.json").unlink()
    tracker = spark.sparkContext.statusTracker()
    seen = {g: set(tracker.getJobIdsForGroup(g)) for g in (JOB_GROUP, "curate-mixture")}
    stats = pipeline.run(demo_config(demo_crawl, out, ["pii.replace.EMAIL_ADDRESS=<MAIL>"]), spark)
    assert stats["run"]["stages_run"] == ["pii", "decontam", "publish", "mixture"]
    report_jobs = _new_jobs(spark, JOB_GROUP, seen[JOB_GROUP])
    mixture_jobs = _new_jobs(spark, "curate-mixture", seen["curate-mixture"])
    assert report_jobs and mixture_jobs and report_jobs[0] < mixture_jobs[-1]
    first = json.loads((out / "report" / "data.json").read_text())
    demo = json.loads((demo_run[1] / "report" / "data.json").read_text())
    assert first["filter_key"] == demo["filter_key"] and first["key"] != demo["key"]
    assert {k: first["data"][k] for k in FILTER_PART} == {k: demo["data"][k] for k in FILTER_PART}

    seen = set(tracker.getJobIdsForGroup(JOB_GROUP))
    cfg = demo_config(demo_crawl, out, ["pii.replace.EMAIL_ADDRESS=<E-MAIL>"])
    assert pipeline.run(cfg, spark)["run"]["stages_run"] == stats["run"]["stages_run"]
    assert _new_jobs(spark, JOB_GROUP, seen) == []
    second = json.loads((out / "report" / "data.json").read_text())
    assert second["key"] != first["key"]
    for key in (*FILTER_PART, "funnel"):  # a replacement string removes nothing
        assert second["data"][key] == first["data"][key], key
    page = _Images()
    page.feed((out / "report" / "index.html").read_text())
    assert all((out / "report" / src).is_file() for src in page.images)
    assert sum(src.startswith("signal-") for src in page.images) == len(first["data"]["signals"])


def test_report_drawn_while_the_next_stage_runs_and_stopped_by_its_failure(
    spark, demo_crawl, demo_run, tmp_path, monkeypatch
):
    """The stage after filter starts while the report's filter part is still being
    collected and drawn (its thread alive); that stage failing, the run raises its error,
    and neither the report's thread nor any of its Spark jobs outlives it."""
    alive_at_start = []

    class Fails(Stage):
        name = "fails"
        sections = ("dedup",)

        def run(self, ctx, table):
            alive_at_start.append(any(t.name == JOB_GROUP for t in threading.enumerate()))
            raise OSError("disk gone")

    at = pipeline.STAGE_NAMES.index("filter") + 1
    stages = [*pipeline.STAGES[:at], Fails(), *pipeline.STAGES[at:]]
    monkeypatch.setattr(pipeline, "STAGES", stages)
    monkeypatch.setattr(pipeline, "STAGE_NAMES", [s.name for s in stages])
    with pytest.raises(StageError, match=r"stage fails failed: .*disk gone"):
        pipeline.refilter(demo_config(demo_crawl, tmp_path), demo_run[1], spark=spark)
    assert alive_at_start == [True]
    assert not [t for t in threading.enumerate() if t.name == JOB_GROUP]
    tracker = spark.sparkContext.statusTracker()
    jobs = [tracker.getJobInfo(j) for j in tracker.getJobIdsForGroup(JOB_GROUP)]
    assert not [j for j in jobs if j is not None and j.status == "RUNNING"]
