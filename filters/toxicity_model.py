"""alt-profanity-check's model (a TF-IDF vectorizer and calibrated linear SVMs) as plain
arrays, kept between runs.

The toxicity signal needs only the model's vocabulary, IDF weights, coefficients and
sigmoid calibrations, but its joblib files hold sklearn objects: unpickling them imports
sklearn and scipy.stats, about 1.2 s of every Python worker that scores toxicity. Read
back from a local .npz file they take milliseconds. The file is keyed by the package's
version and this module's bytes; one that cannot be read is rebuilt from the package, and
a folder that cannot be written only means each worker unpickles, as it did before.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from filters.kept import kept, kept_path

FOLDER = Path("~/.cache/curate/toxicity").expanduser()
# words: the vocabulary in column order; weights, intercepts, a, b: one row or value per
# calibrated classifier.
ARRAYS = ("words", "idf", "weights", "intercepts", "a", "b")


def from_package() -> dict[str, np.ndarray]:
    """The arrays of the vectorizer and classifiers shipped in alt-profanity-check."""
    from profanity_check import profanity_check as shipped

    vocabulary = shipped.vectorizer.vocabulary_
    calibrated = shipped.model.calibrated_classifiers_
    return {
        "words": np.array(sorted(vocabulary, key=vocabulary.__getitem__)),
        "idf": np.asarray(shipped.vectorizer.idf_, dtype=np.float64),
        "weights": np.array([c.estimator.coef_[0] for c in calibrated], dtype=np.float64),
        "intercepts": np.array([c.estimator.intercept_[0] for c in calibrated], np.float64),
        "a": np.array([c.calibrators[0].a_ for c in calibrated], dtype=np.float64),
        "b": np.array([c.calibrators[0].b_ for c in calibrated], dtype=np.float64),
    }


def cache_path(folder: Path) -> Path:
    return kept_path(folder, __file__, "alt-profanity-check", "model.npz")


def _read(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as stored:
        return {name: stored[name] for name in ARRAYS}


def load(folder: Path = FOLDER) -> dict[str, np.ndarray]:
    """The arrays from ``folder``'s file for this package, else from it (then stored)."""
    return kept(
        cache_path(folder),
        "toxicity model",
        read=_read,
        build=from_package,
        write=lambda data, out: np.savez(out, **data),
        use=lambda data: data,
        unreadable=(OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile),
    )
