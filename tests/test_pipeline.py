"""The Spark job end to end: demo crawl, edge files, accounting, determinism, atomicity."""

import json
import math
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from curate.config import Config
from curate.pipeline import run
from curate.schema import output_columns
from curate.stages.publish import _COMPRESSED_FRACTION
from curate.stats import AccountingError, StageStats, check_accounting
from tests.conftest import ROOT, demo_config, make_config, shared_path, stage_context


def documents(out: Path):
    return pq.read_table(out / "documents").to_pylist()


def assert_accounting(stats: dict, out: Path) -> None:
    on_disk = json.loads((out / "stats.json").read_text())
    assert on_disk["stages"] == stats["stages"]
    previous = None
    for st in stats["stages"]:
        assert st["in"] == st["out"] + sum(st["removed"].values()), st
        if previous is not None:
            assert st["in"] == previous["out"]
        previous = st
    assert stats["stages"][-1]["out"] == pq.read_table(out / "documents").num_rows


def test_demo_accounting_and_schema(demo_run):
    stats, out = demo_run
    assert_accounting(stats, out)
    assert [st["name"] for st in stats["stages"]] == [
        "extract", "annotate", "filter", "dedup", "pii", "decontam", "publish",
    ]  # fmt: skip
    assert [st["name"] for st in stats["funnel"]] == [
        "extract", "language", "quality", "perplexity", "dedup", "pii", "decontam",
    ]  # fmt: skip
    assert (out / "documents" / "_SUCCESS").exists()
    table = pq.read_table(out / "documents")
    assert table.column_names == output_columns(Config.model_validate(stats["config"]))
    assert "classifier_demo" in table.column_names
    assert str(table.schema.field("crawl_date").type) == "timestamp[us, tz=UTC]"
    parts = sorted(p.name for p in (out / "documents").glob("part-*"))
    assert len(parts) > 1 and parts[0] == "part-00000.zstd.parquet"
    assert (
        pq.ParquetFile(out / "documents" / parts[0]).metadata.row_group(0).column(0).compression
        == "ZSTD"
    )


def test_demo_ground_truth(demo_run, demo_truth):
    stats, out = demo_run
    kept = {d["id"]: d for d in documents(out)}
    removed = {d["id"]: d for d in pq.read_table(out / "removed").to_pylist()}
    by_kind: dict[str, list[dict]] = {}
    for rec in demo_truth.values():
        by_kind.setdefault(rec["kind"], []).append(rec)
    by_url = {rec["url"]: rec for rec in demo_truth.values()}
    duplicated = {
        by_url[r["duplicate_of"]]["id"] for r in demo_truth.values() if "duplicate_of" in r
    }
    for kind in ("article", "pii"):  # quiz pages: see test_decontam
        for rec in by_kind[kind]:
            if rec["id"] not in duplicated:
                assert rec["id"] in kept, (kind, rec["url"], removed.get(rec["id"]))
    # Of each duplicate pair exactly one survives, and the other names it.
    for kind in ("exact_duplicate", "near_duplicate"):
        for rec in by_kind[kind]:
            pair = {rec["id"], by_url[rec["duplicate_of"]]["id"]}
            assert len(pair & kept.keys()) == 1, (kind, rec["url"])
            gone = removed[(pair - kept.keys()).pop()]
            assert gone["filter_reason"] == kind and gone["duplicate_of"] in pair
    assert stats["dedup"]["clusters"]["count"] == len(by_kind["near_duplicate"])
    for rec in by_kind["non_english"]:
        assert removed[rec["id"]]["filter_reason"] == "language.not_kept"
        assert removed[rec["id"]]["language"] == rec["lang"]
    for kind, prefixes in (
        ("gibberish", ("language.",)),
        ("repetitive", ("gopher_repetition.", "url_filter.")),
        ("boilerplate", ("language.", "gopher_quality.", "gopher_repetition.")),
    ):
        for rec in by_kind[kind]:
            assert removed[rec["id"]]["filter_reason"].startswith(prefixes), (kind, rec["url"])
    extract = stats["stages"][0]
    for kind in ("not_html", "http_404", "http_301", "malformed"):
        assert not any(r["id"] in kept or r["id"] in removed for r in by_kind[kind]), kind
    assert extract["removed"]["not_html"] == len(by_kind["not_html"])
    assert extract["removed"]["http_status"] == len(by_kind["http_404"]) + len(by_kind["http_301"])
    assert extract["removed"]["malformed_record"] == 1
    # Charset paths: de declares ISO-8859-1 in <meta> only, fr windows-1252 in the header only.
    foreign = [d for d in removed.values() if d["host"] in ("de.example.eu", "fr.example.eu")]
    texts = " ".join(d["text"] for d in foreign)
    assert "Ausflüge" in texts or "Öffnungszeiten" in texts or "Großmutter" in texts
    assert "é" in texts and "\ufffd" not in texts


