"""Detection figures of an engine on labelled corpora, per file and category.

Attacks labelled ``other`` or ``scanner`` are counted in ``by_category`` only: their labels are
noisy (see the corpus README), so the headline attack figure leaves them out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from siren.corpus import Record, read_corpus
from siren.engine import Engine, Verdict

NOISY_CATEGORIES = frozenset({"other", "scanner"})


@dataclass
class Tally:
    total: int = 0
    blocked: int = 0

    def add(self, blocked: bool) -> None:
        self.total += 1
        self.blocked += int(blocked)

    @property
    def rate(self) -> float:
        return self.blocked / self.total if self.total else 0.0

    def as_dict(self) -> dict[str, int]:
        return {"total": self.total, "blocked": self.blocked}


@dataclass
class Counts:
    attack: Tally = field(default_factory=Tally)
    benign: Tally = field(default_factory=Tally)
    by_category: dict[str, Tally] = field(default_factory=dict)

    def add(self, record: Record, blocked: bool) -> None:
        if record.label == "benign":
            self.benign.add(blocked)
        elif record.category not in NOISY_CATEGORIES:
            self.attack.add(blocked)
        self.by_category.setdefault(record.category or record.label, Tally()).add(blocked)

    def as_dict(self) -> dict[str, Any]:
        return {
            "attack": self.attack.as_dict(),
            "benign": self.benign.as_dict(),
            "by_category": {k: v.as_dict() for k, v in sorted(self.by_category.items())},
        }


@dataclass
class Evaluation:
    overall: Counts = field(default_factory=Counts)
    files: dict[str, Counts] = field(default_factory=dict)
    misses: list[tuple[Record, Verdict]] = field(default_factory=list)
    false_positives: list[tuple[Record, Verdict]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"overall": self.overall.as_dict(), "files": {k: v.as_dict() for k, v in self.files.items()}}


def evaluate(
    engine: Engine,
    paths: Iterable[str],
    *,
    keep: int = 0,
    on_record: Callable[[Record, Verdict], None] | None = None,
    show_categories: frozenset[str] = frozenset(),
) -> Evaluation:
    """Run every request of every file through ``engine``; ``keep`` misses and false positives
    are kept for inspection. A request counts as blocked when the verdict would block
    (``block`` or, in shadow mode, ``log``)."""
    ev = Evaluation()
    for path in paths:
        counts = ev.files.setdefault(path, Counts())
        for record in read_corpus(Path(path)):
            verdict = engine.inspect(record.request)
            blocked = verdict.score >= verdict.threshold
            counts.add(record, blocked)
            ev.overall.add(record, blocked)
            if on_record is not None:
                on_record(record, verdict)
            if keep:
                if record.label == "benign" and blocked and len(ev.false_positives) < keep:
                    ev.false_positives.append((record, verdict))
                elif (
                    record.label == "attack"
                    and not blocked
                    and len(ev.misses) < keep
                    and (record.category in show_categories if show_categories else record.category not in NOISY_CATEGORIES)
                ):
                    ev.misses.append((record, verdict))
    return ev


def format_table(ev: Evaluation) -> str:
    rows = [("file", "attacks", "blocked", "rate", "benign", "blocked", "FP rate")]
    for name, c in [*ev.files.items(), ("OVERALL", ev.overall)]:
        rows.append(
            (
                name,
                str(c.attack.total),
                str(c.attack.blocked),
                f"{100 * c.attack.rate:.2f}%" if c.attack.total else "-",
                str(c.benign.total),
                str(c.benign.blocked),
                f"{100 * c.benign.rate:.3f}%" if c.benign.total else "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths, strict=True))) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append("")
    lines.append("by category (all files; 'other' and 'scanner' are not in the attack totals):")
    for cat, t in sorted(ev.overall.by_category.items()):
        lines.append(f"  {cat:<10} {t.blocked:>6}/{t.total:<6} {100 * t.rate:6.2f}%")
    return "\n".join(lines)
