"""Per-stage accounting: every record is kept or removed with a reason, and counts add up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class AccountingError(AssertionError):
    pass


@dataclass
class StageStats:
    name: str
    n_in: int
    n_out: int
    removed: dict[str, int] = field(default_factory=dict)
    # A few error messages per reason, so a user can see what went wrong without Spark.
    examples: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "in": self.n_in,
            "out": self.n_out,
            "removed": dict(sorted(self.removed.items())),
            "examples": self.examples,
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> StageStats:
        return cls(d["name"], d["in"], d["out"], d["removed"], d["examples"], d["seconds"])


def check_accounting(stages: list[StageStats], final_rows: int) -> None:
    """Raise AccountingError unless every stage balances and stages chain."""
    for i, st in enumerate(stages):
        if st.n_in != st.n_out + sum(st.removed.values()):
            raise AccountingError(
                f"stage {st.name}: in={st.n_in} != out={st.n_out} + removed={st.removed}"
            )
        if i and st.n_in != stages[i - 1].n_out:
            raise AccountingError(
                f"stage {st.name}: in={st.n_in} != previous stage's out={stages[i - 1].n_out}"
            )
    if stages and stages[-1].n_out != final_rows:
        raise AccountingError(f"last stage out={stages[-1].n_out} != documents rows={final_rows}")