def test_removed_records_keep_reason_and_metadata(demo_run, spark):
    _, out = demo_run
    stage = spark.createDataFrame(pq.read_table(out / "stages" / "extract" / "parts"))
    bad = stage.where("reason = 'malformed_record'").collect()
    assert len(bad) == 1 and "demo-crawl-00003.warc.gz" in bad[0]["error"]
    assert stage.where("reason is not null and text is not null").count() == 0


def test_published_files_sized_by_the_text_they_hold(demo_run):
    """documents/ and removed/ each have the files their own rows' text asks for
    (configs/demo.yaml: 0.05 MB each): publish sizes a table by exactly the rows it
    writes."""
    _, out = demo_run
    files = {}
    for name in ("documents", "removed"):
        texts = pq.read_table(out / name, columns=["text"]).column("text")
        text_bytes = pc.sum(pc.binary_length(texts)).as_py()
        files[name] = len(list((out / name).glob("*.parquet")))
        assert files[name] == math.ceil(text_bytes * _COMPRESSED_FRACTION / (0.05 * 2**20))
    assert files["documents"] > 1


def test_edge_and_cc_files_accounted(spark, tmp_path):
    inputs = [str(shared_path("warc", "edge")) + "/*", str(shared_path("warc", "cc")) + "/*.gz"]
    stats = run(make_config(inputs, tmp_path), spark=spark)
    assert_accounting(stats, tmp_path)
    removed = stats["stages"][0]["removed"]
    # resilipipe (one gzip member, cut short) and clipped (cut in its block).
    assert removed["truncated_record"] == 2 and "malformed_record" not in removed
    assert stats["inputs"]["files"] == 12
    # CC sample 13 (3 pages have no main text), 1 each: whirlwind WARC and WET, pywb, iana
    # chunked, warcio example; 92 of the 100 ClueWeb09 pages of pywarc (WARC/0.18): 110
    # by the fast path, 5 more pages by the slower re-extraction of what it lost.
    assert stats["stages"][0]["out"] == 115
    assert stats["extract"]["fallback"]["documents"] >= 5


def test_same_output_whatever_the_partitioning(spark, demo_crawl, demo_run, tmp_path):
    _, out_a = demo_run
    spark.conf.set("spark.sql.files.maxPartitionBytes", "16k")
    spark.conf.set("spark.sql.shuffle.partitions", "7")
    try:
        run(demo_config(demo_crawl, tmp_path), spark=spark)
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
        spark.conf.set("spark.sql.shuffle.partitions", "4")
    for sub in ("documents", "removed", "signatures"):
        files_a = sorted(p.name for p in (out_a / sub).glob("part-*"))
        files_b = sorted(p.name for p in (tmp_path / sub).glob("part-*"))
        assert files_a == files_b
        for name in files_a:
            a = pq.read_table(out_a / sub / name)
            b = pq.read_table(tmp_path / sub / name)
            assert a.equals(b), (sub, name)


def test_failed_write_leaves_the_listed_table(spark, tmp_path):
    """Readers read only the files a table lists: a write that fails mid-way, leaving
    files of its own in the same folder, changes nothing they read."""
    ctx = stage_context(spark, tmp_path)
    table = ctx.write(spark.range(10), "documents")
    before = ctx.read(table).collect()

    def fail_late(batches):
        for batch in batches:
            if batch.num_rows and batch.column(0)[0].as_py() >= 50:
                raise RuntimeError("executor killed mid-write")
            yield batch

    failing = spark.range(0, 100, 1, 4).mapInArrow(fail_late, "id long")
    with pytest.raises(Exception, match="executor killed mid-write"):
        ctx.write(failing, "documents")
    assert len(list(Path(table.folder).glob("*.parquet"))) > len(table.files)  # leftovers
    assert ctx.read(table).collect() == before


