"""Scoring: confirmed events become deductions, scores, money, ranks and bands.

Input is a sequence of :class:`ScoredEvent` records (item, branch, start, review status, event
key). Only confirmed events count; ``preview=True`` also counts pending ones and marks every
scorecard as a preview. Per branch and period the scheme gives:

* deductions per item: occurrences × points, capped per item, table line (group) and
  category, never below the scheme's minimum score;
* money: charged points × 元/point (the repeat rate for 同样问题再犯), plus fines per
  occurrence, × the focus multiplier for 重点整治 items;
* stage target check: the target of the stage the period lies in, and for a stage period the
  stage formula (e.g. ``1000 + (target - score) * 200``) when the score falls short;
* ranking among the branches scored together and reward/penalty bands.

Results are frozen dataclasses; :mod:`rules.score_table` flattens them for table, JSON or CSV
output.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from rules.coverage import MANUAL_RULE_VERSION, ManualItem, counts, video_items
from rules.formula import Formula
from rules.periods import Period
from rules.standard import FORMULA_NAMES, Band, Catalog, Scheme, Stage, load_catalog
from rules.types import Event, EventStatus

logger = logging.getLogger(__name__)

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class ScoredEvent:
    """What scoring needs of an event: its item, branch, start, review status and key, and
    whether a supervisor recorded it by hand (a manual finding, see :mod:`rules.coverage`)."""

    item: str
    branch: str
    start: datetime
    status: EventStatus
    key: str
    manual: bool = False

    @classmethod
    def from_event(cls, event: Event, status: EventStatus) -> ScoredEvent:
        return cls(
            event.item,
            event.branch,
            event.start,
            status,
            event.key,
            event.rule_version == MANUAL_RULE_VERSION,
        )


@dataclass(frozen=True, slots=True)
class Deduction:
    """Points and money one item costs a branch in a period, with the events behind them."""

    item: str
    name: str
    category: str
    group: str | None
    occurrences: int
    repeats: int
    focus: bool
    points: float
    money: float
    event_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StageCheck:
    """The stage target for the period and, for a stage period, the shortfall penalty."""

    stage: str
    target: float
    met: bool
    exempt: bool
    penalty: float


@dataclass(frozen=True, slots=True)
class BandResult:
    """A reward or penalty band a branch falls in (``amount`` None: not quantified)."""

    name: str
    kind: str
    amount: float | None


@dataclass(frozen=True, slots=True)
class RankEntry:
    branch: str
    score: float
    rank: int
    rank_from_bottom: int


@dataclass(frozen=True, slots=True)
class Ranking:
    """Branches of one period by score (1 = best; ties share a rank)."""

    period: Period
    entries: tuple[RankEntry, ...]

    def of(self, branch: str) -> RankEntry:
        for entry in self.entries:
            if entry.branch == branch:
                return entry
        raise KeyError(f"branch {branch!r} is not ranked in {self.period.label}")


@dataclass(frozen=True, slots=True)
class Scorecard:
    """A branch's result for a period under a scheme."""

    branch: str
    period: Period
    scheme: str
    preview: bool
    base: float
    score: float
    deducted: float
    deductions: tuple[Deduction, ...]
    item_money: float
    stage: StageCheck | None
    rank: int | None
    rank_from_bottom: int | None
    branches: int
    bands: tuple[BandResult, ...]
    manual: tuple[ManualItem, ...] = ()
    """Items of the scheme checked by hand (人工检查项), with the manual findings charged."""

    @property
    def penalty_total(self) -> float:
        """元 owed: item money, stage penalty and quantified penalty bands."""
        stage = self.stage.penalty if self.stage else 0.0
        bands = sum(b.amount or 0.0 for b in self.bands if b.kind == "penalty")
        return self.item_money + stage + bands

    @property
    def reward_total(self) -> float:
        return sum(b.amount or 0.0 for b in self.bands if b.kind == "reward")


