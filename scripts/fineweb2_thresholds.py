"""Write configs/fineweb2-thresholds.yaml from FineWeb-2's per-language configs.

    python scripts/fineweb2_thresholds.py FINEWEB2_CONFIGS_DIR [--udhr DIR] [--output FILE]

FINEWEB2_CONFIGS_DIR: the ``configs/`` folder of github.com/huggingface/fineweb-2 (one
``<iso639-3>_<script>.yml`` per language). The languages: every UDHR file under
../shared/data/lid-eval/udhr2/ and every lid.176 label (so every docs-crawl language),
where lid.176 labels it (resolved as language.keep is) and FineWeb-2 has a config. The
values, as fineweb-2-pipeline.py applies them:
GopherRepetitionFilter's paragraph and line-character rules off, dup_line_frac,
top_n_grams, dup_n_grams; FineWebQualityFilter's short-line rule off, char_duplicates_ratio
0.1 (0.01 in FineWeb), line_punct_thr, new_line_ratio; GopherQualityFilter's word lengths,
max_non_alpha_words_ratio, stop words and min_stop_words 2; no C4 filter; the GlotLID
language_score threshold.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import langcodes
import yaml

from curate.config import ConfigError
from curate.langid import load_model, model_labels, resolve_code

ROOT = Path(__file__).resolve().parents[1]
UDHR = ROOT.parent / "shared" / "data" / "lid-eval" / "udhr2"
HEADER = """\
# FineWeb-2's per-language filtering (Penedo et al. 2025), for the languages lid.176 labels
# that FineWeb-2 covers (the UDHR set's and docs-crawl's among them): values from
# github.com/huggingface/fineweb-2 configs/<lang>.yml, applied as its fineweb-2-pipeline.py
# does (Gopher's paragraph and line-character repetition rules
# and FineWeb's short-line rule off, FineWeb's duplicate-line characters 0.1, no C4 rules).
# Written by scripts/fineweb2_thresholds.py; include it from a config:
#   include: [fineweb2-thresholds.yaml]
# language.min_score_by_language holds FineWeb-2's GlotLID score thresholds; lid.176's
# probabilities are of another model, so check removals (curate tune) before relying on them.
"""


# lid.176 labels a macrolanguage; FineWeb-2 files its main member (Standard Malay, ...).
MEMBERS = {"ms": "zsm", "ar": "arb", "zh": "cmn", "no": "nob", "sw": "swh", "et": "ekk",
           "lv": "lvs", "uz": "uzn", "sq": "als", "az": "azj", "mn": "khk", "ne": "npi",
           "ps": "pbt", "fa": "fas"}  # fmt: skip


def _config_for(code: str, configs: Path) -> Path | None:
    """FineWeb-2's config for an ISO 639 code (or its macrolanguage's): the one of its
    likely script, else the only one."""
    found = sorted(configs.glob(f"{code}_*.yml"))
    if not found:
        macro = langcodes.Language.get(langcodes.standardize_tag(code, macro=True))
        found = sorted(configs.glob(f"{macro.to_alpha3()}_*.yml"))
    if len(found) <= 1:
        return found[0] if found else None
    script = langcodes.Language.get(code).maximize().script
    return next((p for p in found if p.stem.endswith(f"_{script}")), None)


def _share(value: float) -> float | None:
    """A share outside 0..1 can never be crossed: FineWeb-2 writes such values (above 1, or
    negative) where a rule is off in effect; curate says so with null."""
    return value if 0 <= value <= 1 else None


def _overrides(fw2: dict) -> dict:
    off = ("max_dup_para_frac", "max_dup_para_char_frac", "max_dup_line_char_frac")
    rep = {**dict.fromkeys(off), "max_dup_line_frac": _share(fw2["dup_line_frac"])}
    rep |= {f"max_top_{n}gram_char_frac": _share(v) for n, v in fw2["top_n_grams"]}
    rep |= {f"max_dup_{n}gram_char_frac": _share(v) for n, v in fw2["dup_n_grams"]}
    return {
        "gopher_repetition": rep,
        "fineweb": {
            "max_short_line_ratio": None,
            "max_dup_line_char_ratio": 0.1,
            "min_line_punct_ratio": _share(fw2["line_punct_thr"]),
            "max_newlines_per_word": fw2["new_line_ratio"],
        },
        "gopher_quality": {
            "min_mean_word_length": fw2["min_avg_word_length"],
            "max_mean_word_length": fw2["max_avg_word_length"],
            "min_alpha_words_ratio": _share(fw2["max_non_alpha_words_ratio"]),
            "min_stop_words": 2,
        },
        "c4": {"enabled": False},
    }


def _codes(udhr: Path, labels: frozenset[str]) -> list[str]:
    """The UDHR set's ISO 639-3 codes, then lid.176's labels (their main member where a
    label is a macrolanguage): the languages present in the shared data and more."""
    found = [p.stem.split("_")[0] for p in sorted(udhr.glob("*.txt"))]
    found = [c for c in found if re.fullmatch(r"[a-z]{3}", c)]
    return [*found, *(MEMBERS.get(x, x) for x in sorted(labels))]


def build(configs: Path, udhr: Path) -> dict:
    labels = model_labels(load_model())
    scores, stop_words, by_language = {}, {}, {}
    for code in _codes(udhr, labels):
        # By ISO 639 first: UDHR's "als" is Tosk Albanian, lid.176's label "als" Alemannic.
        iso = langcodes.Language.get(langcodes.standardize_tag(code, macro=True)).language
        try:
            mapped = resolve_code(iso or code, labels, "udhr")
        except ConfigError:
            continue
        source = _config_for(code, configs)
        if source is None:
            continue
        fw2 = yaml.safe_load(source.read_text())
        for label in mapped:
            if label == "en" or label in by_language:
                continue
            scores[label] = fw2["language_score"]
            stop_words[label] = list(fw2["stopwords"])
            by_language[label] = _overrides(fw2)
    return {
        "language": {"min_score_by_language": dict(sorted(scores.items()))},
        "quality": {
            "gopher_quality": {"stop_words": dict(sorted(stop_words.items()))},
            "by_language": dict(sorted(by_language.items())),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", type=Path, help="fineweb-2's configs/ folder")
    parser.add_argument("--udhr", type=Path, default=UDHR)
    parser.add_argument(
        "--output", type=Path, default=ROOT / "configs" / "fineweb2-thresholds.yaml"
    )
    args = parser.parse_args()
    data = build(args.configs, args.udhr)
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    args.output.write_text(HEADER + body, encoding="utf-8")
    print(f"{args.output}: {len(data['quality']['by_language'])} languages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
