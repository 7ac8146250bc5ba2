"""The result of one evaluation: per item and method, totals, the targets, as a table and JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table

from api.eval.labels import ItemKind, LabelSet
from api.eval.metrics import Tally
from api.eval.score import ItemScore

PIPELINE = "pipeline"
BASELINE = "baseline"
METHODS = (PIPELINE, BASELINE)
SCOPES = (("clips", ItemKind.CLIP), ("stills", ItemKind.STILL), ("all", None))
"""Totals reported: per kind of item, then over all."""

EVENT_F1_TARGET = 0.9
"""Per-item presence-event F1 the issue asks for."""
COUNT_TARGET = 0.9
"""Share of labelled samples whose person count must be exact."""
SEATED_DECIDED_TARGET = 0.8
"""Share of visible seated people whose seated flag must be decided."""


@dataclass(frozen=True)
class ItemResult:
    """Both methods' figures on one item."""

    id: str
    kind: ItemKind
    scores: dict[str, ItemScore]


@dataclass(frozen=True)
class Target:
    """One acceptance figure: the pipeline's value, the baseline's, and whether it is met."""

    name: str
    pipeline: float | None
    baseline: float | None
    goal: float
    met: bool
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pipeline": self.pipeline,
            "baseline": self.baseline,
            "goal": self.goal,
            "met": self.met,
            "note": self.note,
        }


@dataclass(frozen=True)
class EvalResult:
    """Everything one ``branchwatch eval`` run measured."""

    labels: LabelSet
    settings: dict[str, Any]
    items: list[ItemResult]

    def total(self, method: str, kind: ItemKind | None = None) -> ItemScore:
        total = ItemScore()
        for item in self.items:
            if kind is None or item.kind is kind:
                total = total + item.scores[method]
        return total

    def targets(self) -> list[Target]:
        out: list[Target] = []
        with_events = [i for i in self.items if i.scores[PIPELINE].events]
        if with_events:
            low = [
                i.id
                for i in with_events
                if i.scores[PIPELINE].event_total.f1 < EVENT_F1_TARGET
                or i.scores[PIPELINE].event_total.f1 < i.scores[BASELINE].event_total.f1
            ]
            worst = {m: min(i.scores[m].event_total.f1 for i in with_events) for m in METHODS}
            out.append(
                Target(
                    "per-item presence event F1 (lowest item)",
                    round(worst[PIPELINE], 4),
                    round(worst[BASELINE], 4),
                    EVENT_F1_TARGET,
                    not low,
                    f"below goal or baseline: {', '.join(low)}" if low else "",
                )
            )
        out.append(self._tally_target("person count exact", "count", COUNT_TARGET))
        out.append(
            self._tally_target("seated people decided", "seated_decided", SEATED_DECIDED_TARGET)
        )
        return out

    def _tally_target(self, name: str, attr: str, goal: float) -> Target:
        mine: Tally = getattr(self.total(PIPELINE), attr)
        theirs: Tally = getattr(self.total(BASELINE), attr)
        p = mine.rate
        b = theirs.rate
        met = p is not None and p >= goal and (b is None or p >= b)
        return Target(
            name,
            None if p is None else round(p, 4),
            None if b is None else round(b, 4),
            goal,
            met,
            f"{mine.right}/{mine.n} samples" if mine.n else "nothing labelled",
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "set": self.labels.name,
            "tolerance": self.labels.tolerance.model_dump(),
            "settings": self.settings,
            "items": [
                {"id": i.id, "kind": i.kind.value, **{m: i.scores[m].as_dict() for m in METHODS}}
                for i in self.items
            ],
            "totals": {
                scope: {m: self.total(m, kind).as_dict() for m in METHODS} for scope, kind in SCOPES
            },
            "targets": [t.as_dict() for t in self.targets()],
        }


def _pct(t: Tally) -> str:
    rate = t.rate
    return "—" if rate is None else f"{100 * rate:.0f}%"


def _pair(p: str, b: str) -> str:
    return f"{p} | {b}"


def _row(name: str, kind: str, p: ItemScore, b: ItemScore) -> list[str]:
    if p.failed:
        return [name, kind, f"failed: {p.failed}", "", "", "", "", "", ""]
    pe, be = p.event_total, b.event_total
    has_events = bool(p.events)
    err = pe.boundary_err_s
    return [
        name,
        kind,
        _pair(f"{pe.f1:.2f}", f"{be.f1:.2f}") if has_events else "—",
        (f"{pe.precision:.2f}/{pe.recall:.2f}" if has_events else "—"),
        "—" if err is None else f"{err:.1f}",
        _pair(_pct(p.count), _pct(b.count)),
        _pair(_pct(p.found), _pct(b.found)),
        _pct(p.seated_decided),
        _pct(p.posture),
    ]


def result_table(result: EvalResult) -> Table:
    """Per item and totals; ``a | b`` cells give the pipeline, then the naive baseline."""
    tol = result.labels.tolerance.boundary_s
    table = Table(
        title=f"branchwatch eval — {result.labels.name}: pipeline | naive baseline; events "
        f"match when both ends are within {tol:g} s; posture: pipeline only"
    )
    for col in (
        "item",
        "kind",
        "event F1",
        "P/R",
        "boundary err s",
        "count exact",
        "people found",
        "seated decided",
        "posture right",
    ):
        table.add_column(col)
    for item in result.items:
        table.add_row(*_row(item.id, item.kind.value, item.scores[PIPELINE], item.scores[BASELINE]))
    for scope, kind in SCOPES:
        table.add_row(
            *_row(
                f"[b]{scope}[/b]", "", result.total(PIPELINE, kind), result.total(BASELINE, kind)
            ),
            end_section=scope == "all",
        )
    return table


def targets_table(result: EvalResult) -> Table:
    """The acceptance figures, met or not."""
    table = Table(title="targets (pipeline against goal and naive baseline)")
    for col in ("figure", "pipeline", "baseline", "goal", "met", "note"):
        table.add_column(col)
    for t in result.targets():
        table.add_row(
            t.name,
            "—" if t.pipeline is None else f"{t.pipeline:.2f}",
            "—" if t.baseline is None else f"{t.baseline:.2f}",
            f"≥ {t.goal:.2f}",
            "yes" if t.met else "[red]no[/red]",
            t.note,
        )
    return table
