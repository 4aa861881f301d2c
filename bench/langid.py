"""Language ID (lid.176 via curate.langid) on UDHR: accuracy per language, long and short lines.

    python bench/langid.py

Test set: ../shared/data/lid-eval/udhr2/, the UDHR in ~380 languages. Lines of >= 50
characters are the "long" set, shorter non-empty lines the "short" set. Only files whose
language lid.176 knows are scored: a UDHR file is named by its ISO 639-3 code (and a
script or variant), which ``curate.langid.resolve_code`` turns into the model's labels
with the aliases the pipeline applies to ``language.keep`` (nob -> no; hrv, bos, srp ->
also sh; tgl -> tl), so a prediction counts as right where a user's ``keep`` would keep
it. The languages the model cannot label are listed at the end.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from curate.config import ConfigError
from curate.langid import load_model, model_labels, predict, resolve_code

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> int:
    root = SHARED / "lid-eval" / "udhr2"
    if not root.exists():
        print(f"skipped: {root} not present")
        return 0
    model = load_model()
    known = model_labels(model)
    rows, n_lines, seconds, unlabelled = [], 0, 0.0, []
    for path in sorted(root.glob("*.txt")):
        code = path.stem.split("_")[0]
        if not re.fullmatch(r"[a-z]{2,3}", code):
            continue  # numbered files: no language code
        try:
            labels = resolve_code(code, known, "udhr")
        except ConfigError:
            unlabelled.append(path.stem)
            continue
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        scores = {}
        for kind, subset in (
            ("long", [ln for ln in lines if len(ln) >= 50]),
            ("short", [ln for ln in lines if len(ln) < 50]),
        ):
            start = time.perf_counter()
            right = sum(predict(model, ln)[0] in labels for ln in subset)
            seconds += time.perf_counter() - start
            n_lines += len(subset)
            scores[kind] = (right / len(subset), len(subset)) if subset else (None, 0)
        rows.append((path.stem, "/".join(labels), scores))
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
    print(f"{len(unlabelled)} UDHR languages lid.176 cannot label: {' '.join(unlabelled)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
