from pathlib import Path

import pytest

from curate.cli import main
from curate.config import ConfigError, load_config
from curate.inputs import resolve_inputs


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


BASE = "input:\n  paths: ['{inp}']\noutput:\n  dir: {out}\n"


def test_valid_config_and_overrides(tmp_path):
    cfg_path = write(tmp_path, BASE.format(inp="x.warc.gz", out="o"))
    cfg = load_config(cfg_path, ["extract.timeout_s=2.5", "spark.conf={'a.b': 'c'}"])
    assert cfg.extract.timeout_s == 2.5
    assert cfg.spark.conf == {"a.b": "c"}
    assert cfg.extract.extractor == "trafilatura"


def test_unknown_key_names_key_and_file(tmp_path):
    cfg_path = write(tmp_path, BASE.format(inp="x", out="o") + "extract:\n  timeuot_s: 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(cfg_path)
    assert str(cfg_path) in str(err.value)
    assert "unknown key 'extract.timeuot_s'" in str(err.value)


def test_wrong_type_names_key(tmp_path):
    cfg_path = write(tmp_path, BASE.format(inp="x", out="o") + "extract:\n  timeout_s: soon\n")
    with pytest.raises(ConfigError, match=r"key 'extract.timeout_s'.*soon"):
        load_config(cfg_path)


def test_missing_required_key(tmp_path):
    cfg_path = write(tmp_path, "input:\n  paths: [a]\n")
    with pytest.raises(ConfigError, match="missing required key 'output'"):
        load_config(cfg_path)


def test_unknown_override_key(tmp_path):
    cfg_path = write(tmp_path, BASE.format(inp="x", out="o"))
    with pytest.raises(ConfigError, match=r"unknown key 'extract\.nope'"):
        load_config(cfg_path, ["extract.nope=1"])


def test_missing_input_named(tmp_path):
    cfg = load_config(write(tmp_path, BASE.format(inp=tmp_path / "none-*.warc.gz", out="o")))
    with pytest.raises(ConfigError, match=r"input.paths.*matches no file"):
        resolve_inputs(cfg.input, "run.yaml")


def test_listing_with_base_and_limit(tmp_path):
    for name in ("a.warc.gz", "b.warc.gz", "c.warc.gz"):
        (tmp_path / name).write_bytes(b"")
    listing = tmp_path / "warc.paths"
    listing.write_text("c.warc.gz\n\na.warc.gz\nb.warc.gz\n")
    cfg_path = write(tmp_path, BASE.format(inp=listing, out="o"))
    cfg = load_config(cfg_path, [f"input.base_url={tmp_path}", "input.limit=2"])
    assert resolve_inputs(cfg.input) == [str(tmp_path / "a.warc.gz"), str(tmp_path / "b.warc.gz")]


def test_duplicate_file_names_rejected(tmp_path):
    for d in ("x", "y"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "same.warc.gz").write_bytes(b"")
    cfg = load_config(write(tmp_path, BASE.format(inp=tmp_path / "*/same.warc.gz", out="o")))
    with pytest.raises(ConfigError, match=r"share the file name 'same\.warc\.gz'"):
        resolve_inputs(cfg.input)


def test_cli_reports_config_error_before_spark(tmp_path, capsys):
    cfg_path = write(tmp_path, BASE.format(inp=tmp_path / "missing.warc.gz", out="o"))
    assert main(["run", str(cfg_path)]) == 2
    err = capsys.readouterr().err
    assert "input file(s) not found" in err and "missing.warc.gz" in err


def test_dedup_against_flag_checked_before_spark(tmp_path, capsys):
    (tmp_path / "x.warc.gz").write_bytes(b"")
    cfg_path = write(tmp_path, BASE.format(inp=tmp_path / "x.warc.gz", out=tmp_path / "o"))
    earlier = tmp_path / "earlier"
    assert main(["run", str(cfg_path), "--dedup-against", str(earlier)]) == 2
    err = capsys.readouterr().err
    assert f"dedup.against: {earlier}/signature_keys.json not found" in err


def test_set_value_that_is_not_yaml_is_one_line(tmp_path):
    cfg_path = write(tmp_path, BASE.format(inp="x.warc.gz", out="o"))
    with pytest.raises(ConfigError, match=r"--set extract.timeout_s: '\[1,' is not a YAML value"):
        load_config(cfg_path, ["extract.timeout_s=[1,"])


def test_output_holding_an_input_is_refused_before_spark(tmp_path, capsys):
    (tmp_path / "x.warc.gz").write_bytes(b"")
    cfg_path = write(tmp_path, BASE.format(inp=tmp_path / "*.warc.gz", out=tmp_path))
    assert main(["run", str(cfg_path)]) == 2
    assert (
        f"output.dir {tmp_path}: holds an input ({tmp_path}/x.warc.gz)" in capsys.readouterr().err
    )
    (tmp_path / "file").write_text("x")
    cfg_path = write(tmp_path, BASE.format(inp=tmp_path / "x.warc.gz", out=tmp_path / "file"))
    assert main(["run", str(cfg_path)]) == 2
    assert f"output.dir {tmp_path}/file: is a file, not a folder" in capsys.readouterr().err


def _ranged_fields():
    """Every filter field with a range, from the filters' own annotations."""
    import dataclasses
    import typing

    from curate.config import FILTERS
    from filters.rules import Count, Fraction, NonNegative

    kinds = {repr(Fraction): "fraction", repr(Count): "count", repr(NonNegative): "nonneg"}
    for name, cls in FILTERS.items():
        hints = typing.get_type_hints(cls, include_extras=True)
        for f in dataclasses.fields(cls):
            hint = hints[f.name]
            union = typing.get_origin(hint) is not typing.Annotated
            for arg in typing.get_args(hint) if union else (hint,):
                if repr(arg) in kinds:
                    yield f"quality.{name}.{f.name}", kinds[repr(arg)]


def test_every_threshold_has_the_range_its_meaning_allows(tmp_path):
    cfg_path = write(tmp_path, BASE.format(inp="x", out="o"))
    fields = dict(_ranged_fields())
    # Thresholds of every filter are covered, e.g. the one the issue found accepted.
    assert fields["quality.gopher_quality.min_words"] == "count"
    assert fields["quality.fineweb.max_dup_line_char_ratio"] == "fraction"
    bad = {"fraction": ["-0.1", "1.5"], "count": ["-5", "2.5"], "nonneg": ["-1"]}
    for key, kind in fields.items():
        for value in bad[kind]:
            with pytest.raises(ConfigError, match=rf"key '{key}'"):
                load_config(cfg_path, [f"{key}={value}"])
    assert len(fields) == 37  # every numeric threshold field
    assert load_config(cfg_path, ["quality.fineweb.max_dup_line_char_ratio=1"])


def test_run_that_read_no_record_exits_non_zero(tmp_path, monkeypatch, capsys):
    import curate.pipeline

    stats = {
        "curate_version": "x",
        "seconds": {"total": 1.0},
        "inputs": {"files": 1, "first": ["README.md"]},
        "funnel": [],
        "documents": {"rows": 0, "files": 0, "path": str(tmp_path / "o" / "documents")},
        "extract": {"files_without_records": {"count": 1, "examples": ["README.md"]}},
    }
    monkeypatch.setattr(curate.pipeline, "run", lambda cfg, **kw: stats)
    cfg_path = write(tmp_path, BASE.format(inp="README.md", out=tmp_path / "o"))
    assert main(["run", str(cfg_path)]) == 1
    out, err = capsys.readouterr()
    assert "  warning: none of the 1 input file(s) gave a WARC record (empty, not WARC" in out
    assert err.strip() == "curate: no input file gave a WARC record; check input.paths"
