"""A rule: one threshold on one signal; the first failing rule names the removal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["<", ">", "true"]


@dataclass(frozen=True)
class Rule:
    name: str  # reason code, e.g. "gopher_quality.word_count_low"
    signal: str  # "<filter>.<signal>"
    op: Op
    threshold: float | None = None

    def fails(self, value: Any) -> bool:
        """A missing signal (None: not applicable to this document) never fails."""
        if value is None:
            return False
        if self.op == "true":
            return bool(value)
        if self.op == "<":
            return value < self.threshold
        return value > self.threshold


def signal_value(signals: Mapping[str, Mapping[str, Any]], dotted: str) -> Any:
    group, name = dotted.split(".", 1)
    return (signals.get(group) or {}).get(name)


def first_failure(signals: Mapping[str, Mapping[str, Any]], rules: Iterable[Rule]) -> str | None:
    for rule in rules:
        if rule.fails(signal_value(signals, rule.signal)):
            return rule.name
    return None


def min_rule(filter_name: str, rule: str, signal: str, threshold: float | None) -> list[Rule]:
    return (
        []
        if threshold is None
        else [Rule(f"{filter_name}.{rule}", f"{filter_name}.{signal}", "<", threshold)]
    )


def max_rule(filter_name: str, rule: str, signal: str, threshold: float | None) -> list[Rule]:
    return (
        []
        if threshold is None
        else [Rule(f"{filter_name}.{rule}", f"{filter_name}.{signal}", ">", threshold)]
    )
