"""The report's figures: one PNG per chart from the values of
``curate.report.data.collect``. matplotlib's Figure API, not pyplot: no display, no global
figure state."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

KEPT, REMOVED, LINE = "#3b75af", "#c0504d", "#222222"


def _save(fig: Figure, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path.name


def funnel(rows: list[dict[str, Any]], path: Path) -> str:
    """Documents and tokens left after each stage, as FineWeb / RefinedWeb draw it."""
    fig = Figure(figsize=(11, 3.8))
    axes = fig.subplots(1, 2)
    names = [r["stage"] for r in rows]
    for ax, key in zip(axes, ("documents", "tokens"), strict=True):
        values = [r[key] for r in rows]
        bars = ax.bar(names, values, color=KEPT)
        first = values[0] or 1
        for bar, v in zip(bars, values, strict=True):
            ax.annotate(f"{v:,}\n{100 * v / first:.0f}%", (bar.get_x() + bar.get_width() / 2, v),
                        ha="center", va="bottom", fontsize=7)  # fmt: skip
        ax.set_title(f"{key} left after each stage")
        ax.set_ylim(0, max([*values, 1]) * 1.2)
        ax.tick_params(axis="x", rotation=30)
    return _save(fig, path)


def removals(by_stage: dict[str, dict[str, int]], path: Path) -> str:
    items = [
        (f"{stage}: {reason}", n) for stage, rs in by_stage.items() for reason, n in rs.items()
    ]
    items.sort(key=lambda kv: kv[1])
    fig = Figure(figsize=(9, 0.3 * len(items) + 1.2))
    ax = fig.subplots()
    ax.barh([k for k, _ in items], [n for _, n in items], color=REMOVED)
    for i, (_, n) in enumerate(items):
        ax.annotate(f" {n:,}", (n, i), va="center", fontsize=7)
    ax.set_xlabel("records removed")
    ax.set_title("Removals per rule (a document counts at its first failing rule)", fontsize=10)
    return _save(fig, path)


def histogram(name: str, h: dict[str, Any], path: Path, xlabel: str | None = None) -> str:
    """One signal's histogram; the side its rule removes drawn red, the threshold a line."""
    counts, lo, hi = h["counts"], h["lo"], h["hi"]
    width = (hi - lo) / len(counts)
    lefts = [lo + i * width for i in range(len(counts))]
    threshold, op = h.get("threshold"), h.get("op")
    colors = []
    for left in lefts:
        centre = left + width / 2
        gone = threshold is not None and (centre < threshold if op == "<" else centre > threshold)
        colors.append(REMOVED if gone else KEPT)
    fig = Figure(figsize=(4.6, 2.9))
    ax = fig.subplots()
    ax.bar(lefts, counts, width=width, align="edge", color=colors)
    if threshold is not None and lo <= threshold <= hi:
        ax.axvline(threshold, color=LINE, linestyle="--", linewidth=1)
        ax.annotate(f"{op} {threshold:g} removed", (threshold, max(counts) or 1), fontsize=7,
                    ha="left", va="top")  # fmt: skip
    ax.set_title(name, fontsize=9)
    ax.set_xlabel(xlabel or h.get("signal", name), fontsize=8)
    ax.set_ylabel("documents", fontsize=8)
    ax.tick_params(labelsize=7)
    return _save(fig, path)


def bars(values: dict[str, float], path: Path, title: str, xlabel: str,
         highlight: list[str] | None = None) -> str:  # fmt: skip
    names = list(values)[::-1]
    fig = Figure(figsize=(7, 0.3 * len(names) + 1.2))
    ax = fig.subplots()
    colors = [KEPT if not highlight or n in highlight else "#9aa5b1" for n in names]
    ax.barh(names, [values[n] for n in names], color=colors)
    for i, n in enumerate(names):
        ax.annotate(f" {values[n]:,}", (values[n], i), va="center", fontsize=7)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    return _save(fig, path)


def perplexity(lang: str, p: dict[str, Any], path: Path) -> str:
    """log10 perplexity with the head / middle / tail cut-offs."""
    h = p["log10_histogram"]
    counts, lo, hi = h["counts"], h["lo"], h["hi"]
    width = (hi - lo) / len(counts)
    fig = Figure(figsize=(6, 3))
    ax = fig.subplots()
    ax.bar([lo + i * width for i in range(len(counts))], counts, width=width, align="edge",
           color=KEPT)  # fmt: skip
    cut = p.get("cutoffs") or {}
    # p30's label left of its line, p60's right of its own: close cut-offs stay legible.
    for name, side in (("p30", "right"), ("p60", "left")):
        if cut.get(name, 0) > 0:
            x = math.log10(cut[name])
            ax.axvline(x, color=LINE, linestyle="--", linewidth=1)
            label = f"{name} {cut[name]:g} " if side == "right" else f" {name} {cut[name]:g}"
            ax.annotate(label, (x, max(counts) or 1), fontsize=7, va="top", ha=side)
    shares = ", ".join(f"{b} {n:,}" for b, n in sorted(p["buckets"].items()))
    ax.set_title(f"perplexity ({lang}): {shares}", fontsize=9)
    ax.set_xlabel("log10 perplexity")
    ax.set_ylabel("documents")
    return _save(fig, path)


def mixture(domains: dict[str, dict[str, float]], path: Path) -> str:
    """Each domain's share of the tokens vs its mixture weight; epochs over the bars."""
    names = list(domains)
    total = sum(d["tokens"] for d in domains.values()) or 1
    natural = [domains[n]["tokens"] / total for n in names]
    weights = [domains[n]["weight"] for n in names]
    x = range(len(names))
    fig = Figure(figsize=(7, 3.4))
    ax = fig.subplots()
    ax.bar([i - 0.2 for i in x], natural, width=0.4, label="share of tokens", color="#9aa5b1")
    bars_ = ax.bar([i + 0.2 for i in x], weights, width=0.4, label="mixture weight", color=KEPT)
    for bar, n in zip(bars_, names, strict=True):
        ax.annotate(f"{domains[n]['epochs']:.2f} ep", (bar.get_x() + bar.get_width() / 2,
                    bar.get_height()), ha="center", va="bottom", fontsize=7)  # fmt: skip
    ax.set_xticks(list(x), names)
    ax.set_ylabel("fraction")
    ax.set_title("Mixture: natural share vs weight (epochs per domain)")
    ax.legend(fontsize=8)
    return _save(fig, path)
