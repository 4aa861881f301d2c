"""alt-profanity-check's model kept between runs: the same arrays, and no sklearn once kept."""

import os
import subprocess
import sys

import numpy as np

from filters.toxicity_model import ARRAYS, cache_path, from_package, load
from tests.conftest import ROOT


def _same(a: dict, b: dict) -> bool:
    return all(np.array_equal(a[name], b[name]) for name in ARRAYS)


def test_kept_model_is_the_packages(tmp_path):
    shipped = from_package()
    first = load(tmp_path)
    assert cache_path(tmp_path).exists()
    again = load(tmp_path)
    assert _same(first, shipped) and _same(again, shipped)
    assert again["weights"].shape == (len(again["a"]), len(again["words"]))


def test_unreadable_model_is_rebuilt_and_unwritable_folder_is_no_error(tmp_path, caplog):
    path = cache_path(tmp_path)
    for damaged in (b"PK\x03\x04 not a zip", b""):
        path.write_bytes(damaged)
        model = load(tmp_path)
        assert "unreadable" in caplog.text
        caplog.clear()
    assert _same(load(tmp_path), model)
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert _same(load(blocked), model)
    assert "not written" in caplog.text


def test_scores_without_sklearn_once_kept(tmp_path):
    """The second process scores from the kept file: sklearn is never imported."""
    code = (
        "import sys\nfrom filters.toxicity import Toxicity\n"
        "p = Toxicity().signals('What the hell is this shit?', 'en')['max_line_probability']\n"
        "print(round(p, 12), 'sklearn' in sys.modules)"
    )
    env = {**os.environ, "HOME": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                           capture_output=True, text=True).stdout.split()
            for _ in range(2)]  # fmt: skip
    assert runs[0][1] == "True" and runs[1][1] == "False"
    assert runs[0][0] == runs[1][0] and float(runs[0][0]) > 0.5
