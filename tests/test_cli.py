"""The command line as a user meets it: one line per mistake (exit 2), help for every
option, defaults from the config, and no pyspark import before the config is valid."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from curate import __version__
from curate.cli import build_parser, main
from curate.config import MixtureConfig


def _lines(text: str) -> list[str]:
    return [ln for ln in text.strip().splitlines() if ln]


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"curate {__version__}"


def test_every_option_has_help_and_mix_defaults_are_the_configs():
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, p in sub.choices.items():
        for action in p._actions:
            assert action.help, f"curate {name} {action.dest}: no help text"
    assert "``" not in parser.description
    mix = sub.choices["mix"].parse_args(["out"])
    cfg = MixtureConfig()
    assert (mix.method, mix.alpha, mix.max_epochs, mix.on_exceed) == (
        cfg.method,
        cfg.alpha,
        cfg.max_epochs,
        cfg.on_exceed,
    )


@pytest.mark.parametrize("given", ["missing-dir", "missing-dir/manifest.json"])
def test_inspect_a_missing_manifest_is_one_line(given, tmp_path, capsys):
    assert main(["inspect-manifest", str(tmp_path / given)]) == 2
    (line,) = _lines(capsys.readouterr().err)
    assert "no manifest there; give a run's output dir or a manifest file" in line


def test_inspect_a_folder_and_manual_mix_without_weights(demo_run, capsys, tmp_path):
    _, out = demo_run
    assert main(["inspect-manifest", str(out)]) == 0
    assert "tokenizer cl100k_base" in capsys.readouterr().out
    assert main(["mix", str(out), "--method", "manual", "--output", str(tmp_path / "m.json")]) == 2
    err = _lines(capsys.readouterr().err)
    assert err[0] == "curate: configuration error" and len(err) == 2, err
    assert "give one weight per domain" in err[1] and "--weight books=W" in err[1]
    assert main(["mix", str(out), "--method", "manual", "--weight", "web=a lot"]) == 2
    assert "--weight 'web=a lot': give DOMAIN=W" in capsys.readouterr().err


def test_input_errors_name_the_flag(tmp_path, capsys):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(f"input:\n  paths: [x]\noutput:\n  dir: {tmp_path / 'o'}\n")
    assert main(["run", str(cfg), "--input", str(tmp_path / "none-*.warc.gz")]) == 2
    err = capsys.readouterr().err
    assert f"--input: '{tmp_path / 'none-*.warc.gz'}' matches no file" in err


def test_config_errors_come_before_pyspark_is_imported(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("input:\n  paths: [x]\noutput:\n  dir: o\nextract:\n  timeuot_s: 3\n")
    script = (
        "import sys\nfrom curate.cli import main\n"
        f"rc = main(['run', {str(cfg)!r}])\n"
        "assert rc == 2, rc\nassert 'pyspark' not in sys.modules\nprint('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
    assert "unknown key 'extract.timeuot_s'" in done.stderr
