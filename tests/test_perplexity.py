"""Perplexity: training, scoring sanity, missing models, pass-through, buckets, filtering."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curate.config import ConfigError, PerplexityConfig
from curate.perplexity.model import LanguageModel, check_models
from curate.perplexity.normalize import normalize_line
from curate.perplexity.train import TrainOptions, train_lm
from curate.pipeline import refilter
from tests.conftest import demo_config, shared_path


def _shuffled(text: str, rng: random.Random) -> str:
    words = text.split()
    rng.shuffle(words)
    return " ".join(words)


def test_ccnet_normalisation():
    assert normalize_line("  Élan: 42 “quoted”，ok…  ") == 'elan: 00 "quoted",ok...'
    assert normalize_line("tab\there\x07") == "tabhere"


def test_train_tiny_corpus_and_natural_beats_shuffled(tmp_path, demo_crawl):
    text = (demo_crawl / "reference.txt").read_text().splitlines()
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("\n".join(text[:300]) + "\n")
    meta = train_lm([str(corpus)], "en", tmp_path / "lm", TrainOptions(order=3, vocab_size=500))
    assert sorted(p.name for p in (tmp_path / "lm").iterdir()) == [
        "lm.binary",
        "meta.json",
        "sp.model",
    ]
    assert meta["training_lines"] == 300 and meta["vocab_size"] <= 500
    again = train_lm([str(corpus)], "en", tmp_path / "lm2", TrainOptions(order=3, vocab_size=500))
    assert again["sha256"] == meta["sha256"]  # deterministic: same text, same model bytes
    model = LanguageModel("en", tmp_path / "lm")
    rng = random.Random(0)
    held_out = text[2000:2050]
    for para in held_out:
        assert model.score(para).perplexity < model.score(_shuffled(para, rng)).perplexity
    assert model.score("").perplexity is None and model.score("").n_words == 0


def test_wikitext_model_separates_shuffled_text(tmp_path):
    """CI trains on real Wikipedia text (WikiText-2 valid) when ../shared has it."""
    valid = shared_path("reference-text", "wikitext2.valid.txt")
    test = shared_path("reference-text", "wikitext2.test.txt")
    train_lm([str(valid)], "en", tmp_path / "wiki")
    model = LanguageModel("en", tmp_path / "wiki")
    paras = [p for p in test.read_text().splitlines() if len(p.split()) > 30][:200]
    rng = random.Random(1)
    natural = [model.score(p).perplexity for p in paras]
    shuffled = [model.score(_shuffled(p, rng)).perplexity for p in paras]
    assert sum(n < s for n, s in zip(natural, shuffled, strict=True)) >= 0.99 * len(paras)


def test_missing_model_names_language_and_path(tmp_path):
    cfg = PerplexityConfig(models={"de": str(tmp_path / "nowhere")})
    with pytest.raises(ConfigError, match=r"perplexity.models.de: .*nowhere/sp.model not found"):
        check_models(cfg)


def test_missing_training_text_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no file matches"):
        train_lm([str(tmp_path / "*.txt")], "en", tmp_path / "lm")


def test_demo_perplexity_columns_buckets_and_pass_through(demo_run, demo_truth):
    stats, out = demo_run
    report = stats["filter"]["perplexity"]
    annotated = pq.read_table(out / "stages" / "annotate" / "documents").to_pylist()
    scored = [d for d in annotated if d["perplexity"] is not None]
    assert {d["language"] for d in scored} == {"en"}
    assert report["scored"] == len(scored)
    # Languages without a model pass with perplexity null, counted per language.
    assert sum(report["unscored_by_language"].values()) == len(annotated) - len(scored)
    assert report["unscored_by_language"]["de"] > 0
    by_kind: dict[str, list[float]] = {}
    for d in scored:
        by_kind.setdefault(demo_truth[d["id"]]["kind"], []).append(d["perplexity"])
    median = {k: sorted(v)[len(v) // 2] for k, v in by_kind.items()}
    assert median["article"] * 50 < median["boilerplate"]
    assert median["article"] * 50 < median["repetitive"]


def test_bucket_and_max_filters_through_refilter(spark, demo_run, demo_crawl, tmp_path):
    _, out = demo_run
    annotated = pq.read_table(out / "stages" / "annotate" / "documents", columns=["perplexity"])
    scored = sorted(p for p in annotated.column(0).to_pylist() if p is not None)
    p30, p60, cap = (scored[len(scored) * k // 6] for k in (2, 4, 1))
    cutoffs = tmp_path / "cutoffs.json"
    cutoffs.write_text(json.dumps({"languages": {"en": {"p30": p30, "p60": p60}}}))
    overrides = [
        "quality.buckets=null",  # CCNet's buckets instead of the demo's ensemble
        f"perplexity.cutoffs={cutoffs}",
        "perplexity.keep_buckets=[head]",
        f"perplexity.max_perplexity={cap}",
    ]
    stats = refilter(demo_config(demo_crawl, tmp_path / "re", overrides), out, spark=spark)
    stage = next(s for s in stats["funnel"] if s["name"] == "perplexity")
    assert stage["removed"]["perplexity.bucket_not_kept"] > 0
    docs = pq.read_table(tmp_path / "re" / "documents").to_pylist()
    assert docs and all(d["quality_bucket"] == "head" and d["perplexity"] <= cap for d in docs)
    removed = pq.read_table(tmp_path / "re" / "removed").to_pylist()
    assert any(r["filter_reason"] == "perplexity.bucket_not_kept" for r in removed)
    for d in removed:  # head < p30 <= middle < p60 <= tail, by the file's cut-offs
        if d["filter_reason"] == "perplexity.bucket_not_kept":
            assert d["quality_bucket"] == ("middle" if d["perplexity"] < p60 else "tail")
            assert d["perplexity"] >= p30


def test_refilter_refuses_a_changed_model(spark, demo_run, demo_crawl, tmp_path):
    _, out = demo_run
    cfg = demo_config(demo_crawl, tmp_path)
    cfg.perplexity.models = {"en": str(demo_crawl / "models" / "en"), "de": str(tmp_path)}
    with pytest.raises(ConfigError, match=r"perplexity\.models"):
        refilter(cfg, out, spark=spark)


def test_calibrate_perplexity_command(demo_run, tmp_path, capsys):
    from curate.cli import main
    from curate.perplexity.buckets import load_cutoffs

    _, out = demo_run
    target = tmp_path / "cutoffs.json"
    config = str(Path(__file__).resolve().parents[1] / "configs" / "demo.yaml")
    code = main(
        [
            "calibrate-perplexity",
            config,
            "--signals",
            str(out),
            "--sample",
            "1.0",
            "--output",
            str(target),
        ]
    )
    assert code == 0 and "p30" in capsys.readouterr().out
    # By documents: at most 30 % of the scored documents below p30, more than 30 % below
    # the next bin's edge (bins of 1e-3 in log space).
    annotated = pq.read_table(out / "stages" / "annotate" / "documents",
                              columns=["perplexity", "language"]).to_pylist()  # fmt: skip
    scored = [d["perplexity"] for d in annotated if d["language"] == "en" and d["perplexity"]]
    cut = load_cutoffs(target)["en"]
    for name, q in (("p30", 0.3), ("p60", 0.6)):
        assert sum(p < cut[name] for p in scored) <= q * len(scored)
        assert sum(p < cut[name] * 1.0011 for p in scored) > q * len(scored)
