"""Mixture weights over domains, by tokens: manual, temperature, UniMax; epoch caps."""

from __future__ import annotations

from dataclasses import dataclass


class MixtureError(ValueError):
    pass


@dataclass(frozen=True)
class Weighting:
    """How to weight domains: the mixture.* keys, or the options of `curate mix`."""

    method: str = "temperature"
    budget: int | None = None
    max_epochs: float = 4.0
    on_exceed: str = "cap"
    alpha: float = 0.7
    manual: dict[str, float] | None = None
    # {cluster size: copies per epoch} (curate.mixture.rehydration); None: each document once.
    rehydration: dict[int, int] | None = None


@dataclass(frozen=True)
class Plan:
    weights: dict[str, float]  # share of the budget's tokens, sums to 1
    tokens: dict[str, int]  # planned tokens per domain
    epochs: dict[str, float]  # planned tokens / domain tokens
    budget: int  # planned tokens in all
    capped: list[str]  # domains held at max_epochs


def temperature(sizes: dict[str, int], alpha: float) -> dict[str, float]:
    """q_i proportional to p_i ** alpha (alpha 1: by size, 0: uniform)."""
    total = sum(sizes.values())
    raw = {d: (n / total) ** alpha for d, n in sizes.items()}
    norm = sum(raw.values())
    return {d: v / norm for d, v in raw.items()}


def unimax(sizes: dict[str, int], budget: int, max_epochs: float) -> dict[str, float]:
    """UniMax (Chung et al. 2023): a uniform budget per domain, smallest first, where no
    domain gets more than max_epochs of its tokens; what it cannot take goes to the rest."""
    left, out = float(budget), {}
    order = sorted(sizes, key=lambda d: (sizes[d], d))
    for i, d in enumerate(order):
        share = left / (len(order) - i)
        out[d] = min(share, sizes[d] * max_epochs)
        left -= out[d]
    total = sum(out.values())
    return {d: out[d] / total for d in sizes}


def plan(sizes: dict[str, int], w: Weighting) -> Plan:
    """Weights and planned tokens per domain for a token budget (default: every token once).
    A domain over max_epochs is an error (on_exceed="error") or held at max_epochs, its
    surplus spread over the others by their weights (on_exceed="cap"); if every domain is
    capped, the budget shrinks to what the caps allow."""
    method, max_epochs, on_exceed = w.method, w.max_epochs, w.on_exceed
    sizes = {d: n for d, n in sorted(sizes.items()) if n > 0}
    if not sizes:
        raise MixtureError("no domain has tokens")
    budget = w.budget or sum(sizes.values())
    if method == "manual":
        manual = w.manual or {}
        unknown = sorted(set(manual) - set(sizes))
        missing = sorted(set(sizes) - set(manual))
        if unknown or missing:
            raise MixtureError(
                f"manual weights: unknown domains {unknown}, domains without weight {missing}"
            )
        total = sum(manual.values())
        weights = {d: manual[d] / total for d in sizes}
    elif method == "temperature":
        weights = temperature(sizes, w.alpha)
    elif method == "unimax":
        weights = unimax(sizes, budget, max_epochs)
    else:
        raise MixtureError(f"unknown weighting method {method!r}")
    tokens = {d: weights[d] * budget for d in sizes}
    over = sorted(d for d in sizes if tokens[d] > sizes[d] * max_epochs * (1 + 1e-9))
    if over and on_exceed == "error":
        detail = ", ".join(f"{d} {tokens[d] / sizes[d]:.1f}" for d in over)
        raise MixtureError(f"epochs over max_epochs={max_epochs}: {detail}")
    capped: set[str] = set()
    while over:
        capped.update(over)
        for d in over:
            tokens[d] = sizes[d] * max_epochs
        free = [d for d in sizes if d not in capped]
        surplus = budget - sum(tokens.values())
        if not free or surplus <= 0:
            break
        share = sum(weights[d] for d in free)
        for d in free:
            tokens[d] += surplus * weights[d] / share if share else surplus / len(free)
        over = sorted(d for d in free if tokens[d] > sizes[d] * max_epochs * (1 + 1e-9))
    planned = {d: round(t) for d, t in tokens.items()}
    total = sum(planned.values())
    return Plan(
        weights={d: planned[d] / total for d in sizes},
        tokens=planned,
        epochs={d: planned[d] / sizes[d] for d in sizes},
        budget=total,
        capped=sorted(capped),
    )
