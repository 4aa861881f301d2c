"""Language ID (lid.176 via curate.langid) on UDHR: accuracy per language, long and short lines.

    python bench/langid.py

Test set: ../shared/data/lid-eval/udhr2/, the UDHR in ~380 languages. Lines of >= 50
characters are the "long" set, shorter non-empty lines the "short" set. Only files whose
language lid.176 knows are scored (the table maps UDHR file names to lid.176 labels).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from curate.langid import load_model, predict

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

# UDHR file name (ISO 639-3, sometimes with a script or variant) -> lid.176 label.
UDHR_TO_LID = {
    "afr": "af",
    "amh": "am",
    "arb": "ar",
    "ast": "ast",
    "bel": "be",
    "ben": "bn",
    "bod": "bo",
    "bre": "br",
    "bul": "bg",
    "cat": "ca",
    "ceb": "ceb",
    "ces": "cs",
    "cmn_hans": "zh",
    "cmn_hant": "zh",
    "cos": "co",
    "cym": "cy",
    "dan": "da",
    "deu": "de",
    "ell_monotonic": "el",
    "eng": "en",
    "epo": "eo",
    "est": "et",
    "eus": "eu",
    "fao": "fo",
    "fin": "fi",
    "fra": "fr",
    "gla": "gd",
    "gle": "ga",
    "glg": "gl",
    "guj": "gu",
    "heb": "he",
    "hin": "hi",
    "hrv": "hr",
    "hsb": "hsb",
    "hun": "hu",
    "hye": "hy",
    "ido": "io",
    "ilo": "ilo",
    "ina": "ia",
    "ind": "id",
    "isl": "is",
    "ita": "it",
    "jav": "jv",
    "jpn": "ja",
    "kan": "kn",
    "kat": "ka",
    "kaz": "kk",
    "khm": "km",
    "kir": "ky",
    "kor": "ko",
    "lao": "lo",
    "lat": "la",
    "lav": "lv",
    "lit": "lt",
    "ltz": "lb",
    "mal": "ml",
    "mar": "mr",
    "mkd": "mk",
    "mlt": "mt",
    "mya": "my",
    "nds": "nds",
    "nep": "ne",
    "nld": "nl",
    "nno": "nn",
    "nob": "no",
    "oss": "os",
    "pan": "pa",
    "pes_1": "fa",
    "pol": "pl",
    "por_BR": "pt",
    "por_PT": "pt",
    "roh": "rm",
    "ron": "ro",
    "rus": "ru",
    "sah": "sah",
    "san": "sa",
    "sco": "sco",
    "slk": "sk",
    "slv": "sl",
    "som": "so",
    "spa": "es",
    "srp_cyrl": "sr",
    "sun": "su",
    "swe": "sv",
    "swh": "sw",
    "tam": "ta",
    "tat": "tt",
    "tgk": "tg",
    "tgl": "tl",
    "tha": "th",
    "tuk_latn": "tk",
    "tur": "tr",
    "uig_arab": "ug",
    "ukr": "uk",
    "urd": "ur",
    "uzn_latn": "uz",
    "vec": "vec",
    "vie": "vi",
    "war": "war",
    "wln": "wa",
    "ydd": "yi",
    "yor": "yo",
}


def main() -> int:
    root = SHARED / "lid-eval" / "udhr2"
    if not root.exists():
        print(f"skipped: {root} not present")
        return 0
    model = load_model()
    rows, n_lines, seconds = [], 0, 0.0
    for name, label in sorted(UDHR_TO_LID.items()):
        path = root / f"{name}.txt"
        if not path.exists():
            continue
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        scores = {}
        for kind, subset in (
            ("long", [ln for ln in lines if len(ln) >= 50]),
            ("short", [ln for ln in lines if len(ln) < 50]),
        ):
            start = time.perf_counter()
            right = sum(predict(model, ln)[0] == label for ln in subset)
            seconds += time.perf_counter() - start
            n_lines += len(subset)
            scores[kind] = (right / len(subset), len(subset)) if subset else (None, 0)
        rows.append((name, label, scores))
    print(f"{'udhr file':<14}{'label':<6}{'long acc':>9}{'n':>6}{'short acc':>11}{'n':>6}")
    for name, label, sc in rows:
        fmt = lambda acc: "-" if acc is None else f"{acc:.3f}"  # noqa: E731
        print(
            f"{name:<14}{label:<6}{fmt(sc['long'][0]):>9}{sc['long'][1]:>6}"
            f"{fmt(sc['short'][0]):>11}{sc['short'][1]:>6}"
        )
    for kind in ("long", "short"):
        accs = [sc[kind][0] for _, _, sc in rows if sc[kind][0] is not None]
        print(
            f"mean accuracy over {len(accs)} languages, {kind} lines: {sum(accs) / len(accs):.3f}"
        )
    print(f"throughput: {n_lines / seconds:,.0f} lines/s on one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
