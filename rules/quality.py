"""How well each rule does, from the supervisors' decisions (规则质量).

Per item, camera and rule version: events confirmed, dismissed (with the dismissal reasons)
and pending, and the events supervisors added because the rule missed them (manual findings
of a video item: false negatives). Precision is confirmed / reviewed with a Wilson score
interval, so that 2 of 2 and 200 of 200 are told apart.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from rules.types import EventStatus

Z_95 = 1.959964
"""Normal quantile of a two-sided 95% interval."""


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion; ``(0, 1)`` when there are no trials.

    Example:
        >>> lo, hi = wilson_interval(5, 20)
        >>> round(lo, 3), round(hi, 3)
        (0.112, 0.469)
    """
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Decision:
    """One event as quality counts it."""

    item: str
    camera: str
    rule_version: str
    status: EventStatus
    reason: str = ""
    missed: bool = False
    """Added by a supervisor because the rule did not report it (a false negative)."""


@dataclass(slots=True)
class RuleQuality:
    """The review figures of one item on one camera under one rule version."""

    item: str
    camera: str
    rule_version: str
    confirmed: int = 0
    dismissed: int = 0
    pending: int = 0
    missed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def reviewed(self) -> int:
        return self.confirmed + self.dismissed

    @property
    def precision(self) -> float | None:
        """Confirmed share of the reviewed events (``None`` before any review)."""
        return self.confirmed / self.reviewed if self.reviewed else None

    @property
    def interval(self) -> tuple[float, float]:
        """95% Wilson interval of the precision."""
        return wilson_interval(self.confirmed, self.reviewed)

    @property
    def recall(self) -> float | None:
        """Confirmed share of confirmed plus missed events (``None`` when both are 0)."""
        found = self.confirmed + self.missed
        return self.confirmed / found if found else None


def rule_quality(decisions: Iterable[Decision]) -> list[RuleQuality]:
    """Figures per item, camera and rule version, sorted by item, camera and version."""
    rows: dict[tuple[str, str, str], RuleQuality] = {}
    for d in decisions:
        key = (d.item, d.camera, d.rule_version)
        row = rows.setdefault(key, RuleQuality(*key))
        if d.missed:
            row.missed += 1
        elif d.status is EventStatus.CONFIRMED:
            row.confirmed += 1
        elif d.status is EventStatus.DISMISSED:
            row.dismissed += 1
            row.reasons[d.reason.strip() or "(未填写)"] += 1
        else:
            row.pending += 1
    return [rows[k] for k in sorted(rows)]


def precision_text(row: RuleQuality) -> str:
    """``25% (11%–47%)``, or ``—`` before any review."""
    if row.precision is None:
        return "—"
    lo, hi = row.interval
    return f"{row.precision:.0%} ({lo:.0%}–{hi:.0%})"


def reasons_text(row: RuleQuality) -> str:
    """Dismissal reasons, most frequent first: ``误报 ×9; 顾客 ×3``."""
    return "; ".join(f"{reason} ×{n}" for reason, n in row.reasons.most_common())
