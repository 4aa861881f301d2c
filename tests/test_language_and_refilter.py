"""Language ID with the real lid.176 model, and re-filtering stored signals."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.config import FILTERS, Config, ConfigError
from curate.extract.records import RECORD_SCHEMA
from curate.langid import load_model, predict
from curate.pipeline import refilter
from curate.quality import all_filters, annotate_batch, annotated_schema, reason_column
from curate.schema import RECORD_COLUMNS
from curate.storage import use
from tests.conftest import demo_config, shared_path


@pytest.mark.parametrize(
    "text, lang",
    [
        ("The bakers of the town still shape their loaves by hand before dawn.", "en"),
        ("Der Bäcker an der Ecke backt sein Brot noch immer nach einem alten Rezept.", "de"),
        ("Le boulanger prépare ses baguettes avant l'aube, comme son grand-père.", "fr"),
        ("城市图书馆在周末延长了开放时间，方便学生们学习。", "zh"),
    ],
)
def test_lid176_predicts(text, lang):
    got, score = predict(load_model(), text + "\n" + text)
    assert got == lang and score > 0.65


def test_udhr_lines_are_mostly_right():
    root = shared_path("lid-eval", "udhr2")
    model = load_model()
    for code, label in (("eng", "en"), ("deu", "de"), ("spa", "es")):
        text = (root / f"{code}.txt").read_text(encoding="utf-8")
        lines = [ln for ln in text.splitlines() if len(ln) >= 50][:50]
        right = sum(predict(model, ln)[0] == label for ln in lines)
        assert right >= 0.9 * len(lines), (code, right, len(lines))


@pytest.mark.parametrize(
    "language, score, settings, expected",
    [
        ("de", 0.99, {"keep": ["en"]}, "language.not_kept"),
        ("en", 0.64, {"keep": ["en"]}, "language.low_score"),
        ("en", 0.65, {"keep": ["en"]}, None),
        ("de", 0.7, {"min_score_by_language": {"de": 0.8}}, "language.low_score"),
        ("fr", 0.7, {"min_score_by_language": {"de": 0.8}}, None),
        (None, None, {}, "language.low_score"),
    ],
)
def test_language_rules(spark, language, score, settings, expected):
    cfg = Config.model_validate(
        {"input": {"paths": ["x"]}, "output": {"dir": "o"}, "language": settings,
         "quality": {name: {"enabled": False} for name in FILTERS}}
    )  # fmt: skip
    df = spark.createDataFrame([(language, score)], "language string, language_score double")
    assert df.select(reason_column(cfg)).first()[0] == expected
    # The same rule in Python (language.signals_for_kept_only decides with it).
    from curate.quality import _language_keeps

    assert _language_keeps(cfg.language.model_dump_json())(language, score) == (expected is None)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"lid-missing\.bin"):
        load_model(str(tmp_path / "lid-missing.bin"))


def test_annotate_batch_adds_signals_and_drops_nothing(demo_crawl, tmp_path):
    cfg = demo_config(demo_crawl, tmp_path)
    base = pa.schema([RECORD_SCHEMA.field(c) for c in RECORD_COLUMNS])
    texts = ["The river runs to the sea. " * 20, "", "Der Fluss fließt ins Meer. " * 20]
    rows = {c: [None] * 3 for c in RECORD_COLUMNS}
    rows["text"], rows["url"] = texts, ["https://a.example/x", None, "https://b.example/y"]
    batch = pa.RecordBatch.from_pydict(rows, schema=base)
    out = annotate_batch(
        batch, cfg, annotated_schema(base, cfg), all_filters(cfg, use(None))
    ).to_pylist()
    assert [r["language"] for r in out] == ["en", None, "de"]
    assert out[0]["gopher_quality"]["n_words"] == 120
    assert out[1]["fineweb"]["n_lines"] == 0


def test_signals_for_kept_only_skips_the_other_languages(demo_crawl, tmp_path):
    """language.signals_for_kept_only: a document the language rules remove gets its
    language alone; the setting and the language rules become annotate settings."""
    from curate.quality import annotate_params

    keep = ["language.keep=['en']", "language.signals_for_kept_only=true"]
    cfg = demo_config(demo_crawl, tmp_path, keep)
    base = pa.schema([RECORD_SCHEMA.field(c) for c in RECORD_COLUMNS])
    texts = ["The river runs to the sea. " * 20, "Der Fluss fließt ins Meer. " * 20]
    rows = {c: [None] * 2 for c in RECORD_COLUMNS}
    rows["text"], rows["url"] = texts, ["https://a.example/x", "https://b.example/y"]
    batch = pa.RecordBatch.from_pydict(rows, schema=base)
    out = annotate_batch(batch, cfg, annotated_schema(base, cfg), all_filters(cfg, use(None)))
    en, de = out.to_pylist()
    assert (en["language"], de["language"]) == ("en", "de")
    assert en["gopher_quality"]["n_words"] == 120 and en["fineweb"] is not None
    assert all(de[name] is None for name in FILTERS) and de["perplexity"] is None
    assert "language.signals_for_kept_only" in annotate_params(cfg)
    default = demo_config(demo_crawl, tmp_path)
    assert "language.signals_for_kept_only" not in annotate_params(default)


@pytest.mark.slow
def test_refilter_matches_a_fresh_run(spark, demo_crawl, demo_run, tmp_path):
    """New thresholds, a new classifier cut-off among them: filter onwards reruns, and
    gives what a fresh run gives."""
    stats, out = demo_run
    model = demo_crawl / "models" / "quality" / "model.bin"
    top = f"quality.classifiers=[{{name: demo, path: {model}, keep_top_fraction: 0.7}}]"
    loose = ["quality.gopher_quality.min_words=10", "language.keep=[en, de]", top]
    re_stats = refilter(demo_config(demo_crawl, tmp_path / "a", loose), out, spark=spark)
    assert re_stats["stages"][:2] == stats["stages"][:2]  # extract and annotate reused
    quality = next(s for s in re_stats["funnel"] if s["name"] == "quality")
    assert quality["removed"]["classifier_demo.low_score"] > 0
    cut = re_stats["filter"]["classifiers"]["demo"]["cutoffs"]["en"]
    flagged = pq.read_table(tmp_path / "a" / "stages" / "filter" / "documents").to_pylist()
    for d in flagged:
        if d["language"] == "en" and d["filter_reason"] is None:
            assert d["classifier_demo"] >= cut
    assert any(d["language"] == "de" and d["filter_reason"] is None for d in flagged)
    from curate.pipeline import run

    fresh = run(demo_config(demo_crawl, tmp_path / "b", loose), spark=spark)
    for a, b in zip(re_stats["stages"], fresh["stages"], strict=True):
        assert (a["in"], a["out"], a["removed"]) == (b["in"], b["out"], b["removed"])
    kept_a = pq.read_table(tmp_path / "a" / "documents").sort_by("id")
    kept_b = pq.read_table(tmp_path / "b" / "documents").sort_by("id")
    assert kept_a.equals(kept_b)
    on_disk = json.loads((tmp_path / "a" / "stats.json").read_text())
    assert on_disk["thresholds"]["gopher_quality"]["min_words"] == 10


def test_refilter_refuses_changed_annotate_settings(demo_crawl, demo_run, tmp_path):
    _, out = demo_run
    cfg = demo_config(demo_crawl, tmp_path, ["quality.c4.min_words_per_line=5"])
    with pytest.raises(ConfigError, match=r"c4\.min_words_per_line"):
        refilter(cfg, out)
    other = tmp_path / "other.bin"  # another model file: the classifier's identity changed
    other.write_bytes((demo_crawl / "models" / "quality" / "model.bin").read_bytes() + b"\0")
    moved = [f"quality.classifiers=[{{name: demo, path: {other}}}]"]
    with pytest.raises(ConfigError, match=r"classifier\.demo"):
        refilter(demo_config(demo_crawl, tmp_path / "x", moved), out)


def test_language_codes_resolve_to_the_models_labels():
    from curate.config import ConfigError, LanguageConfig
    from curate.langid import resolved_languages

    keep, scores = resolved_languages(
        LanguageConfig(
            keep=["nb", "hrv", "pt-BR", "tgl", "cmn"], min_score_by_language={"nob": 0.8}
        )
    )
    # Bokmål is lid.176's "no"; Croatian brings its "sh"; 639-3 and BCP 47 tags are read.
    assert keep == ["hr", "no", "pt", "sh", "tl", "zh"] and scores == {"no": 0.8}
    with pytest.raises(ConfigError, match=r"language\.keep: 'xx' is not a language") as err:
        resolved_languages(LanguageConfig(keep=["xx"]))
    assert "the nearest are" in str(err.value)
    with pytest.raises(ConfigError, match=r"'zul' is not a language this model labels"):
        resolved_languages(LanguageConfig(min_score_by_language={"zul": 0.5}))


def test_keep_nb_keeps_norwegian_text():
    from curate.config import LanguageConfig
    from curate.langid import load_model, predict, resolved_languages

    keep, _ = resolved_languages(LanguageConfig(keep=["nb"]))
    text = "Alle mennesker er født frie og med samme menneskeverd og menneskerettigheter."
    assert predict(load_model(), text)[0] in keep


def test_unknown_language_code_fails_before_spark(tmp_path, capsys):
    from curate.cli import main

    (tmp_path / "x.warc.gz").write_bytes(b"")
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        f"input:\n  paths: ['{tmp_path / 'x.warc.gz'}']\noutput:\n  dir: {tmp_path / 'o'}\n"
        "language:\n  keep: [xx]\n"
    )
    assert main(["run", str(cfg)]) == 2
    assert "language.keep: 'xx' is not a language this model labels" in capsys.readouterr().err
