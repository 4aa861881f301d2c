"""Per-language thresholds (FineWeb-2): quality.by_language, the shipped file, include."""

from __future__ import annotations

import pyarrow as pa
import pytest
import yaml

from curate.config import ConfigError, load_config
from curate.extract.records import RECORD_SCHEMA
from curate.quality import all_filters, annotate_batch, annotated_schema, reason_column
from curate.schema import RECORD_COLUMNS
from curate.storage import use
from tests.conftest import ROOT, shared_path

FINEWEB2 = ROOT / "configs" / "fineweb2-thresholds.yaml"


def _config(tmp_path, body: dict):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"input": {"paths": ["x"]}, "output": {"dir": "o"},
                                    "perplexity": {"enabled": False}, **body}))  # fmt: skip
    return load_config(path)


def _frame(spark, batch: pa.RecordBatch):
    from pyspark.sql.pandas.types import from_arrow_schema

    table = pa.Table.from_batches([batch])
    return spark.createDataFrame(table.to_pandas(), schema=from_arrow_schema(table.schema))


def _reasons(spark, cfg, rows: list[tuple[str | None, float, bool]]) -> list[str | None]:
    """Reasons for documents given (language, dup_line_frac, lorem_ipsum), other signals
    null (a null signal never fails)."""
    schema = annotated_schema(pa.schema([]), cfg)
    data = {name: [None] * len(rows) for name in schema.names}
    data["language"] = [lang for lang, _, _ in rows]
    data["language_score"] = [0.99] * len(rows)
    data["gopher_repetition"] = [{"dup_line_frac": dup} for _, dup, _ in rows]
    data["c4"] = [{"lorem_ipsum": lorem} for _, _, lorem in rows]
    df = _frame(spark, pa.RecordBatch.from_pydict(data, schema=schema))
    return [r[0] for r in df.select(reason_column(cfg)).collect()]


def test_by_language_changes_exactly_that_language(spark, tmp_path):
    cfg = _config(tmp_path, {"quality": {"by_language": {"fr": {
        "gopher_repetition": {"max_dup_line_frac": 0.5}, "c4": {"enabled": False}}}}})  # fmt: skip
    rows = [("fr", 0.4, False), ("de", 0.4, False), (None, 0.4, False),
            ("fr", 0.6, False), ("fr", 0.1, True), ("de", 0.1, True)]  # fmt: skip
    assert _reasons(spark, cfg, rows) == [
        None,  # fr's own threshold (0.5)
        "gopher_repetition.dup_line_frac", "gopher_repetition.dup_line_frac",  # base 0.3
        "gopher_repetition.dup_line_frac",  # above fr's too
        None,  # C4 is off for fr
        "c4.lorem_ipsum",
    ]  # fmt: skip


def test_by_language_refuses_unknown_filters_and_signal_settings(tmp_path):
    with pytest.raises(ConfigError, match=r"by_language\.fr\.gopher: no such filter"):
        _config(tmp_path, {"quality": {"by_language": {"fr": {"gopher": {}}}}})
    with pytest.raises(ConfigError, match="stop_words shape signals"):
        _config(tmp_path, {"quality": {"by_language": {"fr": {"gopher_quality": {
            "stop_words": {"fr": ["le"]}}}}}})  # fmt: skip
    with pytest.raises(ConfigError, match="max_dup_line_frac"):
        _config(tmp_path, {"quality": {"by_language": {"fr": {"gopher_repetition": {
            "max_dup_line_frac": 2}}}}})  # fmt: skip


def _reason_of(spark, cfg, text: str) -> str | None:
    base = pa.schema([RECORD_SCHEMA.field(c) for c in RECORD_COLUMNS])
    rows = {c: [None] for c in RECORD_COLUMNS}
    rows["text"], rows["url"], rows["id"] = [text], ["https://gl.example/"], ["d"]
    batch = pa.RecordBatch.from_pydict(rows, schema=base)
    signals = annotate_batch(batch, cfg, annotated_schema(base, cfg), all_filters(cfg, use(None)))
    return _frame(spark, signals).select(reason_column(cfg)).first()[0]


def test_fineweb2_values_keep_a_real_galician_page(spark, tmp_path):
    """The UDHR in Galician repeats lines more than English text may (Gopher's 0.30); FineWeb-2's
    Galician value allows it, as FineWeb-2 intends for the language."""
    text = shared_path("lid-eval", "udhr2", "glg.txt").read_text(encoding="utf-8")
    english = _config(tmp_path, {"language": {"keep": ["gl"]}})
    galician = _config(tmp_path, {"include": [str(FINEWEB2)], "language": {"keep": ["gl"]}})
    gl = galician.quality.by_language["gl"]["gopher_repetition"]["max_dup_line_frac"]
    assert gl > english.quality.gopher_repetition.max_dup_line_frac
    assert _reason_of(spark, english, text) == "gopher_repetition.dup_line_frac"
    assert _reason_of(spark, galician, text) is None


def test_shipped_file_loads_with_stop_words(tmp_path):
    """configs/fineweb2-thresholds.yaml loads, and its stop words reach gopher_quality."""
    cfg = _config(tmp_path, {"include": [str(FINEWEB2)]})
    assert len(cfg.quality.by_language) >= 100
    assert "de" in cfg.quality.gopher_quality.stop_words["fr"]
    assert cfg.quality.by_language["fr"]["c4"] == {"enabled": False}
    assert "en" not in cfg.quality.by_language
