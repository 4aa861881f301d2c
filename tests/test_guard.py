"""Per-record guards: a document on which a stage's per-document code raises is removed
with a reason and the exception's message; the other documents of its batch go on."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from curate.guard import guarded, message
from tests.conftest import stage_context
from tests.test_encoding import FRENCH

BOOM = "BOOM this document makes the stage's code raise"


def _raise_on_boom(kernel):
    def wrapped(batch: pa.RecordBatch, *args, **kwargs):
        if any(BOOM in (t or "") for t in batch.column("text").to_pylist()):
            raise ZeroDivisionError("injected")
        return kernel(batch, *args, **kwargs)

    return wrapped


def _write_page(writer: WARCWriter, url: str, page: bytes) -> None:
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.0")
    record = writer.create_warc_record(url, "response", payload=io.BytesIO(page),
                                       http_headers=headers)  # fmt: skip
    writer.write_record(record)


def _docs(texts: list[str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {
            "id": [f"d{i}" for i in range(len(texts))],
            "url": ["https://a.example/x"] * len(texts),
            "text": texts,
            "language": ["en"] * len(texts),
        }
    )


def test_guarded_sets_aside_only_the_failing_rows():
    schema = pa.schema([("id", pa.string()), ("n", pa.int64())])

    def kernel(batch):
        n = [len(t) if BOOM not in t else 1 // 0 for t in batch.column("text").to_pylist()]
        return pa.RecordBatch.from_arrays([batch.column("id"), pa.array(n)], schema=schema)

    out = guarded(_docs(["ab", BOOM, "abc"]), kernel, schema, "err").to_pylist()
    assert [(r["id"], r["n"]) for r in out] == [("d0", 2), ("d1", None), ("d2", 3)]
    assert out[1]["err"] == "ZeroDivisionError: integer division or modulo by zero"
    assert [r["err"] for r in guarded(_docs(["a"]), kernel, schema, "err").to_pylist()] == [None]
    assert message(ValueError("two\nlines")) == "ValueError: two lines"


def test_each_stage_kernel_guards_its_documents(monkeypatch, tmp_path):
    """A failing document injected into each stage's per-document code: that document
    carries the stage's error column, its batch's other documents are computed."""
    from curate.config import Config, DecontamConfig, DedupConfig, PiiConfig, TokenizerConfig
    from curate.decontam.index import build_index
    from curate.dedup.keys import KEYS_SCHEMA
    from curate.mixture import shards
    from curate.pii import PII_COUNTS_TYPE, scrub
    from curate.schema import RECORD_COLUMNS
    from curate.stages import annotate, decontam, dedup, pii
    from curate.storage import use

    texts = ["A first plain document about gardens.", BOOM, "A third one, about rivers."]

    def outputs(fn, batch):
        rows = [r for b in fn(iter([batch])) for r in b.to_pylist()]
        return rows

    # annotate
    monkeypatch.setattr(annotate, "annotate_batch", _raise_on_boom(annotate.annotate_batch))
    cfg = Config.model_validate({"input": {"paths": ["-"]}, "output": {"dir": "-"},
                                 "perplexity": {"enabled": False}})  # fmt: skip
    from curate.extract.records import RECORD_SCHEMA
    from curate.quality import annotated_schema

    base = pa.schema([RECORD_SCHEMA.field(c) for c in RECORD_COLUMNS])
    records = pa.RecordBatch.from_pylist(
        [{"id": f"d{i}", "url": "https://a.example/", "text": t, "n_chars": len(t)}
         for i, t in enumerate(texts)], schema=base)  # fmt: skip
    records = records.append_column("reason", pa.nulls(3, pa.string()))  # extract's: kept
    kernel = annotate._annotate_kernel(
        use(None), cfg.model_dump_json(), annotated_schema(base, cfg)
    )()
    rows = kernel(records).to_pylist()
    assert [r["annotate_error"] is not None for r in rows] == [False, True, False]
    assert rows[1]["text"] == BOOM and rows[1]["language"] is None
    assert rows[0]["language"] == "en"

    # dedup: lines cut and keys
    monkeypatch.setattr(dedup, "cut_and_key_batch", _raise_on_boom(dedup.cut_and_key_batch))
    docs = _docs(texts)
    keys = [f for f in KEYS_SCHEMA if f.name != "id"]
    schema = pa.schema([*docs.schema, pa.field("line_chars_removed", pa.int32()), *keys])
    rows = outputs(dedup._keyed_partitions(DedupConfig(), 9, 13, schema), docs)
    assert [r["dedup_error"] is not None for r in rows] == [False, True, False]
    assert rows[0]["n_shingles"] > 0 and rows[1]["id"] == "d1" and rows[1]["text"] == BOOM

    # pii
    monkeypatch.setattr(scrub, "scrub_batch", _raise_on_boom(scrub.scrub_batch))
    removal = [pa.field("filter_reason", pa.string()), pa.field("duplicate_of", pa.string())]
    docs = pa.RecordBatch.from_arrays(
        [*docs.columns, pa.nulls(3, pa.string()), pa.nulls(3, pa.string())],
        schema=pa.schema([*docs.schema, *removal]),
    )
    added = [pa.field("pii_counts", PII_COUNTS_TYPE), pa.field("pii_error", pa.string())]
    schema = pa.schema([*_docs(texts).schema, *added, *removal])
    rows = pii._scrub_kernel(PiiConfig().model_dump_json(), schema)()(docs).to_pylist()
    assert [r["pii_error"] is not None for r in rows] == [False, True, False]
    assert "ZeroDivisionError: injected" in rows[1]["pii_error"]
    assert [r["filter_reason"] for r in rows] == [None, "pii_error", None]

    # decontam: the scan and the apply step
    index = build_index([], 13, 8)
    monkeypatch.setattr(decontam, "batch_matches", _raise_on_boom_texts(decontam.batch_matches))
    rows = outputs(decontam._hits_partitions(_Broadcast(index)), _docs(texts))
    assert [(r["id"], r["hashes"], r["decontam_error"] is not None) for r in rows] == [
        ("d1", None, True)
    ]
    monkeypatch.setattr(decontam, "_apply_batch", _raise_on_boom(decontam._apply_batch))
    batch = _docs(texts)
    batch = batch.append_column("hashes", pa.nulls(3, pa.list_(pa.int64())))
    batch = batch.append_column("decontam_error", pa.nulls(3, pa.string()))
    apply = decontam._apply_partitions(_Broadcast(index), DecontamConfig().model_dump_json())
    rows = outputs(apply, batch)
    assert [r["filter_reason"] for r in rows] == [None, "decontam_error", None]

    # mixture tokenisation
    tok_cfg = TokenizerConfig().model_dump_json()
    monkeypatch.setattr(shards, "executor_tokenizer", lambda _cfg: _RaisingTokenizer())
    rows = outputs(shards._tokenize_partitions(tok_cfg), _docs(texts))
    assert [r["mixture_error"] is not None for r in rows] == [False, True, False]
    assert rows[0]["n_tokens"] == 2 and rows[1]["tokens"] is None


class _Broadcast:
    def __init__(self, value):
        self.value = value


class _RaisingTokenizer:
    def encode_batch(self, texts):
        if any(BOOM in t for t in texts):
            raise ZeroDivisionError("injected")
        return [pa.array([1, 2], pa.int32()).to_numpy() for _ in texts]


def _raise_on_boom_texts(fn):
    def wrapped(texts, *args):
        if any(BOOM in (t or "") for t in texts.to_pylist()):
            raise ZeroDivisionError("injected")
        return fn(texts, *args)

    return wrapped


def test_extract_guard_keeps_the_rest_of_the_file(monkeypatch, tmp_path):
    from curate.config import ExtractConfig
    from curate.extract import records

    path = tmp_path / "x.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for i, body in enumerate(["<p>fine page one, with words</p>", BOOM, "<p>fine two</p>"]):
            page = f"<html><body><article>{body * 20}</article></body></html>".encode()
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.0"
            )
            writer.write_record(writer.create_warc_record(
                f"https://a.example/{i}", "response", payload=__import__("io").BytesIO(page),
                http_headers=headers))  # fmt: skip
    real = records._text_of

    def text_of(rec, *args):
        if BOOM.encode() in (rec.payload or b""):
            raise RecursionError("injected")
        return real(rec, *args)

    monkeypatch.setattr(records, "_text_of", text_of)
    rows = [r for b in records.ingest_file(str(path), ExtractConfig()) for r in b.to_pylist()]
    reasons = [r["reason"] for r in rows]
    assert reasons == [None, "extract_error", None]
    assert "RecursionError: injected" in rows[1]["error"] and str(path) in rows[1]["error"]


def test_filter_removes_annotate_errors_with_their_message(spark, tmp_path):
    from curate.stages.filter import Filter

    ctx = stage_context(spark, tmp_path)
    rows = [("a", "fine", None), ("b", None, "ZeroDivisionError: injected")]
    df = spark.createDataFrame(rows, "id string, text string, annotate_error string")
    from pyspark.sql import functions as F

    from curate.schema import DOCUMENT_COLUMNS

    for name in DOCUMENT_COLUMNS:
        if name not in df.columns:
            df = df.withColumn(name, F.lit(None))
    ctx.cfg.language.enabled = False
    for section in ("url_filter", "gopher_repetition", "gopher_quality", "c4", "fineweb"):
        getattr(ctx.cfg.quality, section).enabled = False
    ctx.n_in = 2
    result = Filter().run(ctx, ctx.write(df, "input"))
    assert result.stats.removed == {"annotate_error": 1}
    assert result.stats.examples == {"annotate_error": ["ZeroDivisionError: injected"]}


@pytest.mark.slow
def test_hostile_records_do_not_stop_the_job(spark, demo_crawl, demo_run, tmp_path):
    """The two records that used to kill the job, in a file beside the demo crawl's: a
    4 MB page of one long "word" (its perplexity overflowed a float) and a malformed IPv6
    URL (urlsplit raised); a page of mojibake, repaired; and every damaged-WARC case.
    The job finishes, counts add up with the records present, the demo's documents stay."""
    import random
    from collections import Counter

    from bench.damaged_warcs import CASES
    from curate.pipeline import no_record_read, run, summary
    from tests.conftest import demo_config

    rng = random.Random(0)
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    for f in demo_crawl.glob("*.warc.gz"):
        (crawl / f.name).symlink_to(f)
    words = " ".join(rng.choice(["plain", "words", "here", "again"]) for _ in range(400))
    with (crawl / "hostile.warc.gz").open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body in (
            ("https://long.example/page", "x" * 3_900_000),
            ("http://[::1/path/page", words + "."),
            # Stored double-encoded by its CMS: valid UTF-8 bytes of mojibake.
            ("https://mojibake.example/recette", (FRENCH + " ").encode().decode("cp1252") * 9),
        ):
            page = f"<html><body><article><p>{body}</p></article></body></html>".encode()
            _write_page(writer, url, page)
    (crawl / "empty.warc.gz").write_bytes(b"")
    (crawl / "notes.warc").write_text("# Not a WARC file\nJust notes.\n")
    damaged = Counter({"malformed_record": 1})  # the notes: bytes that are no record
    for case in CASES:
        (crawl / f"{case.name}{case.suffix}").write_bytes(case.build())
        damaged.update(case.expected)
    cfg = demo_config(demo_crawl, tmp_path / "out", ["spark.progress=false"])
    cfg.input.paths = [str(crawl / "*.warc*")]
    stats = run(cfg, spark=spark)
    reference_stats, reference = demo_run
    extract, reference_extract = stats["stages"][0], reference_stats["stages"][0]
    assert extract["in"] == reference_extract["in"] + 3 + damaged.total()
    repaired = stats["extract"]["mojibake_repaired"]["documents"]
    assert repaired == reference_stats["extract"]["mojibake_repaired"]["documents"] + 1
    for reason in ("truncated_record", "digest_mismatch"):
        assert extract["removed"][reason] == damaged[reason]
    malformed = reference_extract["removed"]["malformed_record"] + damaged["malformed_record"]
    assert extract["removed"]["malformed_record"] == malformed
    # Annotated: the three pages and every whole page of the damaged files.
    assert stats["stages"][1]["in"] == reference_stats["stages"][1]["in"] + 3 + damaged[None]
    parts = pq.read_table(tmp_path / "out" / "stages" / "extract" / "parts").to_pylist()
    (recipe,) = [r for r in parts if r["url"] == "https://mojibake.example/recette"]
    assert FRENCH in recipe["text"] and recipe["repaired_chars"] > 0
    docs = pq.read_table(tmp_path / "out" / "documents", columns=["id", "warc_path"])
    ours = {r["id"] for r in docs.to_pylist() if "demo-crawl-" in r["warc_path"]}
    theirs = {r["id"] for r in pq.read_table(reference / "documents").to_pylist()}
    assert ours == theirs
    without = stats["extract"]["files_without_records"]
    assert without == {
        "count": 2,
        "examples": [str(crawl / "empty.warc.gz"), str(crawl / "notes.warc")],
    }
    (line,) = [ln for ln in summary(stats).splitlines() if "warning" in ln]
    assert "2 of the " in line and "gave no WARC record" in line
    assert not no_record_read(stats)
    on_disk = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert on_disk["stages"][-1]["out"] == docs.num_rows
