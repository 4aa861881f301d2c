"""A rule: one threshold on one signal; the first failing rule names the removal."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from annotated_types import Ge, Interval

# The ranges a threshold's meaning allows; the config schema (curate.config) enforces them
# from these annotations of the filters' fields.
Fraction = Annotated[float, Interval(ge=0, le=1)]  # a share of lines, words or characters
Count = Annotated[int, Ge(0)]
NonNegative = Annotated[float, Ge(0)]  # a length, or a rate per word that can pass 1

Op = Literal["<", ">", "true"]
# The one definition of each comparison: applied to plain values by ``fails`` and to Spark
# columns by curate.quality (a Column overloads the same operators).
OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    ">": operator.gt,
    "true": lambda value, _: value == True,  # noqa: E712 (a Column has no bool())
}


@dataclass(frozen=True)
class Rule:
    name: str  # reason code, e.g. "gopher_quality.word_count_low"
    signal: str  # "<filter>.<signal>"
    op: Op
    threshold: float | None = None

    def test(self, value: Any) -> Any:
        """True where ``value`` fails the rule: a plain value or a Spark column."""
        return OPS[self.op](value, self.threshold)

    def fails(self, value: Any) -> bool:
        """A missing signal (None: not applicable to this document) never fails, as a null
        column never does in Spark."""
        return value is not None and bool(self.test(value))


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
