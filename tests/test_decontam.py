"""Benchmark decontamination: loaders, the n-gram index, drop and remove modes, the demo."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.config import BenchmarkSource, ConfigError, DecontamConfig
from curate.decontam.benchmarks import load_benchmark
from curate.decontam.index import build_index
from curate.decontam.match import batch_matches, cut, match_spans
from curate.schema import read_kept, read_removed
from curate.stages.decontam import Decontam
from curate.text.ngrams import loosen, loosen_batch
from tests.conftest import shared_path, stage_context

QUESTION = (
    "A cyclist rides at eighteen kilometres per hour for two and a half hours along the "
    "river path. How far does the cyclist travel in total?"
)
FILLER = "The committee met again on Thursday to discuss the budget for the coming year. " * 4


@pytest.fixture(scope="module")
def toy_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("toy") / "toy.jsonl"
    rows = [
        {"question": QUESTION, "answer": "45 kilometres"},
        {
            "question": "Which planet is known as the red planet of our solar system?",
            "answer": "Mars",
        },
        {"question": "Too short to index?", "answer": "yes"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture(scope="module")
def index(toy_file):
    fields = ["question", "answer"]
    items = load_benchmark(
        BenchmarkSource(name="toy", format="jsonl", path=toy_file, fields=fields)
    )
    return build_index(items, 13, 8)


@pytest.mark.parametrize(
    ("fmt", "parts", "expected"),
    [
        ("mmlu", ("mmlu",), 15_000),
        ("gsm8k", ("gsm8k_test.jsonl",), 1_319),
        ("foundry", ("arc_challenge.jsonl",), 1_172),
        ("foundry", ("arc_easy.jsonl",), 2_376),
        ("foundry", ("boolq.jsonl",), 3_270),
        ("foundry", ("commonsense_qa.jsonl",), 1_221),
        ("foundry", ("openbook_qa.jsonl",), 500),
        ("foundry", ("piqa.jsonl",), 1_838),
        ("foundry", ("triviaqa_sm_sub.jsonl",), 3_000),
        ("foundry", ("winogrande.jsonl",), 1_267),
        ("foundry", ("lambada_openai.jsonl",), 5_153),
        ("humaneval", ("HumanEval.jsonl.gz",), 164),
    ],
)
def test_every_loader_on_the_shared_files(fmt, parts, expected):
    path = shared_path("benchmarks", *parts)
    items = load_benchmark(BenchmarkSource(name=parts[0], format=fmt, path=str(path)))
    if fmt == "mmlu":
        assert len(items) > expected  # dev + val + test of 57 subjects
    else:
        assert len(items) == expected
    assert all(item.texts and all(t.strip() for t in item.texts) for item in items)
    assert not any(t.startswith(("Question:", "Passage:")) for it in items for t in it.texts)
    assert len({it.item for it in items}) == len(items)


def test_humaneval_from_the_package():
    items = load_benchmark(BenchmarkSource(name="humaneval", format="humaneval"))
    assert len(items) == 164 and items[0].item == "HumanEval/0"
    assert "def has_close_elements" in items[0].texts[0]


def test_loader_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "fine"}\n{not json\n')
    with pytest.raises(ConfigError, match=r"bad.jsonl: line 2: not JSON"):
        load_benchmark(
            BenchmarkSource(name="b", format="jsonl", path=str(bad), fields=["question"])
        )
    with pytest.raises(ConfigError, match=r"bad.jsonl: line 1: missing field 'answer'"):
        load_benchmark(BenchmarkSource(name="b", format="gsm8k", path=str(bad)))
    with pytest.raises(ConfigError, match=r"benchmark b: .*missing.jsonl not found"):
        load_benchmark(
            BenchmarkSource(name="b", format="gsm8k", path=str(tmp_path / "missing.jsonl"))
        )


def test_short_items_matched_whole_or_skipped(index):
    assert index.n_items == {"toy": 3}
    assert index.too_short == {"toy": 1}
    assert 12 in index.lengths  # the 12-word planet question is one n-gram
    doc = "Quiz: which planet is known as the red planet of our solar system? Mars."
    assert len(batch_matches(pa.array([doc]), index)[0]) >= 1


@pytest.mark.parametrize(
    "variant",
    [
        QUESTION,
        QUESTION.upper(),
        QUESTION.replace(" ", "   ").replace(".", " ."),
        QUESTION.replace("eighteen", "eighteen,").replace("?", "!"),
        QUESTION.replace("two and a half", "three"),  # a changed number
    ],
)
def test_light_edits_still_match(index, variant):
    texts = pa.array([FILLER + variant + " " + FILLER, FILLER])
    found = batch_matches(texts, index)
    assert len(found[0]) > 0 and len(found[1]) == 0


def test_remove_mode_cuts_the_span_with_margin(index):
    text = FILLER + QUESTION + " " + FILLER
    hashes = batch_matches(pa.array([text]), index)[0]
    spans = match_spans(text, hashes, index.lengths)
    assert spans[0][0] == len(FILLER) and spans[-1][1] == len(FILLER) + len(QUESTION) - 1  # "?"
    cfg = DecontamConfig(mode="remove", margin_chars=20, min_fragment_chars=50)
    new = cut(text, spans, cfg)
    assert "cyclist" not in new and new.count("committee") == 7
    assert cut(text, spans, cfg.model_copy(update={"min_fragment_chars": 10_000})) is None
    many = [(i * 10, i * 10 + 2) for i in range(0, 100, 5)]
    assert cut(text, many, cfg.model_copy(update={"margin_chars": 0, "max_splits": 10})) is None


def _docs(spark, texts):
    rows = [(f"d{i}", t, len(t), "en") for i, t in enumerate(texts)]
    return spark.createDataFrame(rows, "id string, text string, n_chars int, language string")


def _decontaminate(spark, texts: list[str], cfg: DecontamConfig, out):
    """The stage on ``texts``: (kept, removed, stats, report) read back from its table."""
    ctx = stage_context(spark, out, {"decontam": cfg.model_dump()})
    ctx.n_in = len(texts)
    result = Decontam().run(ctx, ctx.write(_docs(spark, texts), "input"))
    table = result.tables["documents"]
    return read_kept(ctx, table), read_removed(ctx, table), result.stats, result.report


def test_stage_drop_and_common_ngram_rule(spark, tmp_path, toy_file):
    path = toy_file
    texts = [FILLER + QUESTION, FILLER + QUESTION, FILLER, "Nothing to see here at all today."]
    source = BenchmarkSource(
        name="toy", format="jsonl", path=str(path), fields=["question", "answer"]
    )
    cfg = DecontamConfig(benchmarks=[source])
    kept, removed, stats, report = _decontaminate(spark, texts, cfg, tmp_path)
    assert sorted(r["id"] for r in removed.collect()) == ["d0", "d1"]
    assert {r["filter_reason"] for r in removed.collect()} == {"benchmark_contamination"}
    assert sorted(r["id"] for r in kept.collect()) == ["d2", "d3"]
    assert stats.n_out == 2 and stats.removed == {"benchmark_contamination": 2}
    assert report["benchmarks"]["toy"] == {
        "items": 3, "items_too_short": 1, "items_found": 1, "documents": 2
    }  # fmt: skip
    # Found in more documents than allowed: a common phrase, not a leak.
    strict = cfg.model_copy(update={"max_docs_per_ngram": 1})
    kept, removed, stats, report = _decontaminate(spark, texts, strict, tmp_path / "strict")
    assert removed.count() == 0 and stats.n_out == 4
    assert report["common_ngrams_ignored"] > 0


def test_stage_remove_mode_keeps_the_rest(spark, tmp_path, toy_file):
    source = BenchmarkSource(name="toy", format="jsonl", path=toy_file, fields=["question"])
    cfg = DecontamConfig(benchmarks=[source], mode="remove", margin_chars=0, min_fragment_chars=40)
    text = FILLER + QUESTION + " " + FILLER
    kept, removed, stats, _ = _decontaminate(spark, [text], cfg, tmp_path)
    row = kept.collect()[0]
    assert removed.count() == 0 and stats.n_out == 1
    assert "cyclist" not in row["text"] and row["n_chars"] == len(row["text"])
    assert row["contamination"] == ["toy"]


def test_demo_quiz_pages_removed(demo_run, demo_truth):
    stats, out = demo_run
    removed = pq.read_table(out / "removed").to_pylist()
    contaminated = {d["id"] for d in removed if d["filter_reason"] == "benchmark_contamination"}
    quiz = {i for i, t in demo_truth.items() if t["kind"] == "benchmark"}
    assert contaminated == quiz
    docs = pq.read_table(out / "documents").to_pylist()
    assert not any(d["contamination"] for d in docs)
    report = stats["decontam"]["benchmarks"]["demo_benchmark"]
    assert report["documents"] == len(quiz)
    assert report["items_found"] == len({demo_truth[i]["item"] for i in quiz})


def test_loosen_batch_equals_scalar():
    rng = random.Random(5)
    # Every kind of whitespace Python knows, not just RE2's ASCII \s: "a,\xa0b" is two words.
    alphabet = "ab12 .-',\u00e9\u0301\u65e5\u0663\xa0\u2009\u3000\x0b\x1c\x85\t\n"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(5000)]
    texts += ["don't", "3.5 kg", "a.b.c.d.e", "U.S. army", "e-mail", "Zürich-Nord"]
    assert loosen_batch(pa.array(texts)).to_pylist() == [loosen(t) for t in texts]
    assert [loosen(t) for t in texts[-6:]] == [
        "dont",
        "0 kg",
        "abcde",
        "US. army",
        "email",
        "ZürichNord",
    ]


def test_index_hashes_are_each_items_text_ngrams():
    """build_index hashes every text in one compiled pass: the same n-grams, item by item,
    as text_ngrams gives text by text (too short, one short n-gram, many n-grams;
    punctuation, accents, other scripts); on the shared benchmarks when present."""
    import numpy as np

    from curate.decontam.benchmarks import BenchmarkItem
    from curate.decontam.index import text_ngrams

    items = [
        BenchmarkItem("t", "short", ("Too few words here.",)),
        BenchmarkItem("t", "mid", ("What is the capital city of France, don't you know?",)),
        BenchmarkItem("t", "long", ("Ünïcode wörds: " + "the river runs to the sea and " * 4,
                                    "Réponse : 3.5 e-mail 日本語のテキスト and more words here")),
    ]  # fmt: skip
    gsm8k = shared_path("benchmarks", "gsm8k_test.jsonl")
    if gsm8k.exists():
        source = BenchmarkSource(name="gsm8k", format="gsm8k", path=str(gsm8k))
        items += load_benchmark(source)[:300]
    index = build_index(items, 13, 8)
    for i, item in enumerate(items):
        want = np.unique(np.concatenate([text_ngrams(t, 13, 8) for t in item.texts]))
        assert np.array_equal(np.unique(index.hashes[index.item_of == i]), want), item.item
    assert index.too_short == {"t": 1} and 10 in index.lengths and 13 in index.lengths


def _toy_cfg(path: str, cache) -> DecontamConfig:
    source = BenchmarkSource(name="toy", format="jsonl", path=path, fields=["question", "answer"])
    return DecontamConfig(benchmarks=[source], index_cache=str(cache))


def _same_index(a, b) -> bool:
    import numpy as np

    return (np.array_equal(a.hashes, b.hashes) and np.array_equal(a.item_of, b.item_of)
            and a.items == b.items and a.lengths == b.lengths and a.n_items == b.n_items
            and a.too_short == b.too_short)  # fmt: skip


def test_index_cache_reused_until_the_benchmark_changes(tmp_path, toy_file, index, monkeypatch):
    """The first run stores the index under its key; the next loads it without building;
    an edited benchmark file is a new key; an unreadable file is rebuilt and replaced."""
    from curate.decontam import cache
    from curate.storage import Storage

    st, folder = Storage(), tmp_path / "cache"
    cfg = _toy_cfg(toy_file, folder)
    assert _same_index(cache.benchmark_index(cfg, st), index)
    (stored,) = folder.glob("*.npz")
    assert stored.name == f"{cache.index_key(cfg)}.npz"

    def no_build(*_args):
        raise AssertionError("built again")

    with monkeypatch.context() as m:
        m.setattr(cache, "build_index", no_build)
        assert _same_index(cache.benchmark_index(cfg, st), index)

    edited = tmp_path / "edited.jsonl"
    edited.write_text(Path(toy_file).read_text().replace("red planet", "blue planet"))
    other = cache.benchmark_index(_toy_cfg(str(edited), folder), st)
    assert len(list(folder.glob("*.npz"))) == 2 and not _same_index(other, index)

    stored.write_bytes(b"not an npz")
    assert _same_index(cache.benchmark_index(cfg, st), index)
    with monkeypatch.context() as m:
        m.setattr(cache, "build_index", no_build)
        assert _same_index(cache.benchmark_index(cfg, st), index)


def test_index_cache_off_or_unwritable(tmp_path, toy_file, index, caplog):
    """index_cache "" stores nothing; a folder that cannot be made is a warning, and the
    run goes on with the index it built."""
    from curate.decontam import cache
    from curate.storage import Storage

    off = _toy_cfg(toy_file, "")
    assert cache.cache_folder(off) is None
    assert _same_index(cache.benchmark_index(off, Storage()), index)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with caplog.at_level("WARNING"):
        built = cache.benchmark_index(_toy_cfg(toy_file, blocker / "cache"), Storage())
    assert _same_index(built, index)
    assert "not written" in caplog.text and str(blocker) in caplog.text
