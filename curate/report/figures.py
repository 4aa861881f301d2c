"""The report's figures: one PNG per chart from the values of
``curate.report.data.collect``. matplotlib's Figure API, not pyplot: no display, no global
figure state."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

KEPT, REMOVED, LINE = "#3b75af", "#c0504d", "#222222"
# Figures are drawn at their size on a 1400 px wide page (two histograms a row) and link
# to themselves, so a click shows them full size.
DPI = 100
# Every title at the top of its axes, where matplotlib would put it (no axis has its ticks
# on top): given, matplotlib skips measuring the tick labels to place it (7 % of drawing
# a report; the same pixels).
TITLE_Y = 1.0


def _save(fig: Figure, path: Path, fixed: bool = False) -> str:
    # Constrained layout: the margins fit the labels, at two thirds of tight_layout's cost.
    # Fixed margins for the histograms, whose labels are of bounded width: a report draws
    # dozens of them, and fitting the margins was half of each one's time.
    if fixed:
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.15, top=0.91)
    else:
        fig.set_layout_engine("constrained")
    fig.savefig(path, dpi=DPI)
    return path.name


def _count(value: float, _pos: object = None) -> str:
    """A log axis' count, short (1, 10, 100, 1k, 10k, 1M): plain text, no mathtext to lay out."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= div:
            return f"{value / div:g}{unit}"
    return f"{value:g}"


def funnel(rows: list[dict[str, Any]], path: Path) -> str:
    """Documents and tokens left after each stage, as FineWeb / RefinedWeb draw it."""
    fig = Figure(figsize=(13, 4.2))
    axes = fig.subplots(1, 2)
    names = [r["stage"] for r in rows]
    for ax, key in zip(axes, ("documents", "tokens"), strict=True):
        values = [r[key] for r in rows]
        bars = ax.bar(names, values, color=KEPT)
        first = values[0] or 1
        for bar, v in zip(bars, values, strict=True):
            ax.annotate(f"{v:,}\n{100 * v / first:.0f}%", (bar.get_x() + bar.get_width() / 2, v),
                        ha="center", va="bottom", fontsize=9)  # fmt: skip
        ax.set_title(f"{key} left after each stage", fontsize=11, y=TITLE_Y)
        ax.set_ylim(0, max([*values, 1]) * 1.25)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="x", rotation=30, labelsize=9)
    return _save(fig, path)


def removals(by_step: dict[str, dict[str, int]], path: Path) -> str:
    # Filter reasons name their filter already (gopher_quality.word_count_low); the others
    # (exact_duplicate) are named by their step.
    items = [
        (reason if "." in reason else f"{step}: {reason}", n)
        for step, rs in by_step.items()
        for reason, n in rs.items()
    ]
    items.sort(key=lambda kv: kv[1])
    fig = Figure(figsize=(11, 0.32 * len(items) + 1.4))
    ax = fig.subplots()
    ax.barh([k for k, _ in items], [n for _, n in items], color=REMOVED)
    for i, (_, n) in enumerate(items):
        ax.annotate(f" {n:,}", (n, i), va="center", fontsize=9)
    ax.set_xlabel("documents removed", fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=9)
    ax.set_title(
        "Removals per rule (a document counts at its first failing rule)", fontsize=11, y=TITLE_Y
    )
    return _save(fig, path)


def histogram(name: str, h: dict[str, Any], path: Path, xlabel: str | None = None) -> str:
    """One signal's histogram: per bin, the documents its rule removed (red, from the
    decisions themselves) on top of the others; the threshold a dashed line. Counts on a
    log axis, since most signals pile up at one end."""
    counts, gone, lo, hi = h["counts"], h["removed"], h["lo"], h["hi"]
    width = (hi - lo) / len(counts)
    edges = [lo + i * width for i in range(len(counts) + 1)]
    rest = [c - g for c, g in zip(counts, gone, strict=True)]
    fig = Figure(figsize=(6.6, 3.4))
    ax = fig.subplots()
    # Two filled step outlines, the removed on top of the others (one patch each, where
    # bars drew one per bin: most of a report's drawing time).
    removed = ax.stairs(counts, edges, fill=True, color=REMOVED,
                        label=f"removed by this rule: {sum(gone):,}")  # fmt: skip
    handles = [ax.stairs(rest, edges, fill=True, color=KEPT, label="others"), removed]
    threshold, op = h.get("threshold"), h.get("op")
    if threshold is not None and lo <= threshold <= hi:
        line = ax.axvline(threshold, color=LINE, linestyle="--", linewidth=1,
                          label=f"threshold: removed if {op} {threshold:g}")  # fmt: skip
        handles.insert(0, line)
    if max(counts) > 0:
        ax.set_yscale("log")
        ax.set_ylim(0.8, max(counts) * 1.6)
        ax.yaxis.set_major_formatter(FuncFormatter(_count))
        # Under two decades the powers of ten alone say too little: label 2 and 5 too.
        if max(counts) < 100:
            ax.yaxis.set_minor_locator(LogLocator(subs=(2, 5)))
            ax.yaxis.set_minor_formatter(FuncFormatter(_count))
        else:
            ax.yaxis.set_minor_locator(NullLocator())
    if h.get("integer"):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(name, fontsize=11, y=TITLE_Y)
    ax.set_xlabel(xlabel or h.get("signal", name), fontsize=10)
    ax.set_ylabel("documents (log)", fontsize=10)
    ax.tick_params(labelsize=9)
    ax.legend(handles=handles, fontsize=8, loc="upper right", framealpha=0.85)
    return _save(fig, path, fixed=True)