_PRECEDENCE = {EventStatus.DISMISSED: 2, EventStatus.CONFIRMED: 1, EventStatus.PENDING: 0}


def _unique(records: Iterable[ScoredEvent]) -> list[ScoredEvent]:
    """One record per event key; if copies disagree, a dismissal wins, then a confirmation."""
    best: dict[str, ScoredEvent] = {}
    for rec in records:
        old = best.get(rec.key)
        if old is None or _PRECEDENCE[rec.status] > _PRECEDENCE[old.status]:
            best[rec.key] = rec
    return list(best.values())


def _counted(status: EventStatus, preview: bool) -> bool:
    return status == EventStatus.CONFIRMED or (preview and status == EventStatus.PENDING)


def _scope_key(scheme: Scheme, day: date, period: Period) -> tuple[int, str]:
    scope = scheme.money.repeat_scope
    if scope == "year":
        return day.year, ""
    if scope == "stage":
        stage = scheme.stage_of_month(day.month)
        return day.year, stage.name if stage else ""
    return 0, period.label


def _repeat_flags(
    records: Sequence[ScoredEvent], scheme: Scheme, period: Period, zone: Callable[[str], ZoneInfo]
) -> dict[str, bool]:
    """Per event key: whether it repeats a problem already found in its repeat scope."""
    first: dict[tuple[str, str, tuple[int, str]], tuple[date, str]] = {}
    out: dict[str, bool] = {}
    for rec in records:
        day = rec.start.astimezone(zone(rec.branch)).date()
        if scheme.money.repeat_scope == "period" and day < period.start:
            continue
        k = (rec.branch, rec.item, _scope_key(scheme, day, period))
        if k not in first:
            first[k] = (day, rec.key)
            out[rec.key] = False
        elif scheme.money.repeat_unit == "day":
            out[rec.key] = day > first[k][0]
        else:
            out[rec.key] = True
    return out


def _deductions(
    records: Sequence[ScoredEvent],
    repeats: dict[str, bool],
    scheme: Scheme,
    catalog: Catalog,
    focus: frozenset[str],
) -> tuple[Deduction, ...]:
    """Charge a branch's in-period records in time order against the caps."""
    left_item = {c: (i.cap if i.cap is not None else float("inf")) for c, i in scheme.items.items()}
    left_group = dict(scheme.group_caps)
    left_cat: dict[str, float] = {str(k): v for k, v in scheme.category_caps.items()}
    left_total = scheme.base_score - scheme.min_score
    acc: dict[str, dict[str, Any]] = {}
    for rec in records:
        item = scheme.items.get(rec.item)
        if item is None:
            continue
        spec = catalog.items[rec.item]
        limits = [item.points, left_item[rec.item], left_total]
        if item.group in left_group:
            limits.append(left_group[item.group])
        if spec.category in left_cat:
            limits.append(left_cat[spec.category])
        charged = max(0.0, min(limits))
        left_item[rec.item] -= charged
        left_total -= charged
        if item.group in left_group:
            left_group[item.group] -= charged
        if spec.category in left_cat:
            left_cat[spec.category] -= charged
        repeat = repeats.get(rec.key, False)
        rate = scheme.money.per_point
        if repeat and scheme.money.repeat_per_point is not None:
            rate = scheme.money.repeat_per_point
        money = charged * rate + item.money_per_occurrence
        if rec.item in focus:
            money *= scheme.money.focus_multiplier
        a = acc.setdefault(rec.item, {"n": 0, "rep": 0, "pts": 0.0, "money": 0.0, "keys": []})
        a["n"] += 1
        a["rep"] += int(repeat)
        a["pts"] += charged
        a["money"] += money
        a["keys"].append(rec.key)
    return tuple(
        Deduction(
            item=code,
            name=catalog.items[code].name,
            category=catalog.items[code].category,
            group=scheme.items[code].group,
            occurrences=a["n"],
            repeats=a["rep"],
            focus=code in focus,
            points=round(a["pts"], 6),
            money=round(a["money"], 2),
            event_keys=tuple(a["keys"]),
        )
        for code, a in sorted(acc.items())
    )


