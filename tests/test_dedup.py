"""Dedup: signatures equal datasketch's, LSH parameters, components, survivors, determinism."""

import json
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from curate.dedup.components import connected_components, union_find
from curate.dedup.keys import keys_batch, url_key
from curate.dedup.minhash import (
    EMPTY,
    optimal_bands,
    shingle_hash,
    shingle_hashes,
    shingles,
    signature,
)
from curate.pipeline import run
from curate.text.ngrams import normalize
from tests.conftest import ROOT, demo_config, shared_path


def datasketch_signature(
    text: str, n: int, num_perm: int, seed: int, unit: str = "words"
) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash, scheme="affine32")
    m.update_batch(shingles(text, n, unit))
    return m.hashvalues


def sample_texts() -> list[str]:
    texts = [
        "The river runs through the valley. 12 farmers grow wheat; Café naïve!",
        "three words only",
        "",
        "   ",
        "Ünïcödé wörds and digits 2024 and 1999 and punctuation... !!!",
    ]
    pages = (ROOT / "README.md").read_text().split("\n\n")
    return texts + [p for p in pages if p.strip()][:200]


@pytest.mark.parametrize("n, num_perm, seed", [(5, 128, 1), (3, 112, 42), (1, 64, 7)])
def test_signatures_equal_datasketch(n, num_perm, seed):
    for text in sample_texts():
        ours = signature(shingle_hashes(text, n), num_perm, seed)
        assert np.array_equal(ours, datasketch_signature(text, n, num_perm, seed)), text[:60]


@pytest.mark.parametrize("unit, n", [("words", 5), ("chars", 8)])
def test_signatures_equal_datasketch_on_real_pages(unit, n):
    root = shared_path("pages", "extraction-benchmark")
    truth = json.loads((root / "ground-truth.json").read_text())
    for item in list(truth.values())[:40]:
        text = item["articleBody"]
        ours = signature(shingle_hashes(text, n, unit), 128, 1)
        assert np.array_equal(ours, datasketch_signature(text, n, 128, 1, unit))


def test_character_shingles():
    from curate.dedup.minhash import batch_shingle_hashes, batch_token_hashes, signatures

    texts = [*sample_texts()[:40], None, "Ünïcödé ΧΩΡΟΣ", "abc"]
    w, offsets = batch_token_hashes(pa.array(texts), "chars")
    flat, shingle_offsets = batch_shingle_hashes(w, offsets, 7)
    sigs = signatures(flat, shingle_offsets, 64, 5)
    for i, text in enumerate(texts):
        text = text or ""
        assert np.array_equal(flat[shingle_offsets[i] : shingle_offsets[i + 1]],
                              shingle_hashes(text, 7, "chars")), text  # fmt: skip
        assert np.array_equal(sigs[i], datasketch_signature(text, 7, 64, 5, "chars")), text
    assert shingles("Ab, c", 3, "chars") == [("a", "b", " "), ("b", " ", "c")]
    # One changed letter: words lose 5 of 12 shingles, characters 7 of 50.
    a = "the quick brown fox jumps over the lazy dog and runs far away"
    b = a.replace("lazy", "hazy")
    batch = pa.RecordBatch.from_pydict({"id": ["a", "b"], "url": [None, None], "text": [a, b]})
    for unit, shared in (("words", 0), ("chars", 1)):
        bands = keys_batch(batch, 8 if unit == "chars" else 5, 128, 1, 16, 8, unit)
        band_sets = [set(x) for x in bands.column("bands").to_pylist()]
        assert (len(band_sets[0] & band_sets[1]) > 0) == bool(shared), unit


def test_empty_and_short_texts():
    assert shingle_hashes("", 5).size == 0
    assert (signature(shingle_hashes("", 5), 16, 1) == EMPTY).all()
    # Fewer words than n: one shingle of all the words.
    assert shingles("only three words", 5) == [("only", "three", "words")]
    assert shingle_hashes("only three words", 5).size == 1


def test_normalisation():
    assert normalize("Café, NAÏVE -- 2024!") == "cafe naive 0000"
    batch = pa.RecordBatch.from_pydict(
        {"id": ["a", "b", "c"], "url": [None] * 3, "text": ["Hello,   World!", "hello world", "hi"]}
    )
    hashes = keys_batch(batch, 5, 16, 1, 4, 4).column("content_hash").to_pylist()
    assert hashes[0] == hashes[1] != hashes[2]  # exact dedup ignores case and punctuation
    assert url_key("HTTPS://Example.com:443/a/#frag") == "https://example.com/a"
    assert url_key("http://example.com:8080") == "http://example.com:8080/"


@pytest.mark.parametrize("threshold, num_perm", [(0.8, 128), (0.8, 112), (0.7, 256), (0.5, 64)])
def test_banding_as_datasketch(threshold, num_perm):
    assert optimal_bands(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)
    fn_heavy = optimal_bands(threshold, num_perm, 0.05, 0.95)
    assert fn_heavy == _optimal_param(threshold, num_perm, 0.05, 0.95)


