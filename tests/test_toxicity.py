"""Toxicity signals: the model's probabilities as shipped, thresholds, word lists, offline."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from curate.config import Config, ConfigError
from filters.rules import first_failure
from filters.toxicity import Toxicity, load_model
from tests.conftest import ROOT

LINES = [
    "The committee published its annual report on water quality.",
    "You are a fucking idiot and everyone hates you.",
    "What the hell is this shit, man?",
    "Our cat sleeps all day on the warm windowsill.",
    "",
    "the and of to",
]


def test_probabilities_equal_alt_profanity_check():
    from profanity_check import predict_prob

    ours = load_model().probabilities(LINES)
    assert ours.tolist() == pytest.approx(predict_prob(LINES).tolist(), abs=1e-12)
    assert ours[1] > 0.9 > 0.1 > ours[0]


@pytest.mark.parametrize("frac, expected", [(0.2, None), (0.5, "toxicity.flagged_lines")])
def test_flagged_lines_at_below_and_above(frac, expected):
    """Five lines, one abusive: 0.2 flagged. At the threshold a document stays."""
    text = "\n".join([LINES[1], LINES[0], LINES[3], LINES[0], LINES[3]])
    filt = Toxicity(max_flagged_lines_frac=0.2 if frac == 0.2 else 0.19,
                    max_flagged_words_ratio=None)  # fmt: skip
    signals = filt.signals(text, "en")
    assert signals["flagged_lines_frac"] == pytest.approx(0.2)
    assert first_failure({"toxicity": signals}, filt.rules()) == expected


def test_word_lists_default_and_own():
    text = "damn " + "word " * 99  # 1 listed word in 100
    default = Toxicity()
    assert default.signals(text, "en")["flagged_words_ratio"] == pytest.approx(0.01)
    assert default.signals(text, "de")["flagged_words_ratio"] is None  # English list
    own = Toxicity(words=("word", "big deal"))
    assert own.signals("a big deal, a word", "de")["flagged_words_ratio"] == pytest.approx(0.4)
    for ratio, expected in ((0.01, None), (0.009, "toxicity.flagged_words")):
        filt = Toxicity(max_flagged_words_ratio=ratio, max_flagged_lines_frac=None)
        assert first_failure({"toxicity": filt.signals(text, "en")}, filt.rules()) == expected


def test_words_file_is_merged_by_annotate(tmp_path):
    from curate.quality import all_filters
    from curate.storage import use

    (tmp_path / "words.txt").write_text("# a list\nfoo\nbar baz\n")
    words = {"toxicity": {"words_file": str(tmp_path / "words.txt")}}
    cfg = Config.model_validate({"input": {"paths": ["-"]}, "output": {"dir": "-"},
                                 "quality": words})  # fmt: skip
    filt = all_filters(cfg, use(None))["toxicity"]
    assert filt.signals("foo and bar baz", "fr")["flagged_words_ratio"] == pytest.approx(0.5)


def test_toxicity_offline():
    """The model loads and scores with sockets disabled."""
    code = textwrap.dedent(
        """
        import socket
        def refuse(*a, **k):
            raise RuntimeError("network used")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from filters.toxicity import Toxicity
        print(Toxicity().signals("What the hell is this shit?", "en")["max_line_probability"])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) > 0.5


def test_language_lists(tmp_path):
    """A language's own list file counts for that language only; English keeps the
    default list; other languages get no word signal."""
    from curate.lists import check_lists
    from curate.quality import all_filters
    from curate.storage import use

    (tmp_path / "fr.txt").write_text("merde\nputain de\n")
    tox = {"toxicity": {"language_words_files": {"fr": str(tmp_path / "fr.txt")}}}
    cfg = Config.model_validate({"input": {"paths": ["-"]}, "output": {"dir": "-"},
                                 "quality": tox})  # fmt: skip
    check_lists(cfg, use(None))
    filt = all_filters(cfg, use(None))["toxicity"]
    assert filt.signals("merde alors, putain de temps", "fr")["flagged_words_ratio"] == 0.4
    assert filt.signals("merde alors", "de")["flagged_words_ratio"] is None
    assert filt.signals("damn " + "word " * 9, "en")["flagged_words_ratio"] == 0.1
    (tmp_path / "fr.txt").unlink()
    with pytest.raises(ConfigError, match=r"language_words_files\.fr: no list file"):
        check_lists(cfg, use(None))