def _period_stage(scheme: Scheme, period: Period) -> Stage | None:
    stages = {id(scheme.stage_of_month(m)) for m in period.months}
    if len(stages) != 1:
        return None
    return scheme.stage_of_month(period.months[0])


def _ranking(period: Period, scores: dict[str, float]) -> Ranking:
    values = sorted(scores.values())
    entries = [
        RankEntry(
            branch=b,
            score=s,
            rank=1 + sum(v > s for v in values),
            rank_from_bottom=1 + sum(v < s for v in values),
        )
        for b, s in scores.items()
    ]
    entries.sort(key=lambda e: (e.rank, e.branch))
    return Ranking(period=period, entries=tuple(entries))


def _band_applies(band: Band, period: Period, stage: Stage | None, rank: RankEntry) -> bool:
    if period.kind not in band.periods:
        return False
    if band.stages is not None and (stage is None or stage.name not in band.stages):
        return False
    if band.rank_from_top and not band.rank_from_top[0] <= rank.rank <= band.rank_from_top[1]:
        return False
    lo_hi = band.rank_from_bottom
    return not (lo_hi and not lo_hi[0] <= rank.rank_from_bottom <= lo_hi[1])


def score_period(
    records: Iterable[ScoredEvent],
    scheme: Scheme,
    period: Period,
    *,
    branches: Collection[str] | None = None,
    tz: ZoneInfo | Mapping[str, ZoneInfo] = DEFAULT_TZ,
    preview: bool = False,
    focus: Collection[str] | None = None,
    catalog: Catalog | None = None,
    video: Mapping[str, Collection[str]] | None = None,
) -> tuple[tuple[Scorecard, ...], Ranking]:
    """Score every branch for a period and rank them.

    An item of the scheme that no rule checks on video (``video``) is a manual item
    (人工检查项): only manual findings count for it, and each scorecard lists it.

    Args:
        records: Scored-event records; may reach back before the period (earlier ones only
            decide repeats) and include other statuses (ignored). Records sharing a key are
            one event (a dismissal among them wins, then a confirmation).
        scheme: The scoring scheme.
        period: The period (local dates in ``tz``).
        branches: Branches to score (those without findings score the base); default the
            branches that appear in ``records``.
        tz: Time zone of the branches' local dates, or each branch's by branch id (a branch
            not listed: :data:`DEFAULT_TZ`).
        preview: Count pending events too; every scorecard is then marked as a preview.
        focus: Focus-list item codes for this period (default: the scheme's list).
        catalog: Item catalogue (default: the built-in one).
        video: Items checked on video per branch (as stored from each branch's configuration);
            a branch not in it: every registered rule's item (:func:`rules.coverage.video_items`).

    Returns:
        ``(scorecards sorted by rank then branch, ranking)``.

    Example:
        >>> from rules.standard import load_scheme
        >>> from rules.periods import parse_period
        >>> cards, ranking = score_period([], load_scheme("psbc"), parse_period("2026-S2"),
        ...                               branches=["b1"])
        >>> cards[0].score
        100.0
    """
    catalog = catalog or load_catalog()
    every = video_items(catalog=catalog)
    video_of = {b: frozenset(items) for b, items in (video or {}).items()}

    def zone(branch: str) -> ZoneInfo:
        return tz.get(branch, DEFAULT_TZ) if isinstance(tz, Mapping) else tz

    focus_set = frozenset(scheme.money.focus_items if focus is None else focus)
    counted = sorted(
        (
            r
            for r in _unique(records)
            if _counted(r.status, preview)
            and r.start.astimezone(zone(r.branch)).date() < period.end
            and counts(r.item, r.manual, video_of.get(r.branch, every))
        ),
        key=lambda r: (r.start, r.key),
    )
    repeats = _repeat_flags(counted, scheme, period, zone)
    in_period: dict[str, list[ScoredEvent]] = defaultdict(list)
    for rec in counted:
        if period.contains(rec.start, zone(rec.branch)):
            in_period[rec.branch].append(rec)
    names = sorted(set(branches) if branches is not None else set(in_period))
    found = {
        b: _deductions(in_period.get(b, []), repeats, scheme, catalog, focus_set) for b in names
    }
    scores = {
        b: max(scheme.min_score, round(scheme.base_score - sum(d.points for d in ds), 6))
        for b, ds in found.items()
    }
    ranking = _ranking(period, scores)
    stage = _period_stage(scheme, period)
    cards = []
    for b in names:
        entry = ranking.of(b)
        ds = found[b]
        item_money = round(sum(d.money for d in ds), 2)
        env = {
            "score": scores[b],
            "target": stage.target if stage else scheme.base_score,
            "base": scheme.base_score,
            "deducted": round(scheme.base_score - scores[b], 6),
            "money": item_money,
            "rank": float(entry.rank),
            "rank_from_bottom": float(entry.rank_from_bottom),
            "branches": float(len(names)),
        }
        check = _stage_check(scheme, period, stage, env, len(names), entry.rank)
        bands = tuple(
            BandResult(
                name=band.name,
                kind=band.kind,
                amount=round(_eval(band.amount, env), 2) if band.amount else None,
            )
            for band in scheme.bands
            if _band_applies(band, period, stage, entry)
            and (not band.when or _eval(band.when, env))
        )
        cards.append(
            Scorecard(
                branch=b,
                period=period,
                scheme=scheme.id,
                preview=preview,
                base=scheme.base_score,
                score=scores[b],
                deducted=env["deducted"],
                deductions=ds,
                item_money=item_money,
                stage=check,
                rank=entry.rank,
                rank_from_bottom=entry.rank_from_bottom,
                branches=len(names),
                bands=bands,
                manual=_manual_items(scheme, catalog, video_of.get(b, every), ds),
            )
        )
    cards.sort(key=lambda c: (c.rank or 0, c.branch))
    return tuple(cards), ranking