def test_default_banding_weighs_missed_duplicates():
    from curate.config import ConfigError, DedupConfig

    assert DedupConfig().banding() == (16, 8)
    assert DedupConfig(weights=(0.5, 0.5)).banding() == (9, 13)
    assert DedupConfig(bands=14, rows=8, num_perm=112).banding() == (14, 8)
    with pytest.raises(ConfigError, match=r"dedup\.weights"):
        DedupConfig(weights=(0, 0)).banding()


@pytest.mark.parametrize("max_edges_in_one_task", [0, 100])  # Spark rounds; one union-find
def test_connected_components_transitive(spark, max_edges_in_one_task):
    # a~b, b~c (a and c not similar) end in one cluster; d~e is another; chains merge.
    edges = [("a", "b"), ("b", "c"), ("d", "e"), ("x5", "x4"), ("x4", "x3"), ("x3", "x2"),
             ("x2", "x1"), ("x1", "x0")]  # fmt: skip
    df = spark.createDataFrame(edges, "u string, v string").repartition(3)
    got = dict(connected_components(df, max_edges_in_one_task).collect())
    assert got == {
        "a": "a", "b": "a", "c": "a", "d": "d", "e": "d",
        **{f"x{i}": "x0" for i in range(6)},
    }  # fmt: skip


def test_union_find_matches_a_graph_search():
    rng = random.Random(7)
    for _ in range(20):
        nodes = [f"n{i:03d}" for i in rng.sample(range(1000), 60)]
        edges = [(rng.choice(nodes), rng.choice(nodes)) for _ in range(rng.randrange(1, 80))]
        near: dict[str, set[str]] = {}
        for u, v in edges:
            near.setdefault(u, set()).add(v)
            near.setdefault(v, set()).add(u)
        want = {}
        for start in near:
            seen, todo = {start}, [start]
            while todo:
                for w in near[todo.pop()] - seen:
                    seen.add(w)
                    todo.append(w)
            want[start] = min(seen)
        assert union_find(iter(edges)) == want


def test_dedup_deterministic_across_partitioning(spark, demo_crawl, demo_run, tmp_path):
    _, out_a = demo_run
    spark.conf.set("spark.sql.shuffle.partitions", "3")
    try:
        run(demo_config(demo_crawl, tmp_path, ["quality.keep_removed=true"]), spark=spark)
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "4")
    cols = ["id", "filter_reason", "duplicate_of"]
    a = pq.read_table(out_a / "removed", columns=cols).sort_by("id")
    b = pq.read_table(tmp_path / "removed", columns=cols).sort_by("id")
    assert a.equals(b)


def test_dedup_without_the_line_step_keys_file_by_file(spark, demo_crawl, tmp_path):
    """dedup.lines off: no join is needed, so the keys are computed file by file (one
    keyed file per filter file), and URL, exact and near dedup still remove."""
    stats = run(demo_config(demo_crawl, tmp_path, ["dedup.lines=false"]), spark=spark)
    dedup = next(s for s in stats["stages"] if s["name"] == "dedup")
    assert "line_dedup_empty" not in dedup["removed"]
    assert dedup["removed"]["exact_duplicate"] > 0 and dedup["removed"]["near_duplicate"] > 0
    tables = {
        name: json.loads((tmp_path / "stages" / name / "_STAGE.json").read_text())["tables"]
        for name in ("filter", "dedup")
    }
    keyed, filtered = tables["dedup"]["keyed"]["files"], tables["filter"]["documents"]["files"]
    assert len(keyed) == len(filtered) and sum(f["rows"] for f in keyed) == dedup["in"]
    assert "line_keys" not in tables["dedup"]
    cut = pq.read_table(tmp_path / "documents", columns=["line_chars_removed"]).column(0)
    assert set(cut.to_pylist()) == {0}


@pytest.mark.slow
def test_dedup_against_an_earlier_run(spark, demo_crawl, demo_run, tmp_path):
    _, earlier = demo_run
    stats = run(demo_config(demo_crawl, tmp_path, [f"dedup.against=['{earlier}']"]), spark=spark)
    dedup = next(s for s in stats["stages"] if s["name"] == "dedup")
    decontam = next(s for s in stats["stages"] if s["name"] == "decontam")
    # Everything this run would publish was published by the earlier run; what passes dedup
    # is what the earlier run removed after dedup (quiz pages, removed again).
    assert stats["documents"]["rows"] == 0
    assert dedup["out"] == decontam["removed"]["benchmark_contamination"]
    assert set(dedup["removed"]) <= {"url_duplicate", "exact_duplicate", "near_duplicate"}
    earlier_ids = set(pq.read_table(earlier / "documents", columns=["id"]).column("id").to_pylist())
    removed = pq.read_table(tmp_path / "removed", columns=["filter_reason", "duplicate_of"])
    dup_of = [
        d for r, d in zip(*removed.to_pydict().values(), strict=True) if r.endswith("duplicate")
    ]
    assert set(dup_of) <= earlier_ids


