"""spaCy's tokenizer rules kept between runs: the same rules, and no spaCy once kept."""

import json
import os
import subprocess
import sys
from pathlib import Path

from filters.tokenizer_rules import EXPRESSIONS, cache_path, compiled, from_spacy, load

ROOT = Path(__file__).resolve().parents[1]


def _data(rules) -> tuple:
    exprs = [getattr(rules, name).__self__ for name in EXPRESSIONS]
    return [(p.pattern, p.flags) for p in exprs], rules.special


def test_kept_rules_are_spacys(tmp_path):
    spacy_rules = compiled(from_spacy())
    first = load(tmp_path)
    assert cache_path(tmp_path).exists()
    again = load(tmp_path)
    assert _data(first) == _data(again) == _data(spacy_rules)
    assert again.special["don't"] == ("do", "n't")
    assert again.url_match("https://deb.debian.org/debian")


def test_unreadable_rules_are_rebuilt_and_unwritable_folder_is_no_error(tmp_path, caplog):
    path = cache_path(tmp_path)
    path.write_text('{"expressions": {"prefix_search": {"pattern": "("')
    rules = load(tmp_path)
    assert "unreadable" in caplog.text
    assert json.loads(path.read_text())["special"]["don't"] == ["do", "n't"]
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert _data(load(blocked)) == _data(rules)
    assert "not written" in caplog.text


def test_words_without_spacy_once_rules_are_kept(tmp_path):
    """The second process splits words from the kept file: spaCy is never imported."""
    code = (
        "import sys\nfrom filters.text import words\n"
        "print(words(\"Don't stop\"), 'spacy' in sys.modules)"
    )
    env = {**os.environ, "HOME": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                           capture_output=True, text=True).stdout for _ in range(2)]  # fmt: skip
    assert runs == ["['Do', \"n't\", 'stop'] True\n", "['Do', \"n't\", 'stop'] False\n"]