def _manual_items(
    scheme: Scheme, catalog: Catalog, video: frozenset[str], found: tuple[Deduction, ...]
) -> tuple[ManualItem, ...]:
    charged = {d.item: d.occurrences for d in found}
    return tuple(
        ManualItem(
            item=code,
            name=catalog.items[code].name,
            points=item.points,
            group=item.group,
            findings=charged.get(code, 0),
        )
        for code, item in scheme.items.items()
        if code not in video
    )


@cache
def _formula(text: str) -> Formula:
    return Formula.parse(text, FORMULA_NAMES)


def _eval(text: str, env: dict[str, float]) -> float:
    return _formula(text)(env)


def _stage_check(
    scheme: Scheme,
    period: Period,
    stage: Stage | None,
    env: dict[str, float],
    pool: int,
    rank: int,
) -> StageCheck | None:
    """Target check; the shortfall formula applies to stage periods only.

    ``stage_exempt_top`` (e.g. 前200名不考核) applies only when more branches than that are
    ranked together; in a smaller pool it would exempt everyone.
    """
    if stage is None:
        return None
    met = env["score"] >= stage.target
    exempt = (
        scheme.stage_exempt_top is not None
        and pool > scheme.stage_exempt_top
        and (rank <= scheme.stage_exempt_top)
    )
    penalty = 0.0
    if period.kind == "stage" and not met and not exempt and stage.formula:
        penalty = round(max(0.0, _eval(stage.formula, env)), 2)
    return StageCheck(
        stage=stage.name, target=stage.target, met=met, exempt=exempt, penalty=penalty
    )