def test_repeated_lines_are_cut(spark):
    import pyarrow as pa

    from curate.dedup.lines import cut_lines, keys_to_cut, line_keys_batch, repeated_lines

    menu = "Home | Products | Contact"
    docs = [
        (f"d{i}", f"Story {w} about rivers.\n{menu}\nCookie settings 2024")
        for i, w in enumerate(["alpha", "beta", "gamma", "delta"])
    ]
    docs.append(("solo", f"{menu}\n  home | products | contact  \n\n"))
    batch = pa.RecordBatch.from_pylist([{"id": i, "text": t} for i, t in docs])
    keys = spark.createDataFrame(line_keys_batch(batch).to_pandas())
    repeated = repeated_lines(keys, max_docs=3)
    cut = {r["id"]: r["cut"] for r in keys_to_cut(keys, repeated).collect()}
    got = {i: cut_lines(t, cut.get(i)) for i, t in docs}
    # The menu is in 5 documents (after normalisation), the cookie line ("Cookie settings
    # 0000" once digits are folded) in 4: both cut; blank lines are never cut.
    assert got["d0"] == (
        "Story alpha about rivers.",
        len(menu) + 1 + len("Cookie settings 2024") + 1,
    )
    assert got["solo"][0] == "\n"
    assert repeated.count() == 2
    assert set(cut) == {"d0", "d1", "d2", "d3", "solo"}


def test_line_dedup_empty_documents_are_counted(spark, demo_crawl, tmp_path):
    # Exact duplicates share every line: with line_max_docs=1 both copies lose all text.
    cfg = demo_config(demo_crawl, tmp_path, ["dedup.line_max_docs=1", "dedup.near=false"])
    stats = run(cfg, spark=spark)
    dedup = next(s for s in stats["stages"] if s["name"] == "dedup")
    assert dedup["removed"]["line_dedup_empty"] >= 30
    assert stats["dedup"]["lines"]["repeated_lines"] > 0
    docs = pq.read_table(tmp_path / "documents", columns=["line_chars_removed"]).column(0)
    assert min(docs.to_pylist()) >= 0


def test_batch_path_equals_scalar_path():
    from curate.dedup.minhash import batch_shingle_hashes, signatures
    from curate.text.wordhash import batch_word_hashes

    texts = [
        *sample_texts(),
        None,
        "城市图书馆在周末延长了开放时间",
        "Привет, мир! Как дела? ٣ apples",
        "नमस्ते दुनिया, İstanbul ẞ",
        # Python lower-cases a word-final capital sigma to "ς": normalize folds it to "σ".
        "ΕΛΕΥΘΕΡΟΣ ΧΩΡΟΣ και λς",
        "a" * 300 + " " + "ǅ" * 40,  # a word past XXH64's 32-byte stripes; a 2-letter fold
    ]
    assert normalize(texts[-2]) == "ελευθεροσ χωροσ και λσ"
    w, word_offsets = batch_word_hashes(pa.array(texts))
    for n in (1, 5):
        flat, offsets = batch_shingle_hashes(w, word_offsets, n)
        sigs = signatures(flat, offsets, 64, 3)
        for i, text in enumerate(texts):
            expected = shingle_hashes(text or "", n)
            assert np.array_equal(flat[offsets[i] : offsets[i + 1]], expected), text
            assert np.array_equal(sigs[i], datasketch_signature(text or "", n, 64, 3)), text


def test_dedup_against_refuses_signatures_made_otherwise(tmp_path):
    from curate.config import ConfigError, DedupConfig
    from curate.dedup.scheme import SCHEME_FILE, check_against, key_scheme
    from curate.storage import use

    st = use(None)
    earlier = tmp_path / "earlier"
    (earlier / "signatures").mkdir(parents=True)
    cfg = DedupConfig(against=[str(earlier)])
    with pytest.raises(ConfigError, match=r"signature_keys\.json not found"):
        check_against(cfg, st)
    keys = str(earlier / SCHEME_FILE)
    st.write_json(keys, key_scheme(DedupConfig(num_perm=64)))
    with pytest.raises(ConfigError, match="num_perm is 64 where this run uses 128"):
        check_against(cfg, st)
    st.write_json(keys, key_scheme(DedupConfig()))
    check_against(cfg, st)


def test_duplicate_count_is_the_cluster(demo_run):
    """A kept document's duplicate_count is itself plus every document removed as its
    duplicate, through chains of URL, exact and near steps; removed ones have none."""
    from collections import Counter

    _, out = demo_run
    rows = pq.read_table(out / "stages" / "dedup" / "documents",
                         columns=["id", "filter_reason", "duplicate_of",
                                  "duplicate_count"]).to_pylist()  # fmt: skip
    parent = {r["id"]: r["duplicate_of"] for r in rows if r["duplicate_of"]}

    def root(i: str) -> str:
        while i in parent:
            i = parent[i]
        return i

    cluster = Counter(root(i) for i in parent)
    kept = [r for r in rows if r["filter_reason"] is None]
    assert [r["duplicate_count"] for r in kept] == [1 + cluster[r["id"]] for r in kept]
    assert max(r["duplicate_count"] for r in kept) > 1
    assert all(r["duplicate_count"] is None for r in rows if r["filter_reason"])
    published = pq.read_table(out / "documents", columns=["duplicate_count"])
    assert published["duplicate_count"].null_count == 0
