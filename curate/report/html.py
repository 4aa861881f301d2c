"""OUTPUT/report/index.html: the run on one page, figures beside the numbers."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

from curate.report import figures
from curate.report.data import TOP_LANGUAGES

STYLE = (
    # 1400 px: two histograms a row at the size they are drawn (figures.DPI).
    "body{font-family:sans-serif;max-width:1400px;margin:auto;padding:1em}"
    "table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}"
    "img{max-width:100%}figure{margin:0}figcaption{font-size:14px;color:#333}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(640px,1fr));gap:12px}"
    ".samples li{font-size:13px;margin-bottom:6px}"
)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return f"{v:,}" if isinstance(v, int) else escape(str(v))

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _figure(src: str, caption: str) -> str:
    """A figure that opens at full size when clicked."""
    return (
        f'<figure><a href="{escape(src)}"><img src="{escape(src)}" alt="{escape(caption)}"></a>'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _intro(stats: dict[str, Any]) -> str:
    run = stats.get("run", {})
    ran = ", ".join(run.get("stages_run", [])) or "none"
    reused = ", ".join(run.get("stages_reused", [])) or "none"
    return (
        f"<h1>curate run report</h1><p>curate {escape(stats['curate_version'])}: "
        f"{stats['inputs']['files']:,} input file(s) in, {stats['documents']['rows']:,} "
        f"documents out to <code>{escape(stats['documents']['path'])}</code>, "
        f"{stats['seconds']['total']:.1f} s. Stages run: {escape(ran)}; reused: "
        f"{escape(reused)}.</p>"
    )


def _stages(stats: dict[str, Any]) -> str:
    rows = []
    for st in stats["stages"]:
        removed = ", ".join(f"{r} {n:,}" for r, n in sorted(st["removed"].items())) or "-"
        rows.append([st["name"], st["in"], st["out"], removed, f"{st['seconds']:.1f}"])
    return _table(["stage", "in", "out", "removed (reason count)", "seconds"], rows)


def _caption(h: dict[str, Any]) -> str:
    """What the figure shows in words: the decision and how many it removed."""
    gone = sum(h["removed"])
    if h["threshold"] is None:
        return f"{h['signal']}: no threshold set"
    rule = f"removed if {h['signal']} {h['op']} {h['threshold']:g}: {gone:,} document(s)"
    if h.get("cutoffs"):
        cuts = ", ".join(f"{lang} {c:g}" for lang, c in h["cutoffs"].items())
        rule = f"removed below each language's top-fraction cut-off ({cuts}): {gone:,} document(s)"
    if "constant" in h:
        return f"{rule}; all {sum(h['counts']):,} documents have {h['constant']:g}"
    return rule


def _signals(signals: dict[str, Any], folder: Path) -> list[str]:
    parts = [
        "<h2>Quality signals and thresholds</h2><p>Over the documents each rule was applied "
        "to (after language ID). Red: the documents this rule removed (a document counts at "
        "its first failing rule, so a rule's red can be less than the documents past its "
        "threshold); counts on a log axis; the last bin holds everything above the 99th "
        "percentile. Click a figure for its full size.</p><div class=grid>"
    ]
    for name, h in signals.items():
        src = figures.histogram(name, h, folder / f"signal-{_slug(name)}.png")
        parts.append(_figure(src, _caption(h)))
    return [*parts, "</div>"]


def _perplexity(perplexity: dict[str, Any], folder: Path) -> list[str]:
    parts = ["<h2>Perplexity</h2><div class=grid>"]
    for lang, p in perplexity.items():
        if p["log10_histogram"]:
            src = figures.perplexity(lang, p, folder / f"perplexity-{_slug(lang)}.png")
            parts.append(_figure(src, f"{lang}: perplexity and CCNet buckets"))
    return [*parts, "</div>"]


def _samples(samples: dict[str, list[dict[str, str]]]) -> str:
    items = []
    for reason, docs in samples.items():
        lines = "".join(f"<li><code>{escape(d['url'] or '')}</code><br>{escape(d['text'] or '')}"
                        "…</li>" for d in docs)  # fmt: skip
        items.append(f"<h3>{escape(reason)}</h3><ul class=samples>{lines}</ul>")
    return ("<h2>Removed samples</h2><p>The first documents (by id) each rule removed, "
            "with the start of their text: read them before trusting a threshold.</p>"
            + "".join(items))  # fmt: skip


def _bars_section(title: str, values: dict[str, Any], folder: Path, name: str, axis: str) -> str:
    src = figures.bars(values, folder / f"{name}.png", title, axis)
    return f"<h2>{escape(title)}</h2>" + _figure(src, title)


def filter_sections(data: dict[str, Any], folder: Path) -> str:
    """The sections drawn from the filter stage alone (``collect_filter``'s part of the
    data): signals, samples, languages, removals per language, perplexity and buckets, as
    HTML, their figures drawn into ``folder``."""
    parts = _signals(data["signals"], folder) if data["signals"] else []
    if data["samples"]:
        parts.append(_samples(data["samples"]))
    langs = data["languages"]
    src = figures.bars(
        langs["counts"], folder / "languages.png", "Documents per language (extracted)",
        "documents", langs["kept"] or None,
    )  # fmt: skip
    parts += ["<h2>Languages</h2>", _figure(src, "Languages; kept ones in colour")]
    if data["removed_by_language"]:
        ranked = sorted(data["removed_by_language"].items(), key=lambda kv: -sum(kv[1].values()))
        rows = [[lang, sum(r.values()), ", ".join(f"{k} {v:,}" for k, v in
                 sorted(r.items(), key=lambda kv: -kv[1])[:3])]
                for lang, r in ranked[:TOP_LANGUAGES]]  # fmt: skip
        parts += [
            "<h2>Removals per language</h2><p>Documents the filter step removed, by detected "
            "language (quality.by_language sets thresholds per language).</p>",
            _table(["language", "removed", "top reasons"], rows),
        ]
    if data["perplexity"]:
        parts += _perplexity(data["perplexity"], folder)
    if data["buckets"]:
        b = data["buckets"]
        d = b["definition"]
        rows = [[lang, bucket, v["documents"], v["tokens"]]
                for lang, per in b["by_language"].items() for bucket, v in per.items()]  # fmt: skip
        parts += [
            "<h2>Quality buckets</h2>",
            f"<p>{d['n']} token-weighted percentile buckets per language of "
            f"{escape(', '.join(d['scores']))}, combined by {d['combine']} (Nemotron-CC); "
            f"{d['n'] - 1} is the best.</p>",
            _table(["language", "bucket", "documents", "tokens"], rows),
        ]
    return "".join(parts)


def render(data: dict[str, Any], stats: dict[str, Any], folder: Path, filtered: str) -> Path:
    """Draw the run's figures into ``folder`` and write index.html beside them;
    ``filtered``: ``filter_sections``' HTML, its figures in ``folder`` already."""
    folder.mkdir(parents=True, exist_ok=True)
    funnel = figures.funnel(data["funnel"], folder / "funnel.png")
    parts = [
        _intro(stats),
        "<h2>Funnel</h2>",
        _figure(funnel, "Documents and tokens (text as extracted) left after each stage"),
        _stages(stats),
    ]
    skips = data["removals"].get("extract", {})
    rules = {step: r for step, r in data["removals"].items() if step != "extract"}
    if skips:
        rows = [[reason, n] for reason, n in sorted(skips.items(), key=lambda kv: -kv[1])]
        parts += [
            "<h2>Records that did not become documents</h2><p>WARC records skipped or "
            "rejected by the extract stage: request, metadata and other non-response "
            "records, non-200 or non-HTML responses, damaged records, pages with no main "
            "text. Reasons are listed in the README (Output).</p>",
            _table(["reason", "records"], rows),
        ]
    if rules:
        src = figures.removals(rules, folder / "removals.png")
        parts += [
            "<h2>Removals per rule</h2>",
            _figure(src, "Documents removed per rule, after extraction"),
        ]
    parts.append(filtered)
    if data["clusters"]:
        sizes = dict(sorted(data["clusters"].items(), key=lambda kv: int(kv[0])))
        sizes = {f"size {k}": v for k, v in sizes.items()}
        parts.append(
            _bars_section("Near-duplicate clusters", sizes, folder, "clusters", "clusters")
        )
    if data["pii"]:
        parts.append(_bars_section("PII replaced per entity", data["pii"], folder, "pii", "found"))
    if data["contamination"]:
        found = {b: c["items_found"] for b, c in data["contamination"].items()}
        parts.append(
            _bars_section("Benchmark items found", found, folder, "contamination", "items")
        )
        rows = [[b, c["items"], c["items_found"], c["documents"]]
                for b, c in data["contamination"].items()]  # fmt: skip
        parts.append(_table(["benchmark", "items", "items found", "documents"], rows))
    if data["mixture"]:
        src = figures.mixture(data["mixture"], folder / "mixture.png")
        rows = [[d, m["tokens"], f"{m['weight']:.3f}", f"{m['epochs']:.2f}"]
                for d, m in data["mixture"].items()]  # fmt: skip
        parts += ["<h2>Mixture</h2>", _figure(src, "Mixture per domain"),
                  _table(["domain", "tokens", "weight", "epochs"], rows)]  # fmt: skip
    head = f"<meta charset=utf-8><title>curate run report</title><style>{STYLE}</style>"
    index = folder / "index.html"
    index.write_text(
        f"<!doctype html><html><head>{head}</head><body>{''.join(parts)}</body></html>\n"
    )
    return index
