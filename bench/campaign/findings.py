"""Violations counted per invariant, with the first few examples of each."""
from __future__ import annotations

from dataclasses import dataclass, field

EXAMPLES = 5


@dataclass(repr=False)
class Findings:
    """What one campaign found; every declared check shows, even at zero."""

    title: str
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    info: dict[str, float] = field(default_factory=dict)
    shown: set[tuple[str, str]] = field(default_factory=set)
    details: list[str] = field(default_factory=list)  # context for the examples

    def __repr__(self) -> str:  # pytest shows it for every failing check
        return f"<{self.title}, seed {self.seed}>"

    def declare(self, *checks: str) -> None:
        for check in checks:
            self.counts.setdefault(check, 0)
            self.examples.setdefault(check, [])

    def add(self, check: str, example: str, kind: str = "") -> None:
        """Count a violation; its example shows if it is among the first few of its check
        and, when a `kind` is given (a method), the first of that kind."""
        self.declare(check)
        self.counts[check] += 1
        if kind and (check, kind) in self.shown:
            return
        self.shown.add((check, kind))
        if len(self.examples[check]) < EXAMPLES:
            self.examples[check].append(example)

    def note(self, name: str, value: float) -> None:
        """A figure that is not a violation (VMs run, kills, calls made)."""
        self.info[name] = value

    @property
    def clean(self) -> bool:
        return not any(self.counts.values())

    def rows(self) -> list[tuple[str, int]]:
        return list(self.counts.items())

    def explain(self, check: str) -> str:
        """One check's count and examples, with how to replay the run."""
        head = (f"{self.counts[check]} x {check!r} in the {self.title}, seed {self.seed} "
                f"(CAMPAIGN_SEED={self.seed} replays it):")
        return "\n".join([head, *(f"  - {example}" for example in self.examples[check])])

    def report(self) -> str:
        """The table of counts, then examples, with the seed that replays the run."""
        width = max((len(check) for check in self.counts), default=10)
        lines = [f"{self.title} (seed {self.seed}):"]
        lines += [f"  {check:<{width}}  {count}" for check, count in self.counts.items()]
        lines += [f"  [{name}: {value:g}]" for name, value in self.info.items()]
        for check, examples in self.examples.items():
            lines += [f"  - {check}: {example}" for example in examples]
        lines += [f"  * {detail}" for detail in self.details]
        return "\n".join(lines)
