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

import hashlib
import logging
import os
import zipfile
from contextlib import suppress
from importlib.metadata import version
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

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
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(version("alt-profanity-check").encode())
    return folder / f"model-{digest.hexdigest()[:24]}.npz"


def load(folder: Path = FOLDER) -> dict[str, np.ndarray]:
    """The arrays from ``folder``'s file for this package, else from it (then stored)."""
    path = cache_path(folder)
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in ARRAYS}
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("toxicity model %s: unreadable (%s); rebuilding it", path, exc)
    data = from_package()
    # Workers may write at once: each writes its own file, then renames it in place.
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with part.open("wb") as out:
            np.savez(out, **data)
        os.replace(part, path)
    except OSError as exc:
        log.warning("toxicity model %s: not written (%s)", path, exc)
        with suppress(OSError):  # nothing written, or no folder to write in
            part.unlink()
    return data