def test_accounting_check_catches_mismatch():
    with pytest.raises(AccountingError, match="in=10"):
        check_accounting([StageStats("extract", 10, 5, {"x": 4})], 5)
    with pytest.raises(AccountingError, match="previous"):
        check_accounting([StageStats("a", 4, 3, {"x": 1}), StageStats("b", 2, 2)], 2)
    with pytest.raises(AccountingError, match="documents rows"):
        check_accounting([StageStats("a", 4, 3, {"x": 1})], 2)


@pytest.mark.slow
def test_adding_a_stage_is_one_module_and_one_entry(spark, demo_crawl, demo_run, tmp_path):
    """README "Adding a stage": the worked example, inserted into STAGES after dedup, runs
    through `curate filter`; stats.json, the funnel, removed/ and accounting pick it up."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from curate import pipeline
    from curate.runner import Result, Stage
    from curate.schema import read_kept

    class HostCap(Stage):
        name = "hostcap"
        sections = ("dedup",)  # the README's has its own section

        def run(self, ctx, table):
            docs = read_kept(ctx, table)
            rank = F.row_number().over(Window.partitionBy("host").orderBy("id"))
            flagged = docs.withColumn("filter_reason", F.when(rank > 2, F.lit("host_cap")))
            flagged = flagged.withColumn("duplicate_of", F.lit(None).cast("string"))
            out = ctx.write(flagged, "documents")
            n = ctx.read(out, ["filter_reason"]).where("filter_reason is not null").count()
            stats = StageStats(self.name, ctx.n_in, ctx.n_in - n, {"host_cap": n} if n else {})
            return Result({"documents": out}, stats, report={"max_per_host": 2})

    at = pipeline.STAGE_NAMES.index("dedup") + 1
    stages = [*pipeline.STAGES[:at], HostCap(), *pipeline.STAGES[at:]]
    names = [s.name for s in stages]
    original = pipeline.STAGES, pipeline.STAGE_NAMES
    pipeline.STAGES, pipeline.STAGE_NAMES = stages, names
    try:
        stats = pipeline.refilter(demo_config(demo_crawl, tmp_path), demo_run[1], spark=spark)
    finally:
        pipeline.STAGES, pipeline.STAGE_NAMES = original
    assert_accounting(stats, tmp_path)
    assert [s["name"] for s in stats["stages"]][3:5] == ["dedup", "hostcap"]
    cap = next(s for s in stats["funnel"] if s["name"] == "hostcap")
    assert cap["removed"]["host_cap"] > 0 and stats["hostcap"] == {"max_per_host": 2}
    removed = [r for r in pq.read_table(tmp_path / "removed").to_pylist()
               if r["filter_reason"] == "host_cap"]  # fmt: skip
    assert len(removed) == cap["removed"]["host_cap"]
    hosts = [d["host"] for d in documents(tmp_path)]
    assert max(hosts.count(h) for h in set(hosts)) <= 2
    assert (tmp_path / "stages" / "hostcap" / "_STAGE.json").is_file()


def test_readme_demo_summary_is_what_the_demo_prints(demo_run):
    """Every line of the README's `make demo` summary (but the timing, the paths and the
    elided ones) is a line of the summary of the same config on the same crawl."""
    from curate.pipeline import summary

    stats, _ = demo_run
    readme = (ROOT / "README.md").read_text()
    block = readme.split("`make demo` prints a one-screen summary and where the output is:")[1]
    shown = block.split("```")[1].strip("\n").splitlines()
    printed = summary(stats).splitlines()
    assert shown[0].startswith(f"curate {stats['curate_version']}: done in ")
    places = ("  output ", "  stats ", "  report ")
    for line in shown[1:]:
        if line.strip() == "..." or line.startswith(places):
            continue
        assert line in printed, line
