"""Vectorised helpers that turn per-sample or per-person-sample flags into runs of time.

Every rule follows the same path: decide, for each sample (or each person row), whether the
item is violated *and looked at*; join consecutive flagged points into runs, tolerating short
interruptions (``merge_gap_s``) but never bridging time that was not looked at (a coverage
gap); keep runs that last long enough; drop repeats within a cool-down.

"Looked at" means inside ``timeline.coverage`` and inside business hours. Samples held by the
motion gate (``inferred=False``) are looked at: the view did not change, so the last
inference still holds (:func:`hold_forward`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from rules.registry import RuleContext
from vision.timeline import ObservationTimeline

logger = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]

G = TypeVar("G", bound=np.generic)

JOIN_FACTOR = 1.5
"""Consecutive samples closer than this many sampling intervals belong to one run."""


@dataclass(frozen=True)
class Runs:
    """Runs of flagged points, as parallel arrays (one row per run).

    Attributes:
        start: Time (UTC epoch) of the first flagged point.
        end: End of the run: last flagged point plus one sampling interval, capped at the
            end of the coverage segment it lies in.
        first: Index (into the arrays given to :func:`find_runs`) of the first point.
        last: Index of the last point.
        group: Group of the run (track id, zone index, or 0).
    """

    start: F64
    end: F64
    first: I64
    last: I64
    group: I64

    def __len__(self) -> int:
        return len(self.start)

    @property
    def duration(self) -> F64:
        return self.end - self.start

    def select(self, mask: Bool) -> Runs:
        """The runs where ``mask`` is true."""
        return Runs(
            self.start[mask], self.end[mask], self.first[mask], self.last[mask], self.group[mask]
        )

    @classmethod
    def empty(cls) -> Runs:
        f = np.zeros(0, np.float64)
        i = np.zeros(0, np.int64)
        return cls(f, f.copy(), i, i.copy(), i.copy())


def hold_forward(values: npt.NDArray[G], inferred: Bool) -> npt.NDArray[G]:
    """Repeat each inferred sample's value over the held samples that follow it.

    Args:
        values: Per-sample values, shape ``(T, ...)``.
        inferred: Per-sample flag, ``False`` where the motion gate held the previous result.

    Returns:
        Values where every held sample carries the value of the last inferred sample before
        it (held samples before any inferred one keep their own value).

    Example:
        >>> hold_forward(np.array([1, 0, 0, 5]), np.array([True, False, False, True]))
        array([1, 1, 1, 5])
    """
    idx = np.where(inferred, np.arange(len(inferred)), -1)
    idx = np.maximum.accumulate(idx) if len(idx) else idx
    idx = np.where(idx < 0, np.arange(len(inferred)), idx)
    return values[idx]


def coverage_segments(coverage: F64, ts: F64, tolerance_s: float) -> tuple[I64, F64]:
    """Which stretch of continuous footage each time belongs to.

    Coverage intervals closer than ``tolerance_s`` are joined first (a one-second hole
    between two exported files is not a gap).

    Args:
        coverage: ``(K, 2)`` sorted ``[start, end)`` intervals.
        ts: Times to place.
        tolerance_s: Largest hole that does not split footage.

    Returns:
        ``(segment, segment_end)``: per time the index of its joined segment (``-1`` outside
        coverage) and the end time of that segment (``nan`` outside).
    """
    if len(coverage) == 0:
        return np.full(len(ts), -1, np.int64), np.full(len(ts), np.nan)
    cov = coverage[np.argsort(coverage[:, 0], kind="stable")]
    reach = np.maximum.accumulate(cov[:, 1])
    new = np.ones(len(cov), bool)
    new[1:] = cov[1:, 0] > reach[:-1] + tolerance_s
    seg_of_interval = np.cumsum(new) - 1
    seg_end = np.maximum.reduceat(cov[:, 1], np.flatnonzero(new))
    j = np.searchsorted(cov[:, 0], ts, side="right") - 1
    inside = j >= 0
    inside[inside] = ts[inside] < reach[j[inside]]
    segment = np.where(inside, seg_of_interval[np.clip(j, 0, None)], -1).astype(np.int64)
    ends = np.where(inside, seg_end[np.clip(segment, 0, None)], np.nan)
    return segment, ends


def looked_at(timeline: ObservationTimeline, ctx: RuleContext) -> tuple[Bool, I64, F64]:
    """Per sample: looked at (covered and in business hours), its segment and segment end."""
    segment, seg_end = coverage_segments(
        timeline.coverage, timeline.ts, JOIN_FACTOR * ctx.interval_s
    )
    looked = (segment >= 0) & ctx.hours.mask(timeline.ts, ctx.tz)
    return looked, segment, seg_end


def find_runs(
    t: F64,
    flag: Bool,
    segment: I64,
    segment_end: F64,
    *,
    interval_s: float,
    merge_gap_s: float = 0.0,
    group: I64 | None = None,
    inferred_count: I64 | None = None,
) -> Runs:
    """Join flagged points into runs.

    Points must be sorted by ``(group, t)``. Two consecutive flagged points of one group and
    one coverage segment join when they are at most ``1.5 × interval_s + merge_gap_s`` apart
    (short interruptions are tolerated), or when ``inferred_count`` shows that no inferred
    sample lies between them (only samples held by the motion gate, which repeat the view).

    Args:
        t: Time of each point (UTC epoch).
        flag: Whether the point is a violation that was looked at.
        segment: Coverage segment of each point (``-1``: not looked at; never flagged).
        segment_end: End of each point's coverage segment (caps run ends).
        interval_s: Sampling interval.
        merge_gap_s: Longest interruption that does not split a run.
        group: Group of each point (default: all one group).
        inferred_count: For each point, the number of inferred samples up to and including
            its sample (``cumsum(timeline.inferred)`` at the point's sample).

    Returns:
        The runs, in input order.

    Example:
        >>> t = np.arange(6, dtype=float) * 2
        >>> flag = np.array([1, 1, 0, 1, 1, 1], bool)
        >>> seg = np.zeros(6, np.int64)
        >>> r = find_runs(t, flag, seg, np.full(6, 99.0), interval_s=2.0)
        >>> r.start.tolist(), r.end.tolist()
        ([0.0, 6.0], [4.0, 12.0])
    """
    grp = np.zeros(len(t), np.int64) if group is None else group
    idx = np.flatnonzero(flag & (segment >= 0))
    if len(idx) == 0:
        return Runs.empty()
    tt, ss, gg = t[idx], segment[idx], grp[idx]
    joins = (
        (np.diff(tt) <= JOIN_FACTOR * interval_s + merge_gap_s)
        & (ss[1:] == ss[:-1])
        & (gg[1:] == gg[:-1])
    )
    if inferred_count is not None:
        cc = inferred_count[idx]
        joins |= (np.diff(cc) <= 1) & (ss[1:] == ss[:-1]) & (gg[1:] == gg[:-1])
    starts = np.concatenate([[0], np.flatnonzero(~joins) + 1])
    ends = np.concatenate([starts[1:] - 1, [len(idx) - 1]])
    first, last = idx[starts], idx[ends]
    run_end = np.minimum(t[last] + interval_s, segment_end[last])
    return Runs(
        start=t[first].astype(np.float64),
        end=np.maximum(run_end, t[last]).astype(np.float64),
        first=first.astype(np.int64),
        last=last.astype(np.int64),
        group=grp[first].astype(np.int64),
    )


def apply_cooldown(runs: Runs, cooldown_s: float) -> Bool:
    """Which runs to keep: drop those starting within ``cooldown_s`` after the end of the
    previous kept run of their group."""
    keep = np.ones(len(runs), bool)
    if len(runs) < 2 or cooldown_s <= 0:
        return keep
    last_end: dict[int, float] = {}
    for i in np.argsort(runs.start, kind="stable"):
        g = int(runs.group[i])
        if g in last_end and runs.start[i] < last_end[g] + cooldown_s:
            keep[i] = False
            continue
        last_end[g] = float(runs.end[i])
    return keep


def track_order(timeline: ObservationTimeline, mask: Bool) -> I64:
    """Indices of the person rows selected by ``mask``, sorted by (track id, sample)."""
    rows = np.flatnonzero(mask)
    order = np.lexsort((timeline.sample[rows], timeline.track_id[rows]))
    return rows[order].astype(np.int64)


def track_runs(
    timeline: ObservationTimeline,
    ctx: RuleContext,
    rows_mask: Bool,
    flag: Bool,
    *,
    merge_gap_s: float,
    min_duration_s: float,
) -> tuple[Runs, I64]:
    """Runs per track of a per-person-row flag, in looked-at time only.

    Args:
        timeline: The camera's timeline.
        ctx: Rule context (hours, interval).
        rows_mask: Person rows to consider (e.g. guards).
        flag: Per person row, whether the row shows the violation.
        merge_gap_s: Longest interruption that does not split a run.
        min_duration_s: Shortest run kept.

    Returns:
        ``(runs, rows)``: the runs (group = track id; ``first``/``last`` index into ``rows``)
        and the person-row indices they refer to, sorted by (track, sample).
    """
    rows = track_order(timeline, rows_mask)
    looked, segment, seg_end = looked_at(timeline, ctx)
    samples = timeline.sample[rows]
    runs = find_runs(
        timeline.ts[samples],
        flag[rows] & looked[samples],
        segment[samples],
        seg_end[samples],
        interval_s=ctx.interval_s,
        merge_gap_s=merge_gap_s,
        group=timeline.track_id[rows],
        inferred_count=np.cumsum(timeline.inferred, dtype=np.int64)[samples],
    )
    return runs.select(runs.duration >= min_duration_s), rows


def column_runs(
    timeline: ObservationTimeline,
    ctx: RuleContext,
    flags: Bool,
    *,
    merge_gap_s: float,
    min_duration_s: float,
    hold: bool = True,
) -> Runs:
    """Runs of each column of a per-sample flag matrix ``(T, C)`` (e.g. one column per zone).

    Held samples repeat the last inferred sample (unless ``hold`` is false: flags measured on
    every sample, such as screens); time not looked at never counts.

    Returns:
        Runs whose ``group`` is the column index (``first``/``last`` index the flattened
        column-major matrix, i.e. ``column * T + sample``).
    """
    t, c = flags.shape
    if c == 0 or t == 0:
        return Runs.empty()
    looked, segment, seg_end = looked_at(timeline, ctx)
    held = (hold_forward(flags, timeline.inferred) if hold else flags) & looked[:, None]
    runs = find_runs(
        np.tile(timeline.ts, c),
        held.T.reshape(-1),
        np.tile(segment, c),
        np.tile(seg_end, c),
        interval_s=ctx.interval_s,
        merge_gap_s=merge_gap_s,
        group=np.repeat(np.arange(c, dtype=np.int64), t),
    )
    return runs.select(runs.duration >= min_duration_s)


def uncovered(
    wanted: npt.NDArray[np.float64], coverage: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Parts of the ``wanted`` intervals that no ``coverage`` interval covers.

    Example:
        >>> uncovered(np.array([[0.0, 10.0]]), np.array([[2.0, 4.0], [6.0, 7.0]])).tolist()
        [[0.0, 2.0], [4.0, 6.0], [7.0, 10.0]]
    """
    cov = coverage[np.argsort(coverage[:, 0], kind="stable")] if len(coverage) else coverage
    out: list[tuple[float, float]] = []
    for a, b in wanted:
        cursor = float(a)
        for s, e in cov:
            if e <= cursor or s >= b:
                continue
            if s > cursor:
                out.append((cursor, float(s)))
            cursor = max(cursor, float(e))
            if cursor >= b:
                break
        if cursor < b:
            out.append((cursor, float(b)))
    return np.array(out, np.float64).reshape(-1, 2)