def bars(values: dict[str, float], path: Path, title: str, xlabel: str,
         highlight: list[str] | None = None) -> str:  # fmt: skip
    names = list(values)[::-1]
    fig = Figure(figsize=(9, 0.32 * len(names) + 1.4))
    ax = fig.subplots()
    colors = [KEPT if not highlight or n in highlight else "#9aa5b1" for n in names]
    ax.barh(names, [values[n] for n in names], color=colors)
    for i, n in enumerate(names):
        ax.annotate(f" {values[n]:,}", (values[n], i), va="center", fontsize=9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=9)
    ax.set_title(title, fontsize=11, y=TITLE_Y)
    ax.set_xlabel(xlabel, fontsize=10)
    return _save(fig, path)


def perplexity(lang: str, p: dict[str, Any], path: Path) -> str:
    """log10 perplexity with the head / middle / tail cut-offs."""
    h = p["log10_histogram"]
    counts, lo, hi = h["counts"], h["lo"], h["hi"]
    width = (hi - lo) / len(counts)
    fig = Figure(figsize=(11, 3.6))
    ax = fig.subplots()
    ax.bar([lo + i * width for i in range(len(counts))], counts, width=width, align="edge",
           color=KEPT)  # fmt: skip
    cut = p.get("cutoffs") or {}
    # The cut-offs' labels sit at two heights, so close cut-offs do not overlap.
    top = max(counts) or 1
    for name, height, style in (("p30", 1.0, "--"), ("p60", 0.8, ":")):
        if cut.get(name, 0) > 0:
            x = math.log10(cut[name])
            ax.axvline(x, color=LINE, linestyle=style, linewidth=1.2)
            ax.annotate(f" {name} = {cut[name]:,.0f}", (x, top * height), fontsize=9,
                        va="top", ha="left",
                        bbox={"boxstyle": "round", "fc": "white", "alpha": 0.8})  # fmt: skip
    shares = ", ".join(f"{b} {n:,}" for b, n in sorted(p["buckets"].items()))
    ax.set_title(f"perplexity ({lang}), documents per bucket: {shares}", fontsize=11, y=TITLE_Y)
    ax.set_xlabel("log10 perplexity", fontsize=10)
    ax.set_ylabel("documents", fontsize=10)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=9)
    return _save(fig, path)


def mixture(domains: dict[str, dict[str, float]], path: Path) -> str:
    """Each domain's share of the tokens vs its mixture weight; epochs over the bars."""
    names = list(domains)
    total = sum(d["tokens"] for d in domains.values()) or 1
    natural = [domains[n]["tokens"] / total for n in names]
    weights = [domains[n]["weight"] for n in names]
    x = range(len(names))
    fig = Figure(figsize=(9, 3.8))
    ax = fig.subplots()
    ax.bar([i - 0.2 for i in x], natural, width=0.4, label="share of tokens", color="#9aa5b1")
    bars_ = ax.bar([i + 0.2 for i in x], weights, width=0.4, label="mixture weight", color=KEPT)
    for bar, n in zip(bars_, names, strict=True):
        ax.annotate(f"{domains[n]['epochs']:.2f} ep", (bar.get_x() + bar.get_width() / 2,
                    bar.get_height()), ha="center", va="bottom", fontsize=9)  # fmt: skip
    ax.set_xticks(list(x), names)
    ax.set_ylabel("fraction")
    ax.set_title("Mixture: natural share vs weight (epochs per domain)", y=TITLE_Y)
    ax.legend(fontsize=8)
    return _save(fig, path)
